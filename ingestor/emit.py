"""Emission: events to the sink first, then into the state cache, one batch at a time.

The lock makes a stage's read of the cache and its emission one step, so events of one path are
never reordered and the cache never claims more than the sink has. A crash between sink and cache
at worst republishes (consumers are idempotent). An emission is shielded from cancellation so a
shutdown never splits it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from ingestor import metrics
from ingestor.records import FileState
from ingestor.sink import EventSink
from ingestor.stats import PipelineStats
from ingestor.store import FileStateStore
from shared.runtime.log import get_logger
from shared.schemas.file_event import FileEvent

# The stages log under the pipeline's name, as before they were split out of it.
log = get_logger("ingestor.pipeline")


class Emitter:
    def __init__(self, state: FileStateStore, sink: EventSink, stats: PipelineStats) -> None:
        self.state = state
        self.sink = sink
        self.stats = stats
        self.lock = asyncio.Lock()  # held from reading the cache to the end of the emission
        self._emissions: set[asyncio.Future[None]] = set()

    @property
    def idle(self) -> bool:
        return not self._emissions

    @property
    def pending(self) -> list[asyncio.Future[None]]:
        return list(self._emissions)

    async def emit_locked(
        self, events: Sequence[FileEvent], refresh: Sequence[FileState] = ()
    ) -> None:
        """Hand events to the sink, then record them (caller holds `lock`). Shielded: a
        cancellation never leaves a batch half-recorded."""
        if not events and not refresh:
            return
        future = asyncio.ensure_future(self._emit_now(list(events), list(refresh)))
        self._emissions.add(future)
        future.add_done_callback(self._emissions.discard)
        await asyncio.shield(future)

    async def _emit_now(self, events: list[FileEvent], refresh: list[FileState]) -> None:
        if events:
            await self.sink.submit(events)
            if not getattr(self.sink, "keeps_state_cache", False):
                await self.state.remember(events)
            for event in events:
                self.stats.events[event.kind] += 1
                metrics.EVENTS_RECORDED.labels(kind=event.kind).inc()
            log.debug(
                "events recorded",
                count=len(events),
                kinds=dict(Counter(e.kind for e in events)),
            )
        if refresh:
            await self.state.refresh(refresh)
