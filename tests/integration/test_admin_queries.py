"""The whole operations the CLI calls (admin.py writes, queries.py reads), on a real SQLite
catalog: each commits its own unit of work, refusals carry a code and facts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.domain.errors import OperationError
from consumer.service_layer import admin, queries

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def importers(_source_type: str) -> FilesystemImporter:
    return FilesystemImporter([".mkv"])


async def test_created_source_and_collection_are_read_back(
    catalog: CatalogDatabase, tmp_path: Path
) -> None:
    source = await admin.create_source(
        catalog,
        name="Local",
        source_type="filesystem",
        root_path=str(tmp_path),
        mappings=[],
        external_id=None,
        now=NOW,
    )
    (tmp_path / "tv").mkdir()
    collection = await admin.create_collection(
        catalog,
        "Local",
        importers,
        name="TV",
        root_path=str(tmp_path / "tv"),
        enrichers=[],
        sync_enabled=True,
        hash_mode="full",
        external_id="tv-ext",
        now=NOW,
    )
    assert [(s.source.uuid, s.collections) for s in await queries.list_sources(catalog)] == [
        (source.uuid, 1)
    ]
    detail = await queries.show_collection(catalog, "tv-ext", importers)
    assert detail.collection.uuid == collection.uuid
    assert detail.ingestible_now is not None and detail.ingestible_now.ok
    target = await queries.collection_for_ingest(catalog, "TV")
    assert target.source.uuid == source.uuid


async def test_removal_needs_confirmation_and_says_what_it_would_remove(
    catalog: CatalogDatabase, tmp_path: Path
) -> None:
    (tmp_path / "media" / "films").mkdir(parents=True)
    await admin.create_source(
        catalog,
        name="Local",
        source_type="filesystem",
        root_path=str(tmp_path / "media"),
        mappings=[],
        external_id=None,
        now=NOW,
    )
    discovered = await admin.discover(
        catalog, "Local", importers, FilesystemImporter([".mkv"]).top_level_folders, now=NOW
    )
    assert [c.name for c in discovered.created] == ["films"]

    with pytest.raises(OperationError) as refused:
        await admin.remove_source(catalog, "Local", confirmed=False)
    assert (refused.value.error_code, refused.value.case) == ("confirmation_required", "source")
    assert refused.value.facts == {"source": "Local", "collections": 1, "assets": 0}
    assert len(await queries.list_collections(catalog, "Local")) == 1  # nothing was removed

    removal = await admin.remove_source(catalog, "Local", confirmed=True)
    assert (removal.collections_removed, removal.assets_removed) == (1, 0)
    assert await queries.list_sources(catalog) == []


async def test_an_unknown_asset_is_refused_with_its_id(catalog: CatalogDatabase) -> None:
    with pytest.raises(OperationError) as missing:
        await queries.show_asset(catalog, "0000-nope")
    assert (missing.value.error_code, missing.value.facts) == (
        "asset_not_found",
        {"asset_id": "0000-nope"},
    )
