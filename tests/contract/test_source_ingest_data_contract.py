"""Source ingest, data contract: seed 004 D-1 .. D-15 against a real catalog."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import pytest

from apollonia.settings import load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.domain.catalog import Collection
from consumer.domain.importing import DiscoveredItem, IngestScope
from consumer.service_layer.collection_ingest import CollectionIngestor
from consumer.service_layer.source_ingest import SourceIngestor, SourceIngestResult
from shared.hashing import Hasher
from tests.contract.conftest import TV_MEDIA, Library

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]


class FailsForFilms(FilesystemImporter):
    """A fatal error in the Films collection only, after part of it was listed."""

    def enumerate(self, collection: Collection, scope: IngestScope) -> Iterator[DiscoveredItem]:
        if collection.name == "Films":
            raise RuntimeError("simulated fatal error in Films")
        yield from super().enumerate(collection, scope)


async def source_ingest(importer: FilesystemImporter) -> SourceIngestResult:
    settings = load_settings()
    async with CatalogDatabase(settings.database_url) as catalog:
        async with catalog.unit_of_work(read_only=True) as uow:
            (source,) = await uow.sources.find("Local")
            collections = await uow.collections.all(source.uuid)
        hasher = Hasher()
        try:
            ingestor = CollectionIngestor(catalog, lambda _t: importer, hasher)
            return await SourceIngestor(ingestor).ingest(source, collections)
        finally:
            hasher.close()


def test_d1_d2_each_collection_is_its_own_unit_of_work(library: Library) -> None:
    """D-1/D-2: a fatal error in one collection (ingested first: Films sorts before TV) rolls
    back that collection only; the sibling is still ingested and committed. D-3: partial."""
    library.setup()
    result = asyncio.run(source_ingest(FailsForFilms(load_settings().media_extensions)))
    assert result.status == "partial"
    assert result.exit_code == 2
    (failed,) = result.failed
    assert failed.collection.name == "Films"
    assert failed.failure is not None
    assert "simulated fatal error in Films" in failed.failure.message
    assert library.query("SELECT count(*) FROM assets") == [(len(TV_MEDIA),)]
    assert library.query(
        "SELECT last_ingest_time IS NULL FROM collections WHERE name = 'Films'"
    ) == [(1,)]


def test_d2_fatal_failure_in_one_collection_keeps_the_sibling(library: Library) -> None:
    """D-2/D-3: Films fails in the middle (root vanishes after validation would pass); TV is
    committed; the CLI exits 2."""
    library.setup()
    shutil.rmtree(library.films)
    result = library.cli("source", "ingest", "Local", "--json")
    assert result.code == 2
    assert library.query("SELECT count(*) FROM assets") == [(len(TV_MEDIA),)]
    runs = dict(
        library.query(
            "SELECT c.name, r.status FROM ingest_runs r JOIN collections c"
            " ON r.collection_uuid = c.uuid"
        )
    )
    assert runs == {"TV": "success", "Films": "error"}


def test_d4_d7_each_collection_is_tracked_as_a_source_ingest(library: Library) -> None:
    """D-4/D-7: every per-collection ingest is recorded individually, and bulk source ingests
    are distinguishable from surgical collection ingests."""
    library.setup()
    library.ok("source", "ingest", "Local")
    library.ok("collection", "ingest", "TV", "--title", "The Show")
    kinds = library.query(
        "SELECT c.name, r.kind, r.scope FROM ingest_runs r JOIN collections c"
        " ON r.collection_uuid = c.uuid ORDER BY r.started_at"
    )
    assert [(name, kind) for name, kind, _ in kinds] == [
        ("Films", "source_ingest"),
        ("TV", "source_ingest"),
        ("TV", "collection_ingest"),
    ]
    assert '"kind": "collection"' in kinds[1][2]  # D-6: full-collection scope only


def test_d6_d8_d9_same_pipeline_no_duplicates_never_ready(library: Library) -> None:
    """D-6/D-11 same pipeline as collection ingest; D-8 a second run creates nothing; D-9 every
    new asset starts `new`."""
    library.setup()
    first = library.ok("source", "ingest", "Local")
    second = library.ok("source", "ingest", "Local")
    assert first["total_created_assets"] == len(TV_MEDIA) + 2
    assert second["total_created_assets"] == 0
    assert second["total_skipped_assets"] == len(TV_MEDIA) + 2
    assert library.query("SELECT DISTINCT state, approved_for_broadcast FROM assets") == [
        ("new", 0)
    ]


def test_d12_ingestible_is_validated_live(library: Library) -> None:
    """D-12: the stored `ingestible` flag is not trusted: the importer checks again."""
    library.setup()
    shutil.rmtree(library.films)
    assert library.query("SELECT ingestible FROM collections WHERE name = 'Films'") == [(1,)]
    doc = library.cli("source", "ingest", "Local", "--json").json()
    films = next(r for r in doc["collection_results"] if r["collection_name"] == "Films")
    assert films["errors"][0]["code"] == "not_ingestible"


def test_d15_no_source_level_records(library: Library) -> None:
    """D-15: a source ingest writes nothing at source level; every run row is a collection's."""
    library.setup()
    sources_before = library.query("SELECT * FROM sources")
    library.ok("source", "ingest", "Local")
    assert library.query("SELECT * FROM sources") == sources_before
    assert library.query("SELECT count(*) FROM ingest_runs WHERE collection_uuid IS NULL") == [(0,)]


def test_missing_files_across_a_source(library: Library) -> None:
    """Missing-file detection runs per collection in a source ingest, too."""
    library.setup()
    library.ok("source", "ingest", "Local")
    (library.films / "Alien (1979).mkv").unlink()
    doc = library.ok("source", "ingest", "Local")
    assert doc["total_missing_assets"] == 1
