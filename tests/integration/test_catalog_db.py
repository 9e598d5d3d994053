"""The catalog on a real SQLite file: constraints, triggers, unit of work, migrations (seed 001
milestone 1; DESIGN catalog invariants)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from consumer.adapters.db import migrate
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.db.tables import metadata
from consumer.domain.assets import Asset, FileFacts, create_asset, set_state
from consumer.domain.catalog import Collection, PathMapping, Source
from consumer.domain.lifecycle import AssetState
from consumer.domain.signatures import EnricherRef, enricher_checksum

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CHECKSUM = enricher_checksum([EnricherRef("ffprobe", 1)])


async def seed_collection(db: CatalogDatabase) -> Collection:
    source = Source(
        "src-1",
        "Local",
        "filesystem",
        "/media",
        [PathMapping("/data", "/media")],
        created_at=NOW,
        updated_at=NOW,
    )
    collection = Collection(
        "col-1",
        "src-1",
        "TV",
        "/media/tv",
        enrichers=[EnricherRef("ffprobe", 1)],
        created_at=NOW,
        updated_at=NOW,
    )
    async with db.unit_of_work() as uow:
        await uow.sources.add(source)
        await uow.collections.add(collection)
        await uow.commit()
    return collection


def make_asset(key: str = "Show/e01.mkv", sha: str = "a" * 64) -> Asset:
    obs = FileFacts(
        key,
        f"/media/tv/{key}",
        size=1234,
        mtime_ns=1_700_000_000_123_456_789,
        sha256=sha,
        xxh128="b" * 32,
        observed_at=NOW,
        tech_metadata={"title": "Show", "episode": 1},
        neighbors=["/media/tv/x.srt"],
    )
    return create_asset("col-1", obs, CHECKSUM, NOW)


def raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


async def test_create_and_fetch_every_field(catalog: CatalogDatabase) -> None:
    await seed_collection(catalog)
    asset = make_asset()
    async with catalog.unit_of_work() as uow:
        await uow.assets.add(asset)
        await uow.commit()
    async with catalog.unit_of_work(read_only=True) as uow:
        fetched = await uow.assets.get("col-1", "Show/e01.mkv")
        by_uuid = await uow.assets.get_by_uuid(asset.uuid)
        many = await uow.assets.get_many("col-1", ["Show/e01.mkv", "missing.mkv"])
        collection = await uow.collections.get("col-1")
        source = await uow.sources.get("src-1")
    assert fetched == asset
    assert by_uuid == asset
    assert list(many) == ["Show/e01.mkv"]
    assert fetched is not None and fetched.mtime_ns == 1_700_000_000_123_456_789
    assert fetched.state == AssetState.NEW and fetched.approved_for_broadcast is False
    assert collection is not None and collection.enrichers == [EnricherRef("ffprobe", 1)]
    assert source is not None and source.path_mappings == [PathMapping("/data", "/media")]


async def test_duplicate_key_is_rejected_by_the_unique_constraint(catalog: CatalogDatabase) -> None:
    await seed_collection(catalog)
    async with catalog.unit_of_work() as uow:
        await uow.assets.add(make_asset())
        await uow.commit()
    with pytest.raises(IntegrityError, match=r"UNIQUE constraint failed: assets\.collection_uuid"):
        async with catalog.unit_of_work() as uow:
            await uow.assets.add(make_asset())  # same collection and key, new uuid
            await uow.commit()
    async with catalog.unit_of_work(read_only=True) as uow:
        assert await uow.assets.count("col-1") == 1


async def test_raw_insert_of_a_ready_asset_is_rejected(
    catalog: CatalogDatabase, catalog_path: Path
) -> None:
    await seed_collection(catalog)
    with (
        raw(catalog_path) as conn,
        pytest.raises(sqlite3.IntegrityError, match="created in state ready"),
    ):
        conn.execute(
            "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns,"
            " content_signature, enricher_checksum, state, discovered_at, created_at, updated_at)"
            " VALUES ('x', 'col-1', 'k', '/media/tv/k', 1, 1, 'stat:1:1', 'e', 'ready',"
            " '2026-01-01', '2026-01-01', '2026-01-01')"
        )


async def test_approved_but_not_ready_is_rejected_by_the_check(
    catalog: CatalogDatabase, catalog_path: Path
) -> None:
    await seed_collection(catalog)
    with (
        raw(catalog_path) as conn,
        pytest.raises(sqlite3.IntegrityError, match="ck_assets_approved_requires_ready"),
    ):
        conn.execute(
            "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns,"
            " content_signature, enricher_checksum, state, approved_for_broadcast,"
            " discovered_at, created_at, updated_at)"
            " VALUES ('x', 'col-1', 'k', '/media/tv/k', 1, 1, 'stat:1:1', 'e', 'new', 1,"
            " '2026-01-01', '2026-01-01', '2026-01-01')"
        )


async def test_approval_defaults_to_false_in_the_database(
    catalog: CatalogDatabase, catalog_path: Path
) -> None:
    await seed_collection(catalog)
    with raw(catalog_path) as conn:
        conn.execute(
            "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns,"
            " content_signature, enricher_checksum, discovered_at, created_at, updated_at)"
            " VALUES ('x', 'col-1', 'k', '/media/tv/k', 1, 1, 'stat:1:1', 'e',"
            " '2026-01-01', '2026-01-01', '2026-01-01')"
        )
        row = conn.execute("SELECT state, approved_for_broadcast FROM assets").fetchone()
    assert row == ("new", 0)


async def test_database_refuses_illegal_transitions_and_ready_updates(
    catalog: CatalogDatabase, catalog_path: Path
) -> None:
    await seed_collection(catalog)
    asset = make_asset()
    set_state(asset, AssetState.ENRICHING, NOW)
    async with catalog.unit_of_work() as uow:
        await uow.assets.add(asset)
        await uow.commit()
    with raw(catalog_path) as conn:
        # enriching -> ready is legal once quality control passed (migration 0006's guard).
        conn.execute(
            "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
            "SELECT uuid, 1, content_signature, '2026-11-22 12:00:00.000000' FROM assets"
        )
        conn.execute("UPDATE assets SET state = 'ready'")
        with pytest.raises(sqlite3.IntegrityError, match="cannot stay ready"):
            conn.execute("UPDATE assets SET content_signature = 'sha256:other'")
        conn.execute("UPDATE assets SET state = 'retired'")
        with pytest.raises(sqlite3.IntegrityError, match="illegal asset state transition"):
            conn.execute("UPDATE assets SET state = 'new'")


async def test_forced_error_inside_a_unit_of_work_leaves_no_partial_write(
    catalog: CatalogDatabase,
) -> None:
    await seed_collection(catalog)

    class BoomError(RuntimeError):
        pass

    with pytest.raises(BoomError):
        async with catalog.unit_of_work() as uow:
            await uow.assets.add_many([make_asset("a.mkv"), make_asset("b.mkv")])
            await uow.collections.set_last_ingest_time("col-1", NOW)
            raise BoomError
    async with catalog.unit_of_work(read_only=True) as uow:
        assert await uow.assets.count() == 0
        collection = await uow.collections.get("col-1")
    assert collection is not None and collection.last_ingest_time is None


async def test_leaving_without_commit_rolls_back(catalog: CatalogDatabase) -> None:
    await seed_collection(catalog)
    async with catalog.unit_of_work() as uow:
        await uow.assets.add(make_asset())
    async with catalog.unit_of_work(read_only=True) as uow:
        assert await uow.assets.count() == 0


async def test_connection_pragmas(catalog: CatalogDatabase) -> None:
    async with catalog.engine.connect() as conn:
        values = [
            (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("busy_timeout", "journal_mode", "foreign_keys", "synchronous")
        ]
    assert values == [30000, "wal", 1, 1]  # synchronous NORMAL is 1


async def test_migrations_upgrade_an_empty_database_and_downgrade_cleanly(
    engine: AsyncEngine,
) -> None:
    assert await migrate.current_revision(engine) is None
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.HEAD_REVISION
    tables = set(await migrate.table_names(engine))
    assert {
        "sources",
        "collections",
        "assets",
        "ingest_runs",
        "run_logs",
        "asset_history",
    } <= tables
    await migrate.downgrade(engine)
    assert await migrate.current_revision(engine) is None
    assert set(await migrate.table_names(engine)) == {"alembic_version"}
    async with engine.connect() as conn:
        triggers = (
            await conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
        ).scalar()
    assert triggers == 0
    await migrate.upgrade(engine)  # and back up again
    assert await migrate.current_revision(engine) == migrate.HEAD_REVISION


async def test_migrated_schema_matches_the_table_definitions(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata)
        )
    assert diff == []


def test_head_constant_matches_the_migration_scripts() -> None:
    assert migrate.script_heads() == (migrate.HEAD_REVISION,)


async def test_ensure_schema_is_idempotent(engine: AsyncEngine) -> None:
    await migrate.ensure_schema(engine)
    await migrate.ensure_schema(engine)
    async with engine.connect() as conn:
        versions = (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
    assert versions == 1


async def test_dry_run_catalog_never_creates_a_file(tmp_path: Path) -> None:
    from shared.sqlite import CatalogNotFoundError

    path = tmp_path / "absent.db"
    with pytest.raises(CatalogNotFoundError):
        await CatalogDatabase(f"sqlite+aiosqlite:///{path}", dry_run=True).open()
    assert not path.exists()
