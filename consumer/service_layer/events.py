"""The one apply path for file events: route → plan → per-collection unit of work → apply → run
record → commit.

Every source of file events goes through here: the AMQP consumer (its writer, in this process or
in the writer child), `apollonia replay`, `apollonia ingest-file` and the embedded runner's sink:

    routers = RouterCache(catalog, media_extensions, synced_only=True, ttl=5.0)
    outcome = await apply_events(catalog, events, routers=routers, run=EVENT_BATCH)

A caller that must do something between planning and writing (the consumer dead-letters rejected
paths and hands groups to its writer process) calls the two halves, `plan_batch` and
`apply_plan`, with a `GroupWriter` that ends in `commit_group` wherever it runs. Collection ingest
has no routing (it knows its collection) and keeps one unit of work across its slices (D-1); it
decides and writes through the same `apply_changes`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from consumer.domain.catalog import Collection
from consumer.domain.media_info import media_metadata
from consumer.domain.move_inference import DEFAULT_MOVE_WINDOW
from consumer.domain.records import IngestRun
from consumer.service_layer.apply import ApplyOutcome, Change, apply_changes
from consumer.service_layer.routing import Group, Plan, RouterCache, plan_batch
from consumer.service_layer.unit_of_work import Catalog
from shared.schemas.file_event import FileEvent


@dataclass(frozen=True, slots=True)
class RunSpec:
    """The run record a committed group leaves in `ingest_runs`, and which counts it keeps."""

    kind: str
    scope: dict[str, object]
    stat_keys: tuple[str, ...]


EVENT_BATCH = RunSpec(
    "event_batch",
    {"kind": "events"},
    ("events", "created", "updated", "skipped", "deleted", "moved", "stale"),
)


def outcome_stats(outcome: ApplyOutcome, events: int) -> dict[str, int]:
    return {
        "events": events,
        "created": outcome.created,
        "updated": outcome.updated,
        "skipped": outcome.skipped,
        "deleted": outcome.deleted,
        "moved": outcome.moved,
        "stale": outcome.stale,
    }


# A tombstone only has to outlive any redelivery of the events it guards against (the stream's
# retention is days, not weeks); pruning runs at most once an hour per process, in a transaction
# of its own after a group's (one indexed DELETE, holding no key a consumer waits for).
TOMBSTONE_RETENTION = timedelta(days=7)
TOMBSTONE_PRUNE_EVERY = 3600.0
_last_prune: list[float] = []


async def prune_tombstones(catalog: Catalog, now: datetime) -> None:
    """Forget old tombstones, when it is time to (see TOMBSTONE_RETENTION)."""
    clock = time.monotonic()
    if _last_prune and clock - _last_prune[0] < TOMBSTONE_PRUNE_EVERY:
        return
    _last_prune[:] = [clock]
    async with catalog.unit_of_work(label="prune tombstones") as uow:
        await uow.tombstones.prune(now - TOMBSTONE_RETENTION)
        await uow.commit()


async def commit_group(
    catalog: Catalog,
    collection: Collection,
    changes: Sequence[Change],
    *,
    now: datetime,
    run_uuid: str,
    run: RunSpec | None = None,
    write: bool = True,
    move_window: timedelta = DEFAULT_MOVE_WINDOW,
) -> ApplyOutcome:
    """One collection's changes in one unit of work, with its run record, committed.

    File events infer the moves the producer published as a deletion and a creation within
    `move_window` (`APOLLONIA_MOVE_INFERENCE_WINDOW_S`; zero turns it off)."""
    async with catalog.unit_of_work(label=f"events {collection.name}") as uow:
        outcome = await apply_changes(
            uow,
            collection,
            changes,
            now=now,
            run_uuid=run_uuid,
            describe=media_metadata,
            write=write,
            move_window=move_window,
        )
        if run is not None and write:
            stats = outcome_stats(outcome, len(changes))
            await uow.runs.add(
                IngestRun(
                    uuid=run_uuid,
                    kind=run.kind,
                    source_uuid=collection.source_uuid,
                    collection_uuid=collection.uuid,
                    scope=dict(run.scope),
                    status="success",
                    started_at=now,
                    finished_at=datetime.now(UTC),
                    stats={k: stats[k] for k in run.stat_keys},
                )
            )
        await uow.commit()
    if write:
        await prune_tombstones(catalog, now)
    return outcome


class GroupWriter(Protocol):
    """Where a group's unit of work runs (this process, or the consumer's writer child)."""

    async def __call__(
        self, collection: Collection, changes: Sequence[Change], *, now: datetime, run_uuid: str
    ) -> ApplyOutcome: ...


@dataclass(slots=True)
class GroupResult:
    group: Group
    run_uuid: str
    outcome: ApplyOutcome | None = None
    error: Exception | None = None


@dataclass(slots=True)
class EventsOutcome:
    plan: Plan
    results: list[GroupResult] = field(default_factory=list)
    other_collection: list[Group] = field(default_factory=list)  # left out by `only_collection`

    @property
    def outcomes(self) -> list[ApplyOutcome]:
        return [r.outcome for r in self.results if r.outcome is not None]


async def apply_plan(
    plan: Plan,
    write_group: GroupWriter,
    *,
    only_collection: str | None = None,
    isolate_failures: bool = False,
) -> EventsOutcome:
    """Write each collection's group through `write_group`, in plan order.

    With `isolate_failures`, a group that fails is recorded with its error and the others still
    go ahead (the consumer returns only the failed group's messages); otherwise it propagates.
    """
    result = EventsOutcome(plan)
    for group in plan.groups.values():
        if only_collection is not None and group.collection.uuid != only_collection:
            result.other_collection.append(group)
            continue
        run_uuid = str(uuid.uuid4())
        try:
            outcome = await write_group(
                group.collection, group.changes, now=datetime.now(UTC), run_uuid=run_uuid
            )
        except Exception as exc:
            if not isolate_failures:
                raise
            result.results.append(GroupResult(group, run_uuid, error=exc))
            continue
        result.results.append(GroupResult(group, run_uuid, outcome))
    return result


def in_process(
    catalog: Catalog,
    *,
    run: RunSpec | None = None,
    write: bool = True,
    move_window: timedelta = DEFAULT_MOVE_WINDOW,
) -> GroupWriter:
    """A GroupWriter that commits each group on `catalog`, in this process."""

    async def write_group(
        collection: Collection, changes: Sequence[Change], *, now: datetime, run_uuid: str
    ) -> ApplyOutcome:
        return await commit_group(
            catalog,
            collection,
            changes,
            now=now,
            run_uuid=run_uuid,
            run=run,
            write=write,
            move_window=move_window,
        )

    return write_group


async def apply_events(
    catalog: Catalog,
    events: Sequence[FileEvent],
    *,
    routers: RouterCache,
    run: RunSpec | None = None,
    write: bool = True,
    only_collection: str | None = None,
    write_group: GroupWriter | None = None,
    move_window: timedelta = DEFAULT_MOVE_WINDOW,
) -> EventsOutcome:
    """Route, plan and apply `events`, one committed unit of work per collection."""
    plan = await plan_batch(routers, events)
    writer = write_group or in_process(catalog, run=run, write=write, move_window=move_window)
    return await apply_plan(plan, writer, only_collection=only_collection)
