"""A batch of deliveries onto the catalog: parse, route, plan, apply, settle.

    prepare: parse (poison ─▶ dead-lettered), route by collection, plan
        path rejected ─▶ dead-lettered; unmatched / ignored ─▶ counted, acked with the batch
    finish: one unit of work per collection group (through the writer)
        committed ─▶ its messages acked; failed ─▶ its messages nacked for redelivery

Routing, planning and applying are the service layer's one apply path, in its two halves
(`plan_batch`, then `apply_plan` with the writer as the `GroupWriter`), so the worker can
dead-letter rejected paths in between and prepare the next batch while the writer applies this one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from consumer import metrics
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.entrypoints.acks import Acknowledger
from consumer.entrypoints.amqp_transport import Delivery
from consumer.entrypoints.config import ConsumerConfig
from consumer.entrypoints.unmatched_report import UnmatchedReport
from consumer.entrypoints.worker_log import log
from consumer.entrypoints.writer import GroupWriter, InProcessWriter
from consumer.service_layer.events import GroupResult, apply_plan
from consumer.service_layer.routing import Plan, RouterCache, plan_batch
from shared.schemas.file_event import FileEvent
from shared.schemas.parse import PoisonError, parse_event

ROUTER_TTL = 5.0  # seconds a loaded set of collections is reused


class DeadLetter(Protocol):
    def __call__(
        self, message: Delivery, category: str, reason: str, *, event_id: str | None = None
    ) -> Awaitable[None]: ...


@dataclass(slots=True)
class Prepared:
    pending: list[Pending]
    plan: Plan | None


@dataclass
class Pending:
    """A delivered message and the groups it still waits for."""

    message: Delivery
    event: FileEvent | None = None
    waiting: int = 0
    failed: bool = False
    settled: bool = False  # dead-lettered already


class BatchApplier:
    """Prepares and finishes batches; every message ends acked, nacked or dead-lettered."""

    def __init__(
        self,
        config: ConsumerConfig,
        catalog: CatalogDatabase,
        *,
        acks: Acknowledger[Delivery],
        dead_letter: DeadLetter,
        unmatched: UnmatchedReport,
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.writer: GroupWriter = InProcessWriter(
            catalog, move_window=timedelta(seconds=config.move_inference_window_s)
        )
        self._acks = acks
        self._dead_letter = dead_letter
        self._unmatched = unmatched
        self.db_ok = True
        self.applied = 0  # messages acked after a commit (tests and benchmarks)
        self._routers = RouterCache(
            catalog, config.media_extensions, synced_only=True, ttl=ROUTER_TTL
        )

    async def prepare(self, messages: Sequence[Delivery]) -> Prepared:
        """Parse and route a batch; poison is dead-lettered here, nothing is written."""
        metrics.BATCH_SIZE.observe(len(messages))
        pending: list[Pending] = []
        for message in messages:
            try:
                event = parse_event(message.body, self.config.max_message_bytes)
            except PoisonError as exc:
                await self._dead_letter(message, exc.category, str(exc))
                continue
            pending.append(Pending(message, event))
        if not pending:
            return Prepared(pending, None)
        events = [p.event for p in pending if p.event]
        plan = await plan_batch(self._routers, events, tags=pending)
        for event, tag, reason in plan.rejected:
            assert isinstance(tag, Pending)
            tag.settled = True
            await self._dead_letter(
                tag.message,
                "path_rejected",
                f"path_rejected: {reason}",
                event_id=str(event.event_id),
            )
        for kind, entries in (("unmatched", plan.unmatched), ("ignored", plan.ignored)):
            for event, tag in entries:
                assert isinstance(tag, Pending)
                metrics.MESSAGES.labels(kind).inc()
                if kind == "unmatched":
                    self._unmatched.count()
                    log.debug(
                        "event under no collection",
                        event_id=str(event.event_id),
                        path=event.file_path,
                    )
        for group in plan.groups.values():
            for tag in group.tags:
                assert isinstance(tag, Pending)
                tag.waiting += 1
        return Prepared(pending, plan)

    async def finish(self, prepared: Prepared) -> None:
        """Apply each collection's group in its own transaction, then settle every message."""
        pending, plan = prepared.pending, prepared.plan
        if plan is None:
            return
        applied = await apply_plan(plan, self.writer.apply, isolate_failures=True)
        for result in applied.results:
            ok = self._report(result)
            for tag in result.group.tags:
                assert isinstance(tag, Pending)
                tag.waiting -= 1
                tag.failed = tag.failed or not ok
        committed_at = time.time()
        positive: list[Delivery] = []
        failed: list[Delivery] = []
        for item in pending:
            if item.waiting or item.settled:
                continue
            if item.failed:
                metrics.MESSAGES.labels("failed").inc()
                failed.append(item.message)
                continue
            positive.append(item.message)
            self.applied += 1
            if item.event is not None:
                metrics.EVENT_TO_COMMIT.observe(
                    max(0.0, committed_at - item.event.observed_at.timestamp())
                )
        # The ledger acks what may be acked with as few frames as it can (see `acks`).
        await self._acks.settle(acks=positive, nacks=failed)

    def _report(self, result: GroupResult) -> bool:
        """Metrics and a log line for one applied group; False when it failed."""
        group, outcome, exc = result.group, result.outcome, result.error
        if exc is not None or outcome is None:
            self.db_ok = False
            self._routers.forget()  # the collection may be gone: look again next time
            metrics.GROUP_FAILURES.inc()
            log.error(
                "could not apply events; returning them for redelivery",
                collection=group.collection.name,
                events=len(group.changes),
                error=f"{type(exc).__name__}: {exc}",
            )
            return False
        self.db_ok = True
        counts = Counter("stale" if d.stale else d.action.value for d in outcome.decisions)
        for label, count in counts.items():
            metrics.MESSAGES.labels(label).inc(count)
        log.info(
            "events applied",
            collection=group.collection.name,
            events=len(group.changes),
            created=outcome.created,
            updated=outcome.updated,
            skipped=outcome.skipped,
            deleted=outcome.deleted,
            moved=outcome.moved,
            stale=outcome.stale,
        )
        return True
