"""The in-memory catalog keeps the SQL unit of work's promises the service-layer tests rely on:
nothing is visible before `commit()`, nothing survives leaving without it, a dry run writes
nothing, rows are copies, and the schema's constraints hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from consumer.adapters.db.tables import RUN_STATUSES
from consumer.domain.assets import Asset, FileFacts, create_asset
from consumer.domain.records import HistoryEntry, IngestRun
from tests.unit import fakes
from tests.unit.builders import FILMS, SHOWS, SOURCE, T0, catalog, sha
from tests.unit.fakes import FakeCatalog, FakeConflictError, FakeIntegrityError


def asset(key: str = "a.mkv", collection_uuid: str = SHOWS.uuid, content: int = 1) -> Asset:
    obs = FileFacts(key, f"/media/shows/{key}", 10, 1_000_000_000, sha256=sha(content))
    return create_asset(collection_uuid, obs, SHOWS.enricher_checksum, T0)


async def add(fake: FakeCatalog, *assets: Asset) -> None:
    async with fake.unit_of_work() as uow:
        await uow.assets.add_many(assets)
        await uow.commit()


async def test_writes_are_visible_only_after_commit() -> None:
    fake = catalog()
    async with fake.unit_of_work() as uow:
        await uow.assets.add(asset())
        assert await uow.assets.get(SHOWS.uuid, "a.mkv") is not None  # its own writes
        assert fake.assets() == []
        async with fake.unit_of_work(read_only=True) as other:
            assert await other.assets.get(SHOWS.uuid, "a.mkv") is None
        await uow.commit()
    assert [a.canonical_key for a in fake.assets()] == ["a.mkv"]


async def test_leaving_without_commit_discards_everything() -> None:
    fake = catalog()
    with pytest.raises(LookupError):
        async with fake.unit_of_work() as uow:
            await uow.assets.add(asset())
            raise LookupError
    async with fake.unit_of_work() as uow:
        await uow.assets.add(asset("b.mkv"))
        await uow.rollback()
        await uow.commit()
    assert fake.assets() == [] and fake.commits == []


@pytest.mark.parametrize("kind", ["dry run", "read only"])
async def test_commit_of_a_dry_run_or_a_reader_is_a_rollback(kind: str) -> None:
    fake = catalog(dry_run=kind == "dry run")
    async with fake.unit_of_work(read_only=kind == "read only") as uow:
        assert uow.dry_run == (kind == "dry run")
        await uow.assets.add(asset())
        await uow.commit()
    assert fake.assets() == []


async def test_rows_are_copies_in_and_out() -> None:
    fake = catalog()
    mine = asset()
    await add(fake, mine)
    mine.size = 99
    async with fake.unit_of_work() as uow:
        read = await uow.assets.get_by_uuid(mine.uuid)
        assert read is not None and read.size == 10
        read.size = 42  # not written back without an update
        again = await uow.assets.get_by_uuid(mine.uuid)
        assert again is not None and again.size == 10
        await uow.commit()
    assert fake.assets()[0].size == 10


async def test_update_many_never_changes_collection_or_created_at() -> None:
    fake = catalog()
    mine = asset()
    await add(fake, mine)
    changed = asset()
    changed.uuid = mine.uuid
    changed.collection_uuid = FILMS.uuid
    changed.created_at = T0 + timedelta(days=1)
    changed.size = 77
    async with fake.unit_of_work() as uow:
        await uow.assets.update_many([changed])
        await uow.commit()
    (row,) = fake.assets()
    assert (row.collection_uuid, row.created_at, row.size) == (SHOWS.uuid, T0, 77)


async def test_a_key_is_held_by_one_asset_per_collection() -> None:
    fake = catalog()
    await add(fake, asset("a.mkv"), asset("b.mkv"))
    with pytest.raises(FakeIntegrityError):
        await add(fake, asset("a.mkv"))
    moved = fake.asset(SHOWS.uuid, "b.mkv")
    assert moved is not None
    moved.canonical_key = "a.mkv"
    with pytest.raises(FakeIntegrityError):
        async with fake.unit_of_work() as uow:
            await uow.assets.update(moved)
    await add(fake, asset("a.mkv", FILMS.uuid))  # another collection may
    assert len(fake.assets()) == 3


async def test_history_ignores_a_repeated_asset_and_event_but_not_null_events() -> None:
    fake = catalog()
    mine = asset()
    await add(fake, mine)
    entry = HistoryEntry(mine.uuid, "create", "new file", T0, "event-1")
    untimed = HistoryEntry(mine.uuid, "update", "no event", T0, None)
    async with fake.unit_of_work() as uow:
        await uow.history.add_many([entry, untimed])
        await uow.history.add_many([entry, untimed])
        assert await uow.history.has_event("event-1")
        await uow.commit()
    assert fake.history(mine.uuid) == [entry, untimed, untimed]
    with pytest.raises(FakeIntegrityError):  # OR IGNORE does not cover the foreign key
        async with fake.unit_of_work() as uow:
            await uow.history.add_many([HistoryEntry("no-such-asset", "create", "", T0, "e")])


async def test_runs_keep_the_status_check_of_the_schema() -> None:
    assert fakes.RUN_STATUSES == RUN_STATUSES
    fake = catalog()
    async with fake.unit_of_work() as uow:
        with pytest.raises(FakeIntegrityError):
            await uow.runs.add(IngestRun("r", "event_batch", T0, status="done"))
        await uow.runs.add(IngestRun("r", "event_batch", T0))
        await uow.runs.log("r", "info", "started", T0)
        await uow.runs.finish("r", status="success", finished_at=T0, stats={"events": 1})
        await uow.commit()
    (run,) = fake.runs()
    assert (run.status, run.stats) == ("success", {"events": 1})


async def test_removing_a_collection_cascades_to_its_assets_and_their_history() -> None:
    fake = catalog()
    mine, film = asset(), asset("f.mkv", FILMS.uuid)
    await add(fake, mine, film)
    async with fake.unit_of_work() as uow:
        await uow.history.add_many([HistoryEntry(mine.uuid, "create", "", T0, "e1")])
        await uow.collections.remove(SHOWS.uuid)
        await uow.commit()
    assert [a.uuid for a in fake.assets()] == [film.uuid]
    assert fake.history() == []


async def test_a_deferred_unit_of_work_begins_at_begin_write() -> None:
    fake = catalog()
    async with fake.unit_of_work(deferred=True) as uow:
        assert not uow.in_transaction
        await add(fake, asset())  # committed by another writer meanwhile: visible here
        assert await uow.assets.count() == 1
        await uow.begin_write()
        with pytest.raises(RuntimeError, match="already begun"):
            await uow.begin_write()
        await uow.assets.add(asset("b.mkv"))
        await uow.commit()
    assert len(fake.assets()) == 2


async def test_overlapping_writers_are_refused_rather_than_losing_an_update() -> None:
    fake = catalog()
    async with fake.unit_of_work() as first:
        await first.assets.add(asset())
        await add(fake, asset("b.mkv"))
        with pytest.raises(FakeConflictError):
            await first.commit()
    assert [a.canonical_key for a in fake.assets()] == ["b.mkv"]


async def test_stores_refuse_use_outside_the_block() -> None:
    fake = catalog()
    uow = fake.unit_of_work()
    with pytest.raises(RuntimeError, match="not open"):
        await uow.assets.count()


async def test_queries_mirror_the_sql_ones() -> None:
    fake = catalog()
    a, b, c = asset("b.mkv"), asset("a.mkv"), asset("c.mkv", content=2)
    await add(fake, a, b, c)
    async with fake.unit_of_work() as uow:
        assert await uow.assets.mark_deleted([c.uuid, c.uuid], T0) == 1
        assert await uow.assets.mark_deleted([c.uuid], T0) == 0  # already deleted
        shows = uow.assets
        assert [x.canonical_key for x in await shows.list_assets()] == ["a.mkv", "b.mkv", "c.mkv"]
        assert await shows.count(SHOWS.uuid, live_only=True) == 2
        assert set(await shows.live_hashes(SHOWS.uuid)) == {"a.mkv", "b.mkv"}
        groups = await shows.duplicate_groups(SHOWS.uuid)
        assert {k: [x.canonical_key for x in v] for k, v in groups.items()} == {
            sha(1): ["a.mkv", "b.mkv"]
        }
        assert await shows.count_duplicate_candidates(SHOWS.uuid) == 2
        live, signatures = await shows.stat_signatures(SHOWS.uuid, SHOWS.enricher_checksum)
        assert live == 2 and "10 1.0000000000 a.mkv" in signatures
        assert (await shows.stat_index(SHOWS.uuid, "other"))["c.mkv"] == (
            10,
            1_000_000_000,
            True,
            False,
        )
        assert await uow.collections.asset_counts() == {SHOWS.uuid: 2}
        assert [s.uuid for s in await uow.sources.find(SOURCE.name.upper())] == [SOURCE.uuid]
        assert [x.uuid for x in await uow.collections.find("shows")] == [SHOWS.uuid]


def test_seeding_keeps_the_schema_constraints() -> None:
    fake = FakeCatalog()
    with pytest.raises(FakeIntegrityError, match="NOT NULL"):
        fake.seed(replace(SOURCE, created_at=None))
    with pytest.raises(FakeIntegrityError, match="FOREIGN KEY"):
        fake.seed(SHOWS)  # its source is not there
    with pytest.raises(FakeIntegrityError, match=r"sources\.name"):
        fake.seed(SOURCE, replace(SOURCE, uuid="other", name=SOURCE.name.upper()))
    assert fake.state.sources == {} and fake.state.collections == {}
