"""`--republish-all`: every known file published again as `created`, from the cached hashes.

Nothing is read but a stat and the directory listings for the neighbours; a file that changed or
is gone is left to the reconciliation that runs alongside (`derive.republished`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from ingestor import derive
from ingestor.emit import Emitter
from ingestor.neighbors import NeighborFinder
from ingestor.records import StatInfo, lstat_many
from ingestor.store import FileStateStore
from shared.runtime.log import get_logger
from shared.schemas.file_event import FileEvent

# The stages log under the pipeline's name, as before they were split out of it.
log = get_logger("ingestor.pipeline")


class Republisher:
    def __init__(
        self,
        *,
        state: FileStateStore,
        emitter: Emitter,
        neighbors: NeighborFinder,
        ingestor_id: str,
        now: Callable[[], datetime],
        stopping: Callable[[], bool],
    ) -> None:
        self.state = state
        self.emitter = emitter
        self.neighbors = neighbors
        self._ingestor_id = ingestor_id
        self._now = now
        self._stopping = stopping
        self.task: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        return self.task is None

    def start(self) -> None:
        if self.task is not None or self._stopping():
            return
        task = asyncio.create_task(self._republish_all(), name="republish")
        self.task = task

        def done(_: asyncio.Task[None]) -> None:
            self.task = None

        task.add_done_callback(done)

    async def _republish_all(self) -> None:
        started = time.perf_counter()
        total = skipped = 0
        try:
            async for chunk in self.state.iterate():
                paths = [row.path for row in chunk]

                def inspect(
                    paths: list[bytes] = paths,
                ) -> tuple[list[StatInfo | None], dict[bytes, list[bytes]]]:
                    return lstat_many(paths), self.neighbors.find(paths)

                stats, neighbors = await asyncio.to_thread(inspect)
                async with self.emitter.lock:
                    fresh = await self.state.get_many(paths)
                    now = self._now()
                    events: list[FileEvent] = []
                    for path, st in zip(paths, stats, strict=True):
                        event = derive.republished(
                            path,
                            st,
                            fresh.get(path),
                            neighbors=neighbors[path],
                            ingestor_id=self._ingestor_id,
                            now=now,
                        )
                        if event is None:
                            skipped += 1
                        else:
                            events.append(event)
                    await self.emitter.emit_locked(events)
                    total += len(events)
        except asyncio.CancelledError:
            log.info("republish interrupted", republished=total)
            raise
        log.info(
            "republished every known file from cached hashes",
            count=total,
            skipped=skipped,
            seconds=round(time.perf_counter() - started, 3),
        )
