"""Moves that hand keys along a chain or a cycle in one batch, against the real SQLite catalog:
UNIQUE(collection_uuid, canonical_key) is checked row by row there, so the order in which the
apply path writes moved assets matters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.service_layer.events import EVENT_BATCH, apply_events
from consumer.service_layer.routing import RouterCache
from tests.unit.builders import MEDIA, SHOWS, SOURCE, T0, file_event

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]


async def _setup(catalog: CatalogDatabase) -> None:
    async with catalog.unit_of_work() as uow:
        await uow.sources.add(SOURCE)
        await uow.collections.add(SHOWS)
        await uow.commit()


async def _keys(catalog: CatalogDatabase) -> dict[str, str]:
    async with catalog.unit_of_work(read_only=True) as uow:
        assets = await uow.assets.list_assets(collection_uuid=SHOWS.uuid, include_deleted=False)
    return {a.canonical_key: a.uuid for a in assets}


async def test_a_swap_through_a_temporary_name_keeps_both_assets(
    catalog: CatalogDatabase,
) -> None:
    await _setup(catalog)
    routers = RouterCache(catalog, MEDIA, synced_only=True)
    a, b, tmp = "/media/shows/a.mkv", "/media/shows/b.mkv", "/media/shows/tmp.mkv"
    await apply_events(
        catalog,
        [file_event("created", a, content=1), file_event("created", b, content=2)],
        routers=routers,
        run=EVENT_BATCH,
    )
    before = await _keys(catalog)
    later = T0 + timedelta(hours=1)
    await apply_events(
        catalog,
        [
            file_event("moved", tmp, content=1, from_path=a, at=later),
            file_event("moved", a, content=2, from_path=b, at=later),
            file_event("moved", b, content=1, from_path=tmp, at=later),
        ],
        routers=routers,
        run=EVENT_BATCH,
    )
    after = await _keys(catalog)
    assert after == {"a.mkv": before["b.mkv"], "b.mkv": before["a.mkv"]}
