"""`RouterCache` and `plan_batch`: collections are loaded once per ttl, and looked up again when
a batch holds a path no cached collection matches."""

from __future__ import annotations

from consumer.domain.catalog import Collection
from consumer.service_layer.apply import FilePresent
from consumer.service_layer.routing import RouterCache, plan_batch
from tests.unit.builders import MEDIA, SHOWS, catalog, collection, file_event
from tests.unit.fakes import FakeCatalog

MUSIC = collection("col-music", "Music videos", "/media/music")


def route_loads(fake: FakeCatalog) -> int:
    return sum(1 for uow in fake.opened if uow.label == "route")


async def add_collection(fake: FakeCatalog, collection: Collection) -> None:
    async with fake.unit_of_work(label="collection add") as uow:
        await uow.collections.add(collection)
        await uow.commit()


async def test_a_fresh_cache_is_reused_within_its_ttl() -> None:
    fake = catalog()
    routers = RouterCache(fake, MEDIA, synced_only=True, ttl=3600)

    await plan_batch(routers, [file_event("created", "/media/shows/a.mkv")])
    await plan_batch(routers, [file_event("created", "/media/shows/b.mkv")])

    assert route_loads(fake) == 1


async def test_an_unmatched_path_reloads_a_stale_cache_and_finds_a_new_collection() -> None:
    fake = catalog()
    routers = RouterCache(fake, MEDIA, synced_only=True, ttl=3600)
    await plan_batch(routers, [file_event("created", "/media/shows/a.mkv")])
    await add_collection(fake, MUSIC)

    plan = await plan_batch(routers, [file_event("created", "/media/music/Clip.mp4")])

    assert plan.unmatched == []
    (change,) = plan.groups[MUSIC.uuid].changes
    assert isinstance(change, FilePresent) and change.obs.canonical_key == "Clip.mp4"
    assert route_loads(fake) == 2


async def test_an_unmatched_path_on_a_just_loaded_cache_does_not_reload() -> None:
    fake = catalog()
    routers = RouterCache(fake, MEDIA, synced_only=True, ttl=3600)

    plan = await plan_batch(routers, [file_event("created", "/elsewhere/Clip.mp4")])

    assert len(plan.unmatched) == 1
    assert route_loads(fake) == 1


async def test_a_zero_ttl_loads_for_every_batch() -> None:
    fake = catalog()
    routers = RouterCache(fake, MEDIA, ttl=0)
    await plan_batch(routers, [file_event("created", "/media/shows/a.mkv")])
    await add_collection(fake, MUSIC)

    plan = await plan_batch(routers, [file_event("created", "/media/music/Clip.mp4")])

    assert set(plan.groups) == {MUSIC.uuid}
    assert route_loads(fake) == 2


async def test_forget_loads_again_next_time() -> None:
    fake = catalog()
    routers = RouterCache(fake, MEDIA, ttl=3600)
    _, first = await routers.get()
    routers.forget()
    router, fresh = await routers.get()

    assert first and fresh
    assert SHOWS.uuid in router.collections
    assert route_loads(fake) == 2
    assert all(uow.read_only for uow in fake.opened if uow.label == "route")
