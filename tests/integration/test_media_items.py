"""Media items on a real SQLite catalog: the one aggregate query counts exactly as the domain
does, migration 0008 backfills a catalog made at 0007 (and steps back keeping its guards), and
enrichment moves an asset to the item its nfo names."""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from consumer.adapters.db import migrate
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.db.media import MediaRepository
from consumer.adapters.db.tables import metadata
from consumer.adapters.enrichers.sidecars import SidecarsEnricher
from consumer.domain.assets import FileFacts
from consumer.domain.media_info import media_metadata
from consumer.domain.media_items import asset_category, progress_of
from consumer.service_layer.apply import FilePresent, apply_changes
from consumer.service_layer.enrichment import Enrichment, EnrichmentPolicy, Scope
from consumer.service_layer.media import list_media, show_media
from tests.integration.enrichment.helpers import make_collection, observe

pytestmark = pytest.mark.integration

T = "2026-12-01 12:00:00.000000"
STATES = ("new", "enriching", "ready", "retired")
JOBS = (None, "pending", "in_progress", "completed", "failed")


def raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


async def test_the_aggregate_counts_as_the_domain_does(
    engine: AsyncEngine, catalog_path: Path
) -> None:
    """Every combination of state, approval, deletion and latest job, one item each (the schema
    without the migrations' guards, so any row can be written)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    combos = [
        (state, approved, deleted, job)
        for state, approved, deleted, job in itertools.product(
            STATES, (False, True), (False, True), JOBS
        )
        if not approved or (state == "ready" and not deleted)  # the CHECKs that stay
    ]
    with raw(catalog_path) as db:
        db.execute(
            "INSERT INTO sources (uuid, name, type, created_at, updated_at) "
            f"VALUES ('s', 'Local', 'filesystem', '{T}', '{T}')"
        )
        db.execute(
            "INSERT INTO collections (uuid, source_uuid, name, root_path, created_at, "
            f"updated_at) VALUES ('c', 's', 'Films', '/m', '{T}', '{T}')"
        )
        for n, (state, approved, deleted, job) in enumerate(combos):
            db.execute(
                "INSERT INTO media_items (uuid, collection_uuid, media_type, name, safe_name, "
                "item_key, created_at, updated_at) VALUES (?, 'c', 'movie', ?, ?, ?, ?, ?)",
                (f"i{n:03d}", f"Film {n}", f"film-{n:03d}", f"movie:film-{n}::", T, T),
            )
            db.execute(
                "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns,"
                " content_signature, enricher_checksum, state, approved_for_broadcast,"
                " is_deleted, discovered_at, created_at, updated_at, media_item_id)"
                " VALUES (?, 'c', ?, '/m/x', 1, 1, 'sig', 'chk', ?, ?, ?, ?, ?, ?, ?)",
                (f"a{n}", f"f{n}.mkv", state, approved, deleted, T, T, T, f"i{n:03d}"),
            )
            if job is not None:
                # An older job that says otherwise: only the latest counts.
                for k, (queued, status) in enumerate(
                    (("2026-11-01 00:00:00.000000", "failed"), (T, job))
                ):
                    db.execute(
                        "INSERT INTO jobs (uuid, asset_uuid, status, queued_at, "
                        "content_signature, enricher_checksum) VALUES (?, ?, ?, ?, 'sig', 'chk')",
                        (f"j{n}-{k}", f"a{n}", status, queued),
                    )
        db.execute(
            "INSERT INTO media_items (uuid, collection_uuid, media_type, name, safe_name, "
            "item_key, season, created_at, updated_at) "
            "VALUES ('wanted', 'c', 'tv', 'Firefly', 'firefly', 'tv:firefly:1:', 1, ?, ?)",
            (T, T),
        )
    async with engine.connect() as conn:
        tallies = await MediaRepository(conn).tallies()
    by_id = {t.item.id: t for t in tallies}
    assert len(by_id) == len(combos) + 1
    for n, (state, approved, deleted, job) in enumerate(combos):
        tally = by_id[f"i{n:03d}"]
        expected = progress_of([asset_category(state, approved, deleted, job)])
        assert tally.progress == expected, (state, approved, deleted, job)
        undecided = state in ("new", "enriching") and not deleted
        assert tally.open_jobs == (undecided and job in ("pending", "in_progress"))
        assert tally.last_change == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert by_id["wanted"].progress.waiting_for_files
    assert by_id["wanted"].item.label == "Firefly S01"


def seed_0007(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO sources (uuid, name, type, created_at, updated_at) "
        f"VALUES ('s', 'Local', 'filesystem', '{T}', '{T}')"
    )
    for uuid, name, media_type in (("tv", "TV", None), ("ads", "Ads", "other")):
        db.execute(
            "INSERT INTO collections (uuid, source_uuid, name, root_path, media_type, "
            "created_at, updated_at) VALUES (?, 's', ?, ?, ?, ?, ?)",
            (uuid, name, f"/m/{uuid}", media_type, T, T),
        )
    assets = {
        "e1": ("tv", "Firefly/Season 01/Firefly - S01E01.mkv"),
        "e2": ("tv", "Firefly/Season 01/Firefly - S01E02.mkv"),
        "f1": ("tv", "Alien (1979)/Alien (1979).mkv"),
        "r1": ("tv", "Some.Release.mkv"),  # its nfo says Heat (1995)
        "m1": ("tv", "Music/Artist/Album/01 - Song.flac"),
        "ad": ("ads", "Coke (1999).mkv"),
    }
    for uuid, (collection, key) in assets.items():
        tech = json.dumps(media_metadata_of(key))
        db.execute(
            "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns,"
            " content_signature, enricher_checksum, tech_metadata, discovered_at, created_at,"
            " updated_at) VALUES (?, ?, ?, '/x', 1, 1, 'sig', 'chk', ?, ?, ?, ?)",
            (uuid, collection, key, tech, T, T, T),
        )
    db.execute(
        "INSERT INTO asset_history (asset_uuid, decision, reason, time) "
        f"VALUES ('e1', 'create', 'first seen', '{T}')"
    )
    # r1 was enriched: sidecars first (the nfo), then filename; and once before, for other
    # content (that result does not count).
    for job, signature, enricher, fields in (
        ("old", "other", "sidecars", {"title": "Ronin", "year": 1998, "type": "movie"}),
        ("new", "sig", "sidecars", {"title": "Heat", "year": 1995, "type": "movie"}),
        ("new", "sig", "filename", {"title": "Some Release", "type": "movie"}),
    ):
        db.execute(
            "INSERT INTO enrichment_results (asset_uuid, enricher_id, enricher_version, kind,"
            " ok, fields, content_signature, job_uuid, time)"
            " VALUES ('r1', ?, '1', 'editorial', 1, ?, ?, ?, ?)",
            (enricher, json.dumps(fields), signature, job, T),
        )


def media_metadata_of(key: str) -> dict[str, object]:
    return media_metadata(FileFacts(key, "/x", 1, 1))


async def test_migration_0008_backfills_items_and_steps_back_keeping_the_guards(
    engine: AsyncEngine, catalog_path: Path
) -> None:
    await migrate.upgrade(engine, "0007")
    with raw(catalog_path) as db:
        seed_0007(db)
        triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        guards = sorted(triggers.fetchall())
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == "0008"
    with raw(catalog_path) as db:
        items = {
            r[0]: r[1:]
            for r in db.execute(
                "SELECT item_key, collection_uuid, media_type, name, season, year FROM media_items"
            )
        }
        links = dict(
            db.execute(
                "SELECT a.uuid, m.item_key FROM assets a "
                "LEFT JOIN media_items m ON m.uuid = a.media_item_id"
            ).fetchall()
        )
    assert items == {
        "tv:firefly:1:": ("tv", "tv", "Firefly", 1, None),
        "movie:alien::1979": ("tv", "movie", "Alien", None, 1979),
        "movie:heat::1995": ("tv", "movie", "Heat", None, 1995),
    }
    assert links == {
        "e1": "tv:firefly:1:",
        "e2": "tv:firefly:1:",
        "f1": "movie:alien::1979",
        "r1": "movie:heat::1995",
        "m1": None,
        "ad": None,
    }
    await migrate.downgrade(engine, "0007")
    with raw(catalog_path) as db:
        triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        assert sorted(triggers.fetchall()) == guards
        columns = {r[1] for r in db.execute("PRAGMA table_info(assets)")}
        assert "media_item_id" not in columns
        assert db.execute("SELECT count(*) FROM assets").fetchone() == (6,)
        # The rebuild of `assets` cascaded nothing away.
        assert db.execute("SELECT count(*) FROM asset_history").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM enrichment_results").fetchone() == (3,)
    await migrate.upgrade(engine)  # and forward again
    assert await migrate.current_revision(engine) == "0008"


NFO = b"<movie><title>Alien</title><year>1979</year></movie>"


async def test_enrichment_moves_an_asset_to_the_item_its_nfo_names(
    catalog: CatalogDatabase, tmp_path: Path
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    (root / "Some.Release.mkv").write_bytes(b"video")
    (root / "Some.Release.nfo").write_bytes(NFO)
    collection = await make_collection(catalog, root, enrichers=("sidecars",))
    async with catalog.unit_of_work() as uow:
        await apply_changes(
            uow,
            collection,
            [FilePresent(observe(root / "Some.Release.mkv", root))],
            now=datetime.now(UTC),
            describe=media_metadata,
        )
        await uow.commit()
    (before,) = await list_media(catalog)
    assert before.item.label == "Some Release" and before.open_jobs == 1

    work = Enrichment(catalog, {"sidecars": SidecarsEnricher()}, EnrichmentPolicy("w1"))
    (claimed,) = await work.claim(Scope(), 5)
    await work.process(claimed)

    by_label = {s.item.label: s for s in await list_media(catalog, active_only=False)}
    assert by_label["Alien (1979)"].progress.total == 1
    assert by_label["Some Release"].progress.waiting_for_files
    detail = await show_media(catalog, by_label["Alien (1979)"].item.id)
    (asset,) = detail.assets
    assert asset.canonical_key == "Some.Release.mkv" and asset.job_status is not None
    # No technical enricher ran, so quality control could not pass: it says why.
    assert asset.qc_passed is False and asset.qc_failures
