"""The pipeline: watch → settle → prospect → sink, for every configured root.

    watchers (inotify reader, pollers, reconciliation scans)
        │  observations (Seen / Gone / Moved / Rescan ...) — one unbounded queue, in order
        ▼
    coordinator ── Gone / Moved ──────────────────────────────▶ deleted / moved events ─┐
        │ Seen                                                                          │
        ▼                                                                               ▼
    settler (SettleTracker + timer) ─ ready ─▶ prospector batches ─ created/modified ─▶ sink,
                                                (Hasher threads)                  then state cache

Every event goes to the sink first and is then recorded in the state cache (`FileStateStore`), one
emission at a time, so events of one path are never reordered and the cache never claims more than
the sink has. A crash between the two at worst republishes (consumers are idempotent); nothing is
lost. An emission is shielded from cancellation so a shutdown never splits it.

Running the pipeline with another sink (the embedded mode of `apollonia run`):

    state = await StateDatabase(state_database_url).open()    # the hash cache
    hasher = Hasher(workers, chunk_size)
    pipeline = Pipeline(
        PipelineConfig(roots=..., ingestor_id=...),  # apollonia.bootstrap builds it from settings
        state=state,
        sink=my_sink,          # anything with `async def submit(self, events) -> None`
        hasher=hasher,
    )
    await pipeline.start()     # watches, runs the startup reconciliation in the background
    ...                        # until told to stop
    await pipeline.stop()      # stops watching, finishes in-flight prospects, drains emissions
    hasher.close(); await state.close()

Nothing here touches the broker; `ingestor.service` adds the outbox sink and the publisher.

This module only wires the stages together and stops them in order; each has its own module:

* `supervise` — roots watched by inotify or polled, waited for when missing or lost;
* `dispatch` — the coordinator: every observation handled in order;
* `path_events` — Gone / Moved observations applied; `derive` — the pure rules that say which
  events they (and prospect outcomes, rescans, republishing) yield;
* `settler` — the settle timer and the ready queue; `schedule` — prospect batches; `flights` —
  files being prospected;
* `rescan` — reconciliation runs; `holds` — live observations waiting for one;
  `republish` — `--republish-all`;
* `emit` — sink, then state cache, shielded; `idle` — idleness; `workers` — tasks and shutdown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from ingestor.config import PipelineConfig
from ingestor.dispatch import Coordinator
from ingestor.emit import Emitter
from ingestor.events import utc_now
from ingestor.flights import Flights
from ingestor.holds import Holds
from ingestor.idle import all_idle, wait_until
from ingestor.neighbors import NeighborFinder
from ingestor.observations import Observation, Republish, Rescan
from ingestor.path_events import PathEvents
from ingestor.poll import Mount, ScanUnit, outermost, read_mounts
from ingestor.prospect import Prospector
from ingestor.republish import Republisher
from ingestor.rescan import Reconciler, periodic
from ingestor.schedule import ProspectScheduler
from ingestor.settle import SettleTracker
from ingestor.settler import Settler
from ingestor.sink import EventSink
from ingestor.stats import PipelineStats
from ingestor.store import FileStateStore
from ingestor.supervise import RootSupervisor
from ingestor.workers import Workers, wait_all_within, wait_within
from shared.hashing import Hasher
from shared.runtime.log import get_logger

if TYPE_CHECKING:
    from asyncinotify import Inotify

__all__ = ["FileStateStore", "Pipeline", "PipelineStats"]

log = get_logger(__name__)


class Pipeline:
    def __init__(
        self,
        config: PipelineConfig,
        *,
        state: FileStateStore,
        sink: EventSink,
        hasher: Hasher,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utc_now,
        mounts: Callable[[], list[Mount]] = read_mounts,
        inotify_factory: Callable[[], Inotify] | None = None,
    ) -> None:
        self.config = config
        self.state = state
        self.sink = sink
        self.hasher = hasher
        self.prospector = Prospector(
            hasher, neighbors=NeighborFinder(media_extensions=config.media_extensions)
        )
        self.stats = PipelineStats()
        self.roots = outermost(config.roots)
        self._clock = clock
        self._started = False
        self._stopping = False
        stopping = self._is_stopping

        self._workers = Workers(stopping)
        holds = Holds()  # live observations waiting for a reconciliation (ingestor.holds)
        self._flights = Flights()
        self._emitter = Emitter(state, sink, self.stats)
        tracker = SettleTracker(config.settle_seconds, config.open_grace)
        self._settler = Settler(tracker, self._flights, clock)
        self._scheduler = ProspectScheduler(
            prospector=self.prospector,
            state=state,
            settler=self._settler,
            flights=self._flights,
            emitter=self._emitter,
            stats=self.stats,
            ingestor_id=config.ingestor_id,
            batch_size=config.batch_size,
            concurrency=config.prospect_concurrency,
            now=now,
            stopping=stopping,
        )
        self._supervisor = RootSupervisor(
            roots=self.roots,
            watch_mode=config.watch_mode,
            poll_interval=config.poll_interval,
            move_window=config.move_window,
            observe=self._observe,
            workers=self._workers,
            mounts=mounts,
            inotify_factory=inotify_factory,
            stopping=stopping,
        )
        self._reconciler = Reconciler(
            state=state,
            units=self._supervisor.units,
            watcher=lambda: self._supervisor.watcher,
            tracker=tracker,
            observe=self._observe,
            holds=holds,
            stats=self.stats,
            stopping=stopping,
        )
        self._republisher = Republisher(
            state=state,
            emitter=self._emitter,
            neighbors=self.prospector.neighbors,
            ingestor_id=config.ingestor_id,
            now=now,
            stopping=stopping,
        )
        self._coordinator = Coordinator(
            settler=self._settler,
            path_events=PathEvents(
                state=state,
                settler=self._settler,
                flights=self._flights,
                scheduler=self._scheduler,
                emitter=self._emitter,
                neighbors=self.prospector.neighbors,
                ingestor_id=config.ingestor_id,
                clock=clock,
                now=now,
                move_window=config.move_window,
            ),
            reconciler=self._reconciler,
            republisher=self._republisher,
            supervisor=self._supervisor,
            holds=holds,
            stopping=stopping,
        )

    # --- public ------------------------------------------------------------------------------

    @property
    def units(self) -> list[ScanUnit]:
        return list(self._supervisor.units.values())

    @property
    def watch_count(self) -> int:
        watcher = self._supervisor.watcher
        return watcher.watch_count if watcher else 0

    def is_in_flight(self, path: bytes) -> bool:
        """`path` is being prospected right now."""
        return path in self._flights

    def is_idle(self) -> bool:
        """Nothing observed is still waiting, settling, being prospected or being emitted."""
        return all_idle(
            (
                self._coordinator,
                self._reconciler,
                self._republisher,
                self._settler,
                self._flights,
                self._scheduler,
                self._emitter,
                self._supervisor,
            )
        )

    async def wait_idle(self, poll: float = 0.02) -> None:
        await wait_until(self.is_idle, poll)

    async def start(self, *, republish_all: bool = False) -> None:
        if self._started:
            raise RuntimeError("pipeline already started")
        self._started = True
        self._workers.spawn(self._coordinator.run(), "coordinator")
        self._workers.spawn(self._settler.run(), "settler")
        self._workers.spawn(self._scheduler.run(), "prospector")
        await self._supervisor.start()
        if self.config.reconcile_interval > 0:
            self._workers.spawn(
                periodic(self.config.reconcile_interval, self._observe), "reconcile-timer"
            )
        self._observe(Rescan(None, "startup"))
        if republish_all:
            self._observe(Republish())

    async def stop(self, grace: float = 10.0) -> None:
        """Stop watching, finish in-flight prospects and emissions (within `grace` seconds)."""
        if not self._started or self._stopping:
            return
        self._stopping = True
        deadline = self._clock() + grace
        republish = self._republisher.task
        background = [
            *self._supervisor.background,
            *self._reconciler.running,
            *([republish] if republish else []),
        ]
        watching = self._workers.named("inotify-reader", "settler", "reconcile-timer")
        for task in (*background, *watching):
            task.cancel()
        await asyncio.gather(*background, *watching, return_exceptions=True)
        if self._supervisor.watcher is not None:
            self._supervisor.watcher.close()
        # The coordinator finishes the batch it holds, then exits.
        self._coordinator.finish()
        for coordinator in self._workers.named("coordinator"):
            await wait_within(coordinator, deadline - self._clock())
        for prospector in self._workers.named("prospector"):
            prospector.cancel()
        if batches := self._scheduler.batches:
            await wait_all_within(batches, deadline - self._clock())
        if emissions := self._emitter.pending:
            await wait_all_within(emissions, deadline - self._clock())
        await asyncio.gather(*self._workers.all, *background, return_exceptions=True)
        dropped = self._settler.clear()
        if dropped:
            log.info("files still settling are picked up on the next start", count=dropped)

    # --- plumbing ----------------------------------------------------------------------------

    def _is_stopping(self) -> bool:
        return self._stopping

    def _observe(self, observation: Observation) -> None:
        self._coordinator.observe(observation)
