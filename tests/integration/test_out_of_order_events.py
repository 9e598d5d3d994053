"""One file's events applied out of order, as competing consumers commit them (issue 16): a
deletion or a move away of a key the catalog does not know yet leaves a tombstone, and the late
creation it follows is stale. Through the one apply path, on both catalog backends; the
concurrent cases need PostgreSQL (SQLite has one writer)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.assets import Asset
from consumer.domain.signatures import EnricherRef
from consumer.service_layer.events import EVENT_BATCH, EventsOutcome, apply_events
from consumer.service_layer.routing import RouterCache
from shared.schemas.file_event import FileEvent
from tests.unit.builders import MEDIA, SHOWS, SOURCE, T0, file_event

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

A, B = "/media/shows/a.mkv", "/media/shows/b.mkv"
T1, T2, T3 = (T0 + timedelta(seconds=n) for n in (1, 2, 3))


async def _setup(catalog: CatalogDatabase) -> RouterCache:
    async with catalog.unit_of_work() as uow:
        await uow.sources.add(SOURCE)
        await uow.collections.add(SHOWS)
        await uow.commit()
    return RouterCache(catalog, MEDIA, synced_only=True)


async def _apply(
    catalog: CatalogDatabase, routers: RouterCache, *events: FileEvent
) -> EventsOutcome:
    return await apply_events(catalog, list(events), routers=routers, run=EVENT_BATCH)


async def _live(catalog: CatalogDatabase) -> dict[str, Asset]:
    async with catalog.unit_of_work(read_only=True) as uow:
        assets = await uow.assets.list_assets(collection_uuid=SHOWS.uuid, include_deleted=False)
    return {a.canonical_key: a for a in assets}


def _stale(outcome: EventsOutcome) -> int:
    return sum(o.stale for o in outcome.outcomes)


async def test_a_deletion_applied_before_its_creation_wins(catalog: CatalogDatabase) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, file_event("deleted", A, content=None, at=T2))
    late = await _apply(catalog, routers, file_event("created", A, at=T1))
    assert _stale(late) == 1
    assert await _live(catalog) == {}


async def test_a_creation_after_the_deletion_is_cataloged(catalog: CatalogDatabase) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, file_event("deleted", A, content=None, at=T1))
    await _apply(catalog, routers, file_event("created", A, at=T2))
    assert set(await _live(catalog)) == {"a.mkv"}


async def test_a_move_applied_before_its_origin_creation(catalog: CatalogDatabase) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, file_event("moved", B, from_path=A, at=T2))
    late = await _apply(catalog, routers, file_event("created", A, at=T1))
    assert _stale(late) == 1
    assert set(await _live(catalog)) == {"b.mkv"}


async def test_a_move_whose_destination_was_deleted_since(catalog: CatalogDatabase) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, file_event("created", A, at=T1))
    await _apply(catalog, routers, file_event("deleted", B, content=None, at=T3))
    await _apply(catalog, routers, file_event("moved", B, from_path=A, at=T2))
    assert await _live(catalog) == {}


async def test_a_clean_move_leaves_its_origin_a_tombstone(catalog: CatalogDatabase) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, file_event("created", A, at=T1))
    created = (await _live(catalog))["a.mkv"]
    await _apply(catalog, routers, file_event("moved", B, from_path=A, at=T3))
    # A redelivered or late creation of the origin, older than the move, is stale.
    late = await _apply(catalog, routers, file_event("modified", A, at=T2))
    assert _stale(late) == 1
    live = await _live(catalog)
    assert set(live) == {"b.mkv"} and live["b.mkv"].uuid == created.uuid


async def test_a_late_creation_of_a_path_a_deleted_file_was_moved_away_from_is_stale(
    catalog: CatalogDatabase,
) -> None:
    # The soak's sequence (the root emptied and put back, then the folder renamed): A deleted,
    # A created again (the file back), then moved to B; the move is applied before the
    # re-creation (two consumers). The move finds a deleted asset at A: the file is still that
    # asset (moved, inferred from its sha256), and the late re-creation of A, older than the
    # move, must not catalog a second, live asset at a path where no file is.
    routers = await _setup(catalog)
    t4 = T0 + timedelta(seconds=4)
    await _apply(catalog, routers, file_event("created", A, at=T1))
    first = (await _live(catalog))["a.mkv"]
    await _apply(catalog, routers, file_event("deleted", A, content=None, at=T2))
    await _apply(catalog, routers, file_event("moved", B, from_path=A, at=t4))
    late = await _apply(catalog, routers, file_event("created", A, at=T3))
    assert _stale(late) == 1
    live = await _live(catalog)
    assert set(live) == {"b.mkv"} and live["b.mkv"].uuid == first.uuid


@pytest.mark.parametrize("batches", ["two batches", "one batch"])
async def test_a_file_renamed_twice_whose_moves_are_applied_in_reverse_keeps_its_asset(
    catalog: CatalogDatabase, catalog_ref: object, batches: str
) -> None:
    # A folder renamed twice within a second (A -> B -> C), the two moves taken by two
    # consumers and the second one applied first: it finds no asset at B and makes a stand-in
    # at C; the first, applied next, finds B left since. The file is still the asset of A.
    routers = await _setup(catalog)
    c = "/media/shows/c.mkv"
    await _apply(catalog, routers, file_event("created", A, at=T1))
    first = (await _live(catalog))["a.mkv"]
    second_move = file_event("moved", c, from_path=B, at=T3)
    first_move = file_event("moved", B, from_path=A, at=T2)
    if batches == "one batch":
        await _apply(catalog, routers, second_move, first_move)
    else:
        await _apply(catalog, routers, second_move)
        await _apply(catalog, routers, first_move)
    live = await _live(catalog)
    assert set(live) == {"c.mkv"} and live["c.mkv"].uuid == first.uuid
    async with catalog.unit_of_work(read_only=True) as uow:
        everything = await uow.assets.list_assets(collection_uuid=SHOWS.uuid)
        history = await uow.history.for_asset(first.uuid)
    stand_ins = [a for a in everything if a.uuid != first.uuid]
    assert len(stand_ins) == 1 and stand_ins[0].is_deleted
    assert not stand_ins[0].canonical_key.endswith(".mkv")  # parked: no file can have its key
    assert "moves applied out of order: a.mkv -> b.mkv -> c.mkv" in history[-1].reason
    # Late events for the paths the file left are stale.
    late = await _apply(catalog, routers, file_event("created", A, at=T1), file_event(
        "created", B, at=T2))  # fmt: skip
    assert _stale(late) == 2
    assert set(await _live(catalog)) == {"c.mkv"}


async def test_in_one_batch_the_same_rules_hold(catalog: CatalogDatabase) -> None:
    routers = await _setup(catalog)
    await _apply(
        catalog,
        routers,
        file_event("deleted", A, content=None, at=T2),
        file_event("created", A, at=T1),
        file_event("moved", B, from_path="/media/shows/c.mkv", at=T2, content=2),
        file_event("created", "/media/shows/c.mkv", at=T1, content=2),
    )
    assert set(await _live(catalog)) == {"b.mkv"}


async def test_concurrent_transactions_end_right_in_either_order(
    catalog: CatalogDatabase, catalog_backend: str
) -> None:
    """Two consumers' batches for the same files, applied at once: the advisory locks let one
    go first, the tombstones make either order end in the same catalog."""
    if catalog_backend != "postgresql":
        pytest.skip("SQLite has a single writer: nothing runs concurrently")
    routers = await _setup(catalog)
    paths = [f"/media/shows/f{n}.mkv" for n in range(20)]
    creates = [file_event("created", p, at=T1, content=n) for n, p in enumerate(paths)]
    gone = [
        file_event("deleted", p, content=None, at=T2)
        if n % 2
        else file_event("moved", p.replace("/f", "/g"), from_path=p, at=T2, content=n)
        for n, p in enumerate(paths)
    ]
    other = RouterCache(catalog, MEDIA, synced_only=True)
    await asyncio.gather(
        apply_events(catalog, list(reversed(gone)), routers=routers, run=EVENT_BATCH),
        apply_events(catalog, creates, routers=other, run=EVENT_BATCH),
    )
    expected = {f"g{n}.mkv" for n in range(0, 20, 2)}
    assert set(await _live(catalog)) == expected


async def test_a_row_read_to_be_written_back_is_not_overwritten_by_a_move(
    catalog: CatalogDatabase, catalog_backend: str
) -> None:
    """An enrichment worker reads an asset and writes the whole row back in one transaction; a
    consumer's move meanwhile must not be undone by it ("moved from a.mkv" at a.mkv): on
    PostgreSQL a writer's row read locks the row, so the move waits and applies after."""
    if catalog_backend != "postgresql":
        pytest.skip("SQLite has a single writer: nothing runs concurrently")
    routers = await _setup(catalog)
    await _apply(catalog, routers, file_event("created", A, at=T1))
    created = (await _live(catalog))["a.mkv"]
    async with catalog.unit_of_work(label="worker") as uow:
        asset = await uow.assets.get_by_uuid(created.uuid)
        assert asset is not None
        move = asyncio.create_task(
            _apply(catalog, routers, file_event("moved", B, from_path=A, at=T2))
        )
        await asyncio.sleep(0.3)  # the move runs as far as it can meanwhile
        await uow.assets.update(asset)
        await uow.commit()
    await move
    live = await _live(catalog)
    assert set(live) == {"b.mkv"} and live["b.mkv"].uuid == created.uuid


async def test_superseding_skips_a_job_a_worker_is_claiming(
    catalog: CatalogDatabase, catalog_backend: str, engine: AsyncEngine
) -> None:
    """A consumer that changes an asset settles its pending job; one a worker holds locked (its
    claim in progress) is skipped instead of waited for, so the two cannot deadlock (the worker
    discards that job: its content signature is no longer the asset's)."""
    if catalog_backend != "postgresql":
        pytest.skip("SQLite has a single writer: nothing runs concurrently")
    enriched = replace(SHOWS, enrichers=[EnricherRef("ffprobe", 1)])
    async with catalog.unit_of_work() as uow:
        await uow.sources.add(SOURCE)
        await uow.collections.add(enriched)
        await uow.commit()
    routers = RouterCache(catalog, MEDIA, synced_only=True)
    await _apply(catalog, routers, file_event("created", A, at=T1))
    async with engine.connect() as claim:
        # What a worker's claim holds: the pending job's row, locked until it commits.
        await claim.begin()
        locked = await claim.execute(
            text("SELECT uuid FROM jobs WHERE status = 'pending' FOR UPDATE")
        )
        assert locked.all()
        changed = await asyncio.wait_for(
            _apply(catalog, routers, file_event("modified", A, at=T2, content=2)), timeout=60
        )
        assert sum(o.updated for o in changed.outcomes) == 1
        await claim.rollback()
