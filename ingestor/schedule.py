"""Prospect scheduling: files the settler found ready, hashed in batches, a few batches at once.

A batch is small only when little is ready: it waits `COALESCE` for company first. A file already
in flight is settled again rather than hashed twice at once. What a batch's outcomes publish is
decided by `ingestor.derive`; the batch emits them under the emit lock, minus the files deleted or
moved while it was hashing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from ingestor import derive, metrics
from ingestor.emit import Emitter
from ingestor.flights import Flights
from ingestor.paths import display
from ingestor.prospect import Hashed, Prospector, Skipped, Unchanged
from ingestor.records import FileState, lstat_regular
from ingestor.settler import COALESCE, Ready, Settler
from ingestor.stats import PipelineStats
from ingestor.store import FileStateStore
from shared.runtime.log import get_logger
from shared.schemas.file_event import FileEvent

# The stages log under the pipeline's name, as before they were split out of it.
log = get_logger("ingestor.pipeline")


class ProspectScheduler:
    def __init__(
        self,
        *,
        prospector: Prospector,
        state: FileStateStore,
        settler: Settler,
        flights: Flights,
        emitter: Emitter,
        stats: PipelineStats,
        ingestor_id: str,
        batch_size: int,
        concurrency: int,
        now: Callable[[], datetime],
        stopping: Callable[[], bool],
    ) -> None:
        self.prospector = prospector
        self.state = state
        self.settler = settler
        self.flights = flights
        self.emitter = emitter
        self.stats = stats
        self._ingestor_id = ingestor_id
        self._batch_size = batch_size
        self._concurrency = concurrency
        self._now = now
        self._stopping = stopping
        self._batches: set[asyncio.Task[None]] = set()
        # The last failure logged per path, so an unreadable file warns once, not every rescan.
        self._failures: dict[bytes, tuple[tuple[int, int], str]] = {}

    @property
    def idle(self) -> bool:
        return not self._batches

    @property
    def batches(self) -> list[asyncio.Task[None]]:
        return list(self._batches)

    def forget_failure(self, path: bytes) -> None:
        self._failures.pop(path, None)

    async def run(self) -> None:
        ready = self.settler.ready
        slots = asyncio.Semaphore(max(1, self._concurrency))
        while True:
            self.settler.ready_wake.clear()
            if not ready:
                await self.settler.ready_wake.wait()
                continue
            await slots.acquire()
            if len(ready) < self._batch_size and not self._stopping():
                await asyncio.sleep(COALESCE)
            batch: list[Ready] = []
            while ready and len(batch) < self._batch_size:
                path, event_type, written = ready.popleft()
                if path in self.flights:
                    self.settler.resettle(path, event_type)
                    continue
                self.flights.take_off(path)
                batch.append((path, event_type, written))
            if not batch:
                slots.release()
                continue
            task = asyncio.create_task(self._prospect_batch(batch), name="prospect")
            self._batches.add(task)

            def done(t: asyncio.Task[None]) -> None:
                self._batches.discard(t)
                slots.release()

            task.add_done_callback(done)

    async def _prospect_batch(self, batch: list[Ready]) -> None:
        paths = [p for p, _, _ in batch]
        event_types = {p: t for p, t, _ in batch}
        written = {p for p, _, w in batch if w}
        retry: list[bytes] = []
        try:
            known = await self.state.get_many(paths)
            outcomes = await self.prospector.prospect(paths, known, force=written)
            now = self._now()
            events: list[tuple[bytes, FileEvent]] = []
            refresh: list[tuple[bytes, FileState]] = []
            for outcome in outcomes:
                if isinstance(outcome, Hashed):
                    self._count_hashed(outcome)
                    result = derive.hashed(
                        outcome,
                        known.get(outcome.path),
                        event_type=event_types[outcome.path],
                        ingestor_id=self._ingestor_id,
                        now=now,
                    )
                    if isinstance(result, FileState):
                        refresh.append((outcome.path, result))
                    else:
                        events.append((outcome.path, result))
                elif isinstance(outcome, Unchanged):
                    self.stats.unchanged += 1
                    metrics.PROSPECTED.labels(outcome="unchanged").inc()
                    row = derive.unchanged(outcome.cached, outcome.stat)
                    if row is not None:
                        refresh.append((outcome.path, row))
                elif self._skipped(outcome):
                    retry.append(outcome.path)
            async with self.emitter.lock:
                live = [e for p, e in events if not self.flights.is_cancelled(p)]
                fresh = [s for p, s in refresh if not self.flights.is_cancelled(p)]
                await self.emitter.emit_locked(live, fresh)
        except Exception:
            log.exception("prospecting failed; the files will be tried again", files=len(paths))
            retry = paths
        finally:
            for path in paths:
                flight = self.flights.land(path)
                if path in retry and flight is not None and not flight.cancelled:
                    self.settler.resettle(path, event_types[path])

    def _count_hashed(self, outcome: Hashed) -> None:
        self.stats.hashed_files += 1
        self.stats.hashed_bytes += outcome.fingerprint.size
        metrics.PROSPECTED.labels(outcome="hashed").inc()

    def _skipped(self, outcome: Skipped) -> bool:
        """Log a file that could not be prospected; True when it should be settled again."""
        self.stats.skipped[outcome.reason] += 1
        metrics.PROSPECTED.labels(outcome=outcome.reason).inc()
        path = display(outcome.path)
        if outcome.reason == "changed":
            log.debug("file changed while it was read; settling it again", file_path=path)
            return True
        if outcome.reason == "vanished":
            log.info("file vanished before it could be read; skipped", file_path=path)
            return False
        st = lstat_regular(outcome.path)
        key = (st.content_sig if st else (0, 0), outcome.reason)
        if self._failures.get(outcome.path) != key:
            self._failures[outcome.path] = key
            log.warning("file cannot be read; skipped", file_path=path, reason=outcome.detail)
        return False
