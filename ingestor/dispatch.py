"""The coordinator: every observation, from every watcher and scan, handled in order.

Observations come through one unbounded queue and are taken in batches; within a batch they are
handled one at a time, so events of one path are never reordered. Consecutive file deletions
become one emission. While the pipeline stops, only deletions and moves are still handled: they
need no prospecting, and dropping them would lose them until the next reconciliation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from ingestor.observations import (
    FallBackToPolling,
    Gone,
    Moved,
    Observation,
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
        stopping: Callable[[], bool],
    ) -> None:
        self.queue: asyncio.Queue[Observation | None] = asyncio.Queue()
        self._settler = settler
        self._paths = path_events
        self._reconciler = reconciler
        self._republisher = republisher
        self._supervisor = supervisor
        self._stopping = stopping
        self._coordinating = False

    @property
    def idle(self) -> bool:
        return self.queue.empty() and not self._coordinating

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
                    observations = [o for o in observations if isinstance(o, Gone | Moved)]
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
            self._settler.on_seen(obs)
        elif isinstance(obs, Gone):
            await (self._paths.delete_dir(obs) if obs.is_dir else self._paths.delete_files([obs]))
        elif isinstance(obs, Moved):
            await (self._paths.move_dir(obs) if obs.is_dir else self._paths.move_file(obs))
        elif isinstance(obs, Rescan):
            self._reconciler.rescan(obs)
        elif isinstance(obs, Republish):
            self._republisher.start()
        elif isinstance(obs, RootLost):
            self._supervisor.on_root_lost(obs)
        else:
            self._on_fallback(obs)

    def _on_fallback(self, obs: FallBackToPolling) -> None:
        if self._supervisor.fall_back(obs):
            self._reconciler.rescan(Rescan(obs.root, "fallback"))


async def _guarded(work: Coroutine[Any, Any, None], what: str) -> None:
    try:
        await work
    except Exception:
        log.exception("handling an observation failed", observation=what)
