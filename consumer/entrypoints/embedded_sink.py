"""The ingestor pipeline's sink in embedded mode (`apollonia run` without a broker): events
applied straight to the catalog through the one apply path, one unit of work per collection.

`submit` returns only once everything it was given is committed (durable), and retries a failing
transaction (a locked or full disk) until it succeeds or the runner stops."""

from __future__ import annotations

import asyncio
from collections.abc import Collection as Extensions
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from consumer.domain.catalog import Collection
from consumer.domain.move_inference import DEFAULT_MOVE_WINDOW
from consumer.service_layer.apply import ApplyOutcome, Change
from consumer.service_layer.events import apply_plan, in_process
from consumer.service_layer.routing import RouterCache, plan_batch
from consumer.service_layer.unit_of_work import Catalog
from shared.retry import Backoff, retry_with_backoff
from shared.runtime.log import get_logger
from shared.schemas.file_event import FileEvent

log = get_logger(__name__)

# A locked or full disk: try again soon, then every half minute at most.
COMMIT_BACKOFF = Backoff(0.5, 30.0)


@dataclass(slots=True)
class Activity:
    """What the status line shows."""

    applied: int = 0
    unmatched: int = 0
    last_event: str = ""
    last_at: datetime | None = None
    failures: int = 0
    decisions: dict[str, int] = field(default_factory=dict)


class CatalogSink:
    def __init__(
        self,
        catalog: Catalog,
        media_extensions: Extensions[str],
        activity: Activity,
        *,
        move_window: timedelta = DEFAULT_MOVE_WINDOW,
    ) -> None:
        self.catalog = catalog
        self.routers = RouterCache(catalog, media_extensions, synced_only=True)
        self.activity = activity
        self.stopping = asyncio.Event()
        self._commit = in_process(catalog, move_window=move_window)

    async def submit(self, events: Sequence[FileEvent]) -> None:
        if not events:
            return
        plan = await plan_batch(self.routers, events)
        for event, _tag, reason in plan.rejected:
            log.error("event rejected", event_id=str(event.event_id), reason=reason)
        self.activity.unmatched += len(plan.unmatched)
        applied = await apply_plan(plan, self._until_committed)
        for result in applied.results:
            assert result.outcome is not None
            for decision in result.outcome.decisions:
                name = "stale" if decision.stale else decision.action.value
                self.activity.decisions[name] = self.activity.decisions.get(name, 0) + 1
                self.activity.last_event = f"{decision.action.value} {decision.canonical_key}"
            self.activity.applied += len(result.group.changes)
            self.activity.last_at = datetime.now(UTC)

    async def _until_committed(
        self, collection: Collection, changes: Sequence[Change], *, now: datetime, run_uuid: str
    ) -> ApplyOutcome:
        def failed(exc: BaseException, _attempt: int, delay: float) -> None:
            self.activity.failures += 1
            if self.stopping.is_set():
                raise exc
            log.warning(
                "could not apply events; retrying",
                error=str(exc),
                collection=collection.name,
                retry_in=round(delay, 2),
            )

        async def commit() -> ApplyOutcome:
            return await self._commit(collection, changes, now=now, run_uuid=run_uuid)

        outcome = await retry_with_backoff(commit, COMMIT_BACKOFF, on_failure=failed)
        assert outcome is not None  # no stop event: it returns only once committed
        return outcome
