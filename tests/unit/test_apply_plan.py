"""`apply_plan` with a GroupWriter that fails for one collection, and `commit_group` itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from consumer.domain.catalog import Collection
from consumer.domain.media_info import media_metadata
from consumer.service_layer.apply import ApplyOutcome, Change, apply_changes
from consumer.service_layer.events import (
    EVENT_BATCH,
    GroupWriter,
    apply_plan,
    commit_group,
    in_process,
)
from consumer.service_layer.routing import Plan, RouterCache, plan_batch
from tests.unit.builders import FILMS, MEDIA, SHOWS, catalog, file_event
from tests.unit.fakes import FakeCatalog


class WriterFailedError(RuntimeError):
    pass


def failing_for(fake: FakeCatalog, failing: Collection) -> GroupWriter:
    """Commits every group on `fake`, except `failing`'s: that one is applied inside its unit of
    work and then fails before the commit, as a write error would."""
    commit = in_process(fake, run=EVENT_BATCH)

    async def write_group(
        collection: Collection, changes: Sequence[Change], *, now: datetime, run_uuid: str
    ) -> ApplyOutcome:
        if collection.uuid != failing.uuid:
            return await commit(collection, changes, now=now, run_uuid=run_uuid)
        async with fake.unit_of_work(label="doomed") as uow:
            await apply_changes(
                uow, collection, changes, now=now, run_uuid=run_uuid, describe=media_metadata
            )
            raise WriterFailedError(f"cannot write {collection.name}")

    return write_group


async def two_collection_plan(fake: FakeCatalog) -> Plan:
    return await plan_batch(
        RouterCache(fake, MEDIA, synced_only=True),
        [
            file_event("created", "/media/shows/Show/S01E01.mkv"),
            file_event("created", "/media/films/Film (2001).mkv"),
        ],
    )


async def test_isolated_failure_is_recorded_and_the_other_group_still_commits() -> None:
    fake = catalog()
    plan = await two_collection_plan(fake)

    outcome = await apply_plan(plan, failing_for(fake, SHOWS), isolate_failures=True)

    by_collection = {r.group.collection.uuid: r for r in outcome.results}
    failed, committed = by_collection[SHOWS.uuid], by_collection[FILMS.uuid]
    assert isinstance(failed.error, WriterFailedError) and failed.outcome is None
    assert committed.error is None and committed.outcome is not None
    assert committed.outcome.created == 1
    assert fake.assets(SHOWS.uuid) == []
    assert [a.canonical_key for a in fake.assets(FILMS.uuid)] == ["Film (2001).mkv"]
    assert [r.collection_uuid for r in fake.runs()] == [FILMS.uuid]


async def test_without_isolation_the_failure_propagates_and_its_group_writes_nothing() -> None:
    fake = catalog()
    plan = await two_collection_plan(fake)

    with pytest.raises(WriterFailedError):
        await apply_plan(plan, failing_for(fake, SHOWS))

    # Shows comes first in the plan: its failure stops the batch before Films too.
    assert fake.assets() == [] and fake.runs() == [] and fake.history() == []


async def test_a_failure_after_a_committed_group_leaves_that_group_committed() -> None:
    fake = catalog()
    plan = await two_collection_plan(fake)

    with pytest.raises(WriterFailedError):
        await apply_plan(plan, failing_for(fake, FILMS))

    assert [a.collection_uuid for a in fake.assets()] == [SHOWS.uuid]
    assert fake.assets(FILMS.uuid) == []


async def test_commit_group_without_write_counts_and_commits_nothing() -> None:
    fake = catalog()
    plan = await two_collection_plan(fake)
    group = plan.groups[SHOWS.uuid]

    outcome = await commit_group(
        fake,
        group.collection,
        group.changes,
        now=datetime.now(UTC),
        run_uuid="run-1",
        run=EVENT_BATCH,
        write=False,
    )

    assert outcome.created == 1
    assert fake.assets() == [] and fake.runs() == []


async def test_commit_group_writes_assets_history_and_run_in_one_commit() -> None:
    fake = catalog()
    plan = await two_collection_plan(fake)
    group = plan.groups[SHOWS.uuid]
    commits_before = len(fake.commits)

    await commit_group(
        fake,
        group.collection,
        group.changes,
        now=datetime.now(UTC),
        run_uuid="run-1",
        run=EVENT_BATCH,
    )

    assert fake.commits[commits_before:] == ["events Shows"]
    (asset,) = fake.assets()
    assert [h.run_uuid for h in fake.history(asset.uuid)] == ["run-1"]
    assert [r.uuid for r in fake.runs()] == ["run-1"]
