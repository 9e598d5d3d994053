"""Collection ingest, data contract: what the catalog holds after each kind of ingest
(B-16..B-19, D-1, D-8..D-17, staged change detection, missing files)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apollonia.settings import load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.domain.catalog import Collection
from consumer.domain.importing import DiscoveredItem, IngestScope
from consumer.service_layer.collection_ingest import (
    CollectionIngestor,
    CollectionIngestResult,
    IngestFailure,
)
from shared.hashing import Fingerprint, Hasher, PathLike, ReadProgress
from tests.contract.conftest import TV_MEDIA, Library, touch_later

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

S1E2 = "The Show (2005)/Season 01/The Show - S01E02.mkv"


def make_ready_and_approved(library: Library, key: str) -> None:
    """What a reviewer would do: enrich, mark ready, approve (legal transitions only; `ready`
    needs the passing quality check enrichment would have recorded)."""
    library.execute("UPDATE assets SET state = 'enriching' WHERE canonical_key = ?", (key,))
    library.execute(
        "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
        "SELECT uuid, TRUE, content_signature, '2026-11-22 12:00:00.000000' FROM assets "
        "WHERE canonical_key = ?",
        (key,),
    )
    library.execute("UPDATE assets SET state = 'ready' WHERE canonical_key = ?", (key,))
    # Approval only through the operator's command (the database refuses it without its record).
    library.ok("asset", "approve", library.asset(key)["uuid"], "--by", "reviewer")


def test_d9_b16_ingesting_twice_never_creates_a_second_asset(library: Library) -> None:
    """B-16/D-9 never a second asset for a key; B-17/D-10 the second run skips everything."""
    library.setup()
    first = library.ok("collection", "ingest", "TV")
    second = library.ok("collection", "ingest", "TV")
    assert first["stats"]["assets_ingested"] == len(TV_MEDIA)
    assert second["stats"]["assets_ingested"] == 0
    assert second["stats"]["assets_skipped"] == len(TV_MEDIA)
    assert second["stats"]["files_hashed"] == 0  # staged: unchanged stat, zero bytes read
    assert library.query("SELECT count(*) FROM assets") == [(len(TV_MEDIA),)]


def test_d13_new_assets_start_new_and_unapproved_with_hashes(library: Library) -> None:
    """D-13: new assets start `new`, never `ready`, unapproved; hashed on first catalog."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    rows = library.query(
        "SELECT state, approved_for_broadcast, length(sha256), length(xxh128),"
        " content_signature FROM assets"
    )
    assert len(rows) == len(TV_MEDIA)
    for state, approved, sha_len, xxh_len, signature in rows:
        assert (state, approved, sha_len, xxh_len) == ("new", 0, 64, 32)
        assert signature.startswith("sha256:")
    asset = library.asset(S1E2)
    assert (
        asset["tech_metadata"] == '{"title": "The Show", "season": 1, "episode": 2, "year": 2005}'
    )


def test_b17_touched_file_is_skipped_and_its_stat_refreshed(library: Library) -> None:
    """B-17/D-10: same bytes under a new mtime is not a change; the stored stat is refreshed so
    the next ingest reads nothing."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    before = library.asset(S1E2)
    touch_later(library.tv / S1E2)
    doc = library.ok("collection", "ingest", "TV")
    assert doc["stats"]["assets_updated"] == 0
    assert doc["stats"]["files_hashed"] == 1
    assert doc["stats"]["stats_refreshed"] == 1
    after = library.asset(S1E2)
    assert after["mtime_ns"] == before["mtime_ns"] + 1_000_000_000
    assert after["updated_at"] == before["updated_at"]
    assert library.ok("collection", "ingest", "TV")["stats"]["files_hashed"] == 0


def test_b18_d14_rewritten_ready_asset_is_updated_back_to_new(library: Library) -> None:
    """B-18/D-11 changed content updates in place; D-14 a ready, approved asset goes back to
    `new` and unapproved; D-17 updated_at refreshed."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    make_ready_and_approved(library, S1E2)
    before = library.asset(S1E2)
    assert (before["state"], before["approved_for_broadcast"]) == ("ready", 1)
    (library.tv / S1E2).write_bytes(b"a different cut")
    doc = library.ok("collection", "ingest", "TV")
    assert doc["stats"]["assets_updated"] == 1
    assert doc["stats"]["assets_changed_content"] == 1
    after = library.asset(S1E2)
    assert after["uuid"] == before["uuid"]
    assert (after["state"], after["approved_for_broadcast"]) == ("new", 0)
    assert library.query(
        "SELECT action, reason FROM approvals WHERE asset_uuid = ? ORDER BY id", (after["uuid"],)
    ) == [("approve", None), ("auto_revoke", "content_changed")]
    assert after["sha256"] != before["sha256"]
    assert after["updated_at"] > before["updated_at"]
    history = library.query(
        "SELECT decision, reason FROM asset_history WHERE asset_uuid = ? ORDER BY id",
        (after["uuid"],),
    )
    assert history[-1] == ("update", "content changed (sha256 differs)")


def test_d12_enricher_change_updates_every_asset(library: Library) -> None:
    """B-18/D-12: changing the enricher configuration updates all assets (changed_enricher)."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    library.ok("collection", "update", "TV", "--add-enricher", "ffprobe", "--priority", "1")
    doc = library.ok("collection", "ingest", "TV")
    assert doc["stats"]["assets_updated"] == len(TV_MEDIA)
    assert doc["stats"]["assets_changed_enricher"] == len(TV_MEDIA)
    assert doc["stats"]["assets_changed_content"] == 0
    assert doc["stats"]["files_hashed"] == 0  # enrichers alone never need a read
    assert library.ok("collection", "ingest", "TV")["stats"]["assets_skipped"] == len(TV_MEDIA)


def test_b19_last_ingest_time_is_set_once_even_when_all_skipped(library: Library) -> None:
    """B-19/D-15/D-16: last_ingest_time is set on every successful ingest, all skipped too,
    never by a dry run or a failed ingest."""
    library.setup()
    first = library.ok("collection", "ingest", "TV")
    second = library.ok("collection", "ingest", "TV")
    assert second["stats"]["assets_skipped"] == len(TV_MEDIA)
    assert second["last_ingest_time"] > first["last_ingest_time"]
    stored = library.query("SELECT last_ingest_time FROM collections WHERE name = 'TV'")[0][0]
    assert second["last_ingest_time"].startswith(stored.replace(" ", "T")[:19])
    dry = library.ok("collection", "ingest", "TV", "--dry-run")
    assert dry["last_ingest_time"] == second["last_ingest_time"]
    assert library.cli("collection", "ingest", "TV", "--title", "Nope").code == 2
    assert library.query("SELECT last_ingest_time FROM collections WHERE name = 'TV'")[0][0] == (
        stored
    )


def test_d8_scope_is_recorded_in_ingest_runs(library: Library) -> None:
    """D-8: each ingest records its scope, status and stats in ingest_runs (failures too)."""
    library.setup()
    doc = library.ok("collection", "ingest", "TV", "--title", "The Show", "--season", "2")
    library.cli("collection", "ingest", "TV", "--title", "Nope")
    rows = library.query(
        "SELECT uuid, kind, scope, status, error FROM ingest_runs ORDER BY started_at"
    )
    assert len(rows) == 2
    run_id, kind, scope, status, error = rows[0]
    assert (run_id, kind, status, error) == (doc["run_id"], "collection_ingest", "success", None)
    assert '"kind": "season"' in scope and '"season": 2' in scope
    assert rows[1][3] == "error"
    assert "Title 'Nope' not found" in rows[1][4]
    logs = library.query("SELECT message FROM run_logs WHERE run_uuid = ?", (doc["run_id"],))
    assert any("2 discovered" in m for (m,) in logs)


def test_missing_files_are_soft_deleted_and_come_back(library: Library) -> None:
    """A full ingest soft-deletes assets whose files are gone; a returning file is restored."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    make_ready_and_approved(library, S1E2)
    data = (library.tv / S1E2).read_bytes()
    (library.tv / S1E2).unlink()
    doc = library.ok("collection", "ingest", "TV")
    assert doc["stats"]["assets_missing"] == 1
    gone = library.asset(S1E2)
    assert (gone["is_deleted"], gone["approved_for_broadcast"]) == (1, 0)
    assert library.query(
        "SELECT action, reason FROM approvals WHERE asset_uuid = ? ORDER BY id", (gone["uuid"],)
    ) == [("approve", None), ("auto_revoke", "file_deleted")]
    assert gone["deleted_at"] is not None
    (library.tv / S1E2).write_bytes(data)
    back = library.ok("collection", "ingest", "TV")
    assert back["stats"]["assets_updated"] == 1
    restored = library.asset(S1E2)
    assert (restored["uuid"], restored["is_deleted"], restored["deleted_at"]) == (
        gone["uuid"],
        0,
        None,
    )


def test_narrowed_ingest_never_marks_other_titles_missing(library: Library) -> None:
    """Only a full-collection ingest looks for missing files."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    doc = library.ok("collection", "ingest", "TV", "--title", "Other Show")
    assert doc["stats"]["assets_missing"] == 0
    assert library.query("SELECT count(*) FROM assets WHERE is_deleted") == [(0,)]


def test_empty_root_never_wipes_the_catalog(library: Library) -> None:
    """A readable root with no media while the catalog holds live assets: exit 3, nothing
    deleted (an unmounted share); --allow-empty overrides."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    for path in list(library.tv.rglob("*.mkv")):
        path.unlink()
    result = library.cli("collection", "ingest", "TV", "--json")
    assert result.code == 3
    assert "the share may be unmounted" in result.json()["errors"][0]["message"]
    assert library.query("SELECT count(*) FROM assets WHERE NOT is_deleted") == [(len(TV_MEDIA),)]
    doc = library.ok("collection", "ingest", "TV", "--allow-empty")
    assert doc["stats"]["assets_missing"] == len(TV_MEDIA)


def test_duplicate_candidates_are_counted_never_merged(library: Library) -> None:
    """Same content under two keys: both kept, counted as duplicate candidates."""
    library.setup()
    copy = library.tv / "Other Show/Season 1/Other.Show.S01E01.copy.mkv"
    copy.write_bytes((library.tv / "Other Show/Season 1/Other.Show.S01E01.mkv").read_bytes())
    doc = library.ok("collection", "ingest", "TV")
    assert doc["stats"]["duplicates"] == 2
    assert library.query("SELECT count(*) FROM assets") == [(len(TV_MEDIA) + 1,)]


def test_stat_hash_mode_reads_no_bytes(library: Library) -> None:
    """hash_mode=stat catalogs by size + mtime only and detects changes by stat."""
    library.setup()
    library.ok("collection", "update", "TV", "--hash-mode", "stat")
    doc = library.ok("collection", "ingest", "TV")
    assert doc["stats"]["files_hashed"] == 0
    assert library.query("SELECT count(*) FROM assets WHERE sha256 IS NULL") == [(len(TV_MEDIA),)]
    touch_later(library.tv / S1E2)
    again = library.ok("collection", "ingest", "TV")
    assert again["stats"]["assets_updated"] == 1
    assert again["stats"]["files_hashed"] == 0


# --- in-process: failures the CLI cannot provoke on demand -------------------------------------


class ExplodingImporter(FilesystemImporter):
    """Fails while listing: the share went away in the middle of the walk."""

    def enumerate(self, collection: Collection, scope: IngestScope) -> Iterator[DiscoveredItem]:
        items = list(super().enumerate(collection, scope))
        yield from items[:2]
        raise OSError(5, "Input/output error")


class ExplodingHasher(Hasher):
    """Hashes the first files, then fails with an unexpected error (a bug, a full disk...)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def hash_many(
        self, paths: Sequence[PathLike], batch: int = 64, on_read: ReadProgress | None = None
    ) -> list[Fingerprint | OSError]:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("simulated failure in the middle of the ingest")
        return await super().hash_many(paths, batch, on_read)


class VanishingImporter(FilesystemImporter):
    """Deletes a file right after listing it, before it is hashed."""

    def enumerate(self, collection: Collection, scope: IngestScope) -> Iterator[DiscoveredItem]:
        for item in super().enumerate(collection, scope):
            if item.canonical_key == S1E2:
                Path(item.fs_path).unlink()
            yield item


class SpyImporter(FilesystemImporter):
    def __init__(self, extensions: frozenset[str]) -> None:
        super().__init__(extensions)
        self.enumerated = False

    def enumerate(self, collection: Collection, scope: IngestScope) -> Iterator[DiscoveredItem]:
        self.enumerated = True
        yield from super().enumerate(collection, scope)


async def run_ingest(
    importer: FilesystemImporter, *, dry_run: bool = False, hasher: Hasher | None = None
) -> CollectionIngestResult:
    settings = load_settings()
    async with CatalogDatabase(settings.database_url, dry_run=dry_run) as catalog:
        async with catalog.unit_of_work(read_only=True) as uow:
            (collection,) = await uow.collections.find("TV")
            source = await uow.sources.get(collection.source_uuid)
        assert source is not None
        hasher = hasher or Hasher()
        try:
            ingestor = CollectionIngestor(catalog, lambda _t: importer, hasher)
            return await ingestor.ingest(collection, source, IngestScope())
        finally:
            hasher.close()


def test_d1_fatal_error_persists_nothing(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    """D-1: one unit of work per collection ingest; a fatal error after some assets were
    already written in the transaction rolls everything back, last_ingest_time stays unset, and
    the failed run is recorded with its error."""
    library.setup()
    monkeypatch.setattr(
        "consumer.service_layer.collection_ingest.SLICE", 2
    )  # first slice gets written
    extensions = load_settings().media_extensions
    with pytest.raises(IngestFailure) as caught:
        asyncio.run(run_ingest(FilesystemImporter(extensions), hasher=ExplodingHasher()))
    assert caught.value.exit_code == 1
    assert "simulated failure" in caught.value.message
    assert "rolled back" in caught.value.message
    assert library.query("SELECT count(*) FROM assets") == [(0,)]
    assert library.query("SELECT last_ingest_time FROM collections WHERE name = 'TV'") == [(None,)]
    assert library.query("SELECT status FROM ingest_runs") == [("error",)]


def test_read_error_while_listing_fails_cleanly(library: Library) -> None:
    """An I/O error while walking the collection: exit 3, nothing written."""
    library.setup()
    with pytest.raises(IngestFailure) as caught:
        asyncio.run(run_ingest(ExplodingImporter(load_settings().media_extensions)))
    assert (caught.value.exit_code, caught.value.error_code) == (3, "enumeration_failed")
    assert library.query("SELECT count(*) FROM assets") == [(0,)]


def test_vanished_file_is_reported_and_skipped(library: Library) -> None:
    """A file that disappears before it is read is an error entry, not a fatal error."""
    library.setup()
    result = asyncio.run(run_ingest(VanishingImporter(load_settings().media_extensions)))
    stats = result.stats
    assert stats.assets_ingested == len(TV_MEDIA) - 1
    assert stats.errors[0]["path"].endswith(S1E2)
    assert "cannot read" in stats.errors[0]["message"]
    assert library.query("SELECT count(*) FROM assets") == [(len(TV_MEDIA) - 1,)]


def test_b14a_ingestible_is_checked_before_enumeration(library: Library) -> None:
    """B-14a/D-5: validate_ingestible() runs first; when it fails nothing is enumerated."""
    library.setup()
    library.ok("collection", "update", "TV", "--path", str(library.root / "absent"))
    spy = SpyImporter(frozenset(load_settings().media_extensions))
    with pytest.raises(IngestFailure) as caught:
        asyncio.run(run_ingest(spy))
    assert caught.value.error_code == "not_ingestible"
    assert spy.enumerated is False


def test_observations_carry_the_scan_time(library: Library) -> None:
    """Assets record when they were last observed (last_event_at), so older events lose."""
    library.setup()
    before = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    library.ok("collection", "ingest", "TV")
    (last_event_at,) = library.query("SELECT min(last_event_at) FROM assets")[0]
    assert last_event_at >= before[:19]
