"""The coordinator: every observation, from every watcher and scan, handled in order.

Observations come through one unbounded queue and are taken in batches; within a batch they are
handled one at a time, so events of one path are never reordered. Consecutive file deletions
become one emission. A reconciliation's findings (`Reconciled`) are handled as one step, and live
observations under a tree being reconciled wait for it (`ingestor.holds`). While the pipeline
stops, only deletions and moves are still handled (held ones too): they need no prospecting, and
dropping them would lose them until the next reconciliation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from ingestor.arrivals import is_listing
from ingestor.holds import Holds
from ingestor.observations import (
    FallBackToPolling,
    Gone,
    Moved,
    Observation,
    Reconciled,
    Republish,
    Rescan,
    RootLost,
    Seen,
)
from ingestor.path_events import PathEvents
from ingestor.republish import Republisher
from ingestor.rescan import Reconciler
from ingestor.settler import Settler
from ingestor.supervise import RootSupervisor
from shared.runtime.log import get_logger

# The stages log under the pipeline's name, as before they were split out of it.
log = get_logger("ingestor.pipeline")

_BATCH = 512


class Coordinator:
    def __init__(
        self,
        *,
        settler: Settler,
        path_events: PathEvents,
        reconciler: Reconciler,
        republisher: Republisher,
        supervisor: RootSupervisor,
        holds: Holds,
        stopping: Callable[[], bool],
    ) -> None:
        self.queue: asyncio.Queue[Observation | None] = asyncio.Queue()
        self._holds = holds
        self._settler = settler
        self._paths = path_events
        self._reconciler = reconciler
        self._republisher = republisher
        self._supervisor = supervisor
        self._stopping = stopping
        self._coordinating = False

    @property
    def idle(self) -> bool:
        return self.queue.empty() and not self._coordinating and self._holds.idle

    def observe(self, observation: Observation) -> None:
        self.queue.put_nowait(observation)

    def finish(self) -> None:
        """Let the loop end after the batch it holds (the pipeline is stopping)."""
        self.queue.put_nowait(None)

    async def run(self) -> None:
        while True:
            first = await self.queue.get()
            batch = [first]
            while len(batch) < _BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self._coordinating = True
            try:
                observations = [o for o in batch if o is not None]
                if self._stopping():
                    observations = [*observations, *self._holds.release_all()]
                    observations = [o for o in observations if _needed_when_stopping(o)]
                await self._handle_batch(observations)
            except Exception:
                log.exception("handling observations failed")
            finally:
                self._coordinating = False
            if self._stopping():
                return

    async def _handle_batch(self, batch: list[Observation]) -> None:
        """Handle observations in order; consecutive file deletions become one emission. One
        failing observation is logged and does not take the rest of the batch with it."""
        gone: list[Gone] = []
        for obs in [*batch, None]:
            if obs is not None and not self._stopping() and self._holds.hold(obs):
                continue
            if isinstance(obs, Gone) and not obs.is_dir:
                gone.append(obs)
                continue
            if gone:
                await _guarded(self._paths.delete_files(gone), f"{len(gone)} deletions")
                gone = []
            if obs is not None:
                await _guarded(self._handle_one(obs), repr(obs))

    async def _handle_one(self, obs: Observation) -> None:
        if isinstance(obs, Seen):
            fresh = self._settler.on_seen(obs)
            if fresh is not None and is_listing(obs):
                self._paths.arrived(obs.path, fresh)
        elif isinstance(obs, Gone):
            await (self._paths.delete_dir(obs) if obs.is_dir else self._paths.delete_files([obs]))
        elif isinstance(obs, Moved):
            await (self._paths.move_dir(obs) if obs.is_dir else self._paths.move_file(obs))
        elif isinstance(obs, Reconciled):
            await self._reconciled(obs)
        elif isinstance(obs, Rescan):
            self._reconciler.rescan(obs)
        elif isinstance(obs, Republish):
            self._republisher.start()
        elif isinstance(obs, RootLost):
            self._supervisor.on_root_lost(obs)
        else:
            self._on_fallback(obs)

    async def _reconciled(self, obs: Reconciled) -> None:
        """The scan's moves as one batch, its deletions as one, its files to settle; then what
        was held under its tree, on the cache the scan has just rebased."""
        try:
            if obs.moved:
                await _guarded(self._paths.move_files(list(obs.moved)), f"{len(obs.moved)} moves")
            away = self._holds.moved_away(obs.root, [g.path for g in obs.gone])
            if gone := [g for g in obs.gone if g.path not in away]:
                await _guarded(self._paths.delete_files(gone), f"{len(gone)} deletions")
            if not self._stopping():
                for seen in obs.seen:
                    self._settler.on_seen(seen)
        finally:
            released = self._holds.end(obs.root)
        if released:
            await self._handle_batch(released)

    def _on_fallback(self, obs: FallBackToPolling) -> None:
        if self._supervisor.fall_back(obs):
            self._reconciler.rescan(Rescan(obs.root, "fallback"))


async def _guarded(work: Coroutine[Any, Any, None], what: str) -> None:
    try:
        await work
    except Exception:
        log.exception("handling an observation failed", observation=what)


def _needed_when_stopping(obs: Observation) -> bool:
    return isinstance(obs, Gone | Moved | Reconciled)
