"""Migration 0009 on a real SQLite file: a catalog at 0007 with a source, a collection and an
asset upgrades keeping them (no server, an empty importer state), and downgrades keeping them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from consumer.adapters.db import migrate
from consumer.adapters.db.catalog import CatalogDatabase
from tests.integration.enrichment.test_schema import raw, seed_raw

pytestmark = pytest.mark.integration


async def test_a_catalog_at_0007_upgrades_and_downgrades_keeping_its_rows(
    engine: AsyncEngine, catalog_path: Path, catalog_url: str
) -> None:
    await migrate.upgrade(engine, "0007")
    with raw(catalog_path) as conn:
        seed_raw(conn)
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.HEAD_REVISION
    with raw(catalog_path) as conn:
        assert conn.execute("SELECT uuid, server FROM sources").fetchall() == [("s1", None)]
        assert conn.execute("SELECT importer_state FROM collections").fetchall() == [("{}",)]
        assert conn.execute("SELECT canonical_key FROM assets").fetchall() == [("film.mkv",)]
    catalog = CatalogDatabase(catalog_url)
    await catalog.open()
    try:
        async with catalog.unit_of_work() as uow:
            (source,) = await uow.sources.all()
            (collection,) = await uow.collections.all()
        assert source.server is None and collection.importer_state == {}
    finally:
        await catalog.close()

    await migrate.downgrade(engine, "0007")
    with raw(catalog_path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(collections)")}
        assert "importer_state" not in columns
        assert conn.execute("SELECT uuid FROM collections").fetchall() == [("c1",)]
        assert conn.execute("SELECT canonical_key FROM assets").fetchall() == [("film.mkv",)]
