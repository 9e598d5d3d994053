"""Moves published as a deletion and a creation (the producer could not pair them) keep their
asset: through the one apply path (`apply_events`), on the real catalog, both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.assets import Asset
from consumer.domain.move_inference import DEFAULT_MOVE_WINDOW
from consumer.service_layer.events import EVENT_BATCH, apply_events
from consumer.service_layer.routing import RouterCache
from shared.schemas.file_event import FileEvent
from tests.unit.builders import MEDIA, SHOWS, SOURCE, T0, file_event

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

A, B, C = "/media/shows/a.mkv", "/media/shows/sub/b.mkv", "/media/shows/c.mkv"


async def _setup(catalog: CatalogDatabase) -> RouterCache:
    async with catalog.unit_of_work() as uow:
        await uow.sources.add(SOURCE)
        await uow.collections.add(SHOWS)
        await uow.commit()
    return RouterCache(catalog, MEDIA, synced_only=True)


async def _apply(
    catalog: CatalogDatabase,
    routers: RouterCache,
    events: list[FileEvent],
    *,
    window: timedelta = DEFAULT_MOVE_WINDOW,
) -> None:
    await apply_events(catalog, events, routers=routers, run=EVENT_BATCH, move_window=window)


async def _assets(catalog: CatalogDatabase) -> dict[str, Asset]:
    async with catalog.unit_of_work(read_only=True) as uow:
        assets = await uow.assets.list_assets(collection_uuid=SHOWS.uuid, include_deleted=True)
    return {a.canonical_key: a for a in assets}


async def _reasons(catalog: CatalogDatabase, asset_uuid: str) -> list[str]:
    async with catalog.unit_of_work(read_only=True) as uow:
        return [h.reason for h in await uow.history.for_asset(asset_uuid)]


S = timedelta(seconds=1)


async def test_a_deletion_then_a_creation_with_the_same_content_is_a_move(
    catalog: CatalogDatabase,
) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, [file_event("created", A, content=1)])
    original = (await _assets(catalog))["a.mkv"]
    await _apply(catalog, routers, [file_event("deleted", A, content=1, at=T0 + S)])
    await _apply(catalog, routers, [file_event("created", B, content=1, at=T0 + 2 * S)])

    after = await _assets(catalog)
    assert set(after) == {"sub/b.mkv"}  # one asset, at the new key: the old key is free
    moved = after["sub/b.mkv"]
    assert moved.uuid == original.uuid
    assert not moved.is_deleted and moved.deleted_at is None
    assert moved.state == original.state
    assert not moved.approved_for_broadcast
    reasons = await _reasons(catalog, moved.uuid)
    assert reasons[-1].startswith("moved (inferred): deleted at a.mkv ")
    assert reasons[-1].endswith(", same sha256")


async def test_both_halves_in_one_batch_are_a_move(catalog: CatalogDatabase) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, [file_event("created", A, content=1)])
    original = (await _assets(catalog))["a.mkv"]
    await _apply(
        catalog,
        routers,
        [
            file_event("deleted", A, content=1, at=T0 + S),
            file_event("created", B, content=1, at=T0 + S),
        ],
    )
    after = await _assets(catalog)
    assert {k: a.uuid for k, a in after.items()} == {"sub/b.mkv": original.uuid}


async def test_the_most_recently_deleted_candidate_wins_and_live_duplicates_do_not_count(
    catalog: CatalogDatabase,
) -> None:
    routers = await _setup(catalog)
    live = "/media/shows/live.mkv"
    await _apply(
        catalog,
        routers,
        [
            file_event("created", A, content=1),
            file_event("created", C, content=1),
            file_event("created", live, content=1),
        ],
    )
    before = await _assets(catalog)
    await _apply(catalog, routers, [file_event("deleted", A, content=1, at=T0 + S)])
    await _apply(catalog, routers, [file_event("deleted", C, content=1, at=T0 + 2 * S)])
    await _apply(catalog, routers, [file_event("created", B, content=1, at=T0 + 3 * S)])

    after = await _assets(catalog)
    assert after["sub/b.mkv"].uuid == before["c.mkv"].uuid
    assert after["a.mkv"].is_deleted and after["a.mkv"].uuid == before["a.mkv"].uuid
    assert not after["live.mkv"].is_deleted


async def test_other_content_a_stale_creation_or_the_window_closed_make_a_new_asset(
    catalog: CatalogDatabase,
) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, [file_event("created", A, content=1)])
    original = (await _assets(catalog))["a.mkv"]
    await _apply(catalog, routers, [file_event("deleted", A, content=1, at=T0 + 10 * S)])

    other = "/media/shows/other.mkv"
    stale = "/media/shows/stale.mkv"
    late = "/media/shows/late.mkv"
    off = "/media/shows/off.mkv"
    await _apply(catalog, routers, [file_event("created", other, content=2, at=T0 + 11 * S)])
    # Observed before the deletion it would follow: the stale guard keeps the asset where it is.
    await _apply(catalog, routers, [file_event("created", stale, content=1, at=T0 + 5 * S)])
    # Observed long after the deletion (the producer's clock): a new file with old bytes.
    await _apply(
        catalog, routers, [file_event("created", late, content=1, at=T0 + timedelta(hours=1))]
    )
    # The inference turned off.
    await _apply(
        catalog,
        routers,
        [file_event("created", off, content=1, at=T0 + 12 * S)],
        window=timedelta(0),
    )

    after = await _assets(catalog)
    assert after["a.mkv"].uuid == original.uuid and after["a.mkv"].is_deleted
    for key in ("other.mkv", "stale.mkv", "late.mkv", "off.mkv"):
        assert after[key].uuid != original.uuid, key


async def test_a_creation_applied_before_the_deletion_is_not_merged(
    catalog: CatalogDatabase,
) -> None:
    routers = await _setup(catalog)
    await _apply(catalog, routers, [file_event("created", A, content=1)])
    original = (await _assets(catalog))["a.mkv"]
    await _apply(catalog, routers, [file_event("created", B, content=1, at=T0 + S)])
    await _apply(catalog, routers, [file_event("deleted", A, content=1, at=T0 + 2 * S)])

    after = await _assets(catalog)
    assert after["a.mkv"].uuid == original.uuid and after["a.mkv"].is_deleted
    assert after["sub/b.mkv"].uuid != original.uuid and not after["sub/b.mkv"].is_deleted


async def test_a_replay_after_an_inferred_move_leaves_the_moved_asset_where_it_is(
    catalog: CatalogDatabase,
) -> None:
    routers = await _setup(catalog)
    events = [
        file_event("created", A, content=1),
        file_event("deleted", A, content=1, at=T0 + S),
        file_event("created", B, content=1, at=T0 + 2 * S),
    ]
    for event in events:
        await _apply(catalog, routers, [event])
    moved = (await _assets(catalog))["sub/b.mkv"]
    await _apply(catalog, routers, events)  # the whole log again, as `apollonia replay` would
    after = await _assets(catalog)
    # The moved asset is not pulled back (it reflects a later event), and the replayed creation
    # at the old key is older than the deletion its tombstone remembers: stale, so no asset
    # appears for a file that is not there.
    assert after["sub/b.mkv"].uuid == moved.uuid and not after["sub/b.mkv"].is_deleted
    assert "a.mkv" not in after


async def test_a_candidate_whose_key_another_writer_holds_is_left_alone(
    catalog: CatalogDatabase, catalog_backend: str
) -> None:
    """PostgreSQL, competing consumers: the old key is locked without waiting; a writer that
    holds it (applying an event for that key right now) keeps the asset, nobody deadlocks."""
    if catalog_backend != "postgresql":
        pytest.skip("key locks are PostgreSQL's (a SQLite catalog has one writer)")
    routers = await _setup(catalog)
    await _apply(catalog, routers, [file_event("created", A, content=1)])
    await _apply(catalog, routers, [file_event("deleted", A, content=1, at=T0 + S)])
    gone = (await _assets(catalog))["a.mkv"]
    since = gone.updated_at - timedelta(minutes=1)
    async with catalog.unit_of_work() as holder:
        await holder.assets.fingerprints_for_keys(SHOWS.uuid, ["a.mkv"])  # locks the key
        async with catalog.unit_of_work() as other:
            found = await other.assets.deleted_by_sha256(
                SHOWS.uuid, [gone.sha256 or ""], deleted_since=since
            )
            assert found == {}
        mine = await holder.assets.deleted_by_sha256(
            SHOWS.uuid, [gone.sha256 or ""], deleted_since=since
        )
        assert [a.uuid for a in mine[gone.sha256 or ""]] == [gone.uuid]
