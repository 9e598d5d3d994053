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
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ingestor import metrics
from ingestor.config import PipelineConfig
from ingestor.events import deleted_event, file_event, utc_now
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
from ingestor.paths import display, is_at_or_under, is_utf8, rebase
from ingestor.poll import (
    Mount,
    Poller,
    ScanUnit,
    outermost,
    plan_units,
    read_mounts,
)
from ingestor.prospect import Hashed, Prospector, Skipped, Unchanged
from ingestor.reconcile import diff, scan_tree
from ingestor.records import FileState, StatInfo, lstat_many, lstat_regular
from ingestor.settle import SettleTracker, Verdict
from ingestor.sink import EventSink
from ingestor.watch import InotifyWatcher
from shared.hashing import Hasher
from shared.runtime.log import get_logger
from shared.schemas.file_event import EventKind, FileEvent

if TYPE_CHECKING:
    from asyncinotify import Inotify

log = get_logger(__name__)

_EMIT_CHUNK = 500
_COORDINATOR_BATCH = 512
# Timers that ran out within this much of each other are checked together, and a prospect batch
# waits this long for company when it would be small: a burst then costs a few large batches (one
# transaction, one directory listing each) instead of hundreds of small ones.
_COALESCE = 0.05


class FileStateStore(Protocol):
    """The hash cache the pipeline consults and updates (`ingestor.state.StateDatabase`)."""

    async def get_many(self, paths: Sequence[bytes]) -> dict[bytes, FileState]: ...

    async def under(self, directory: bytes) -> list[FileState]: ...

    def iterate(self, batch: int = ...) -> AsyncIterator[list[FileState]]: ...

    async def remember(self, events: Sequence[FileEvent]) -> None: ...

    async def refresh(self, states: Sequence[FileState]) -> None: ...


@dataclass(slots=True)
class PipelineStats:
    """Counters of this pipeline instance (the Prometheus metrics are process-wide)."""

    hashed_files: int = 0
    hashed_bytes: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    rescans: int = 0
    suppressed_deletions: int = 0


@dataclass(slots=True)
class _Flight:
    cancelled: bool = False


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
        self.prospector = Prospector(hasher)
        self.stats = PipelineStats()
        self.roots = outermost(config.roots)
        self._clock = clock
        self._now = now
        self._mounts = mounts
        self._inotify_factory = inotify_factory

        self._queue: asyncio.Queue[Observation | None] = asyncio.Queue()
        self._settle = SettleTracker(config.settle_seconds, config.open_grace)
        self._settle_wake = asyncio.Event()
        self._settle_target: float | None = None  # when the settler wakes up next on its own
        self._checking = False
        self._ready: deque[tuple[bytes, str, bool]] = deque()
        self._ready_wake = asyncio.Event()
        self._flights: dict[bytes, _Flight] = {}
        self._batches: set[asyncio.Task[None]] = set()
        self._emit_lock = asyncio.Lock()
        self._emissions: set[asyncio.Future[None]] = set()
        self._coordinating = False
        self._failures: dict[bytes, tuple[tuple[int, int], str]] = {}

        self._units: dict[bytes, ScanUnit] = {}
        self._pollers: dict[bytes, asyncio.Task[None]] = {}
        self._waiters: dict[bytes, asyncio.Task[None]] = {}
        self._reconciles: dict[bytes, asyncio.Task[None]] = {}
        self._rerun: dict[bytes, str] = {}
        self._republish: asyncio.Task[None] | None = None
        self._watcher: InotifyWatcher | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._stopping = False

    # --- public ------------------------------------------------------------------------------

    @property
    def units(self) -> list[ScanUnit]:
        return list(self._units.values())

    @property
    def watch_count(self) -> int:
        return self._watcher.watch_count if self._watcher else 0

    def is_in_flight(self, path: bytes) -> bool:
        """`path` is being prospected right now."""
        return path in self._flights

    def is_idle(self) -> bool:
        """Nothing observed is still waiting, settling, being prospected or being emitted."""
        return (
            self._queue.empty()
            and not self._coordinating
            and not self._reconciles
            and self._republish is None
            and len(self._settle) == 0
            and not self._checking
            and not self._ready
            and not self._flights
            and not self._batches
            and not self._emissions
            and (self._watcher is None or self._watcher.quiet)
        )

    async def wait_idle(self, poll: float = 0.02) -> None:
        # Idleness is a property of many parts; sampling it is simpler than an event per part.
        while not self.is_idle():  # noqa: ASYNC110
            await asyncio.sleep(poll)

    async def start(self, *, republish_all: bool = False) -> None:
        if self._started:
            raise RuntimeError("pipeline already started")
        self._started = True
        self._spawn(self._coordinate(), "coordinator")
        self._spawn(self._settle_loop(), "settler")
        self._spawn(self._prospect_loop(), "prospector")
        for root in self.roots:
            if await asyncio.to_thread(os.path.isdir, root):
                await self._activate_root(root)
            else:
                log.warning(
                    "data directory missing; waiting for it (no deletions are published for it)",
                    root=display(root),
                )
                self._wait_for_root(root)
        if self.config.reconcile_interval > 0:
            self._spawn(self._periodic(), "reconcile-timer")
        self._observe(Rescan(None, "startup"))
        if republish_all:
            self._observe(Republish())

    async def stop(self, grace: float = 10.0) -> None:
        """Stop watching, finish in-flight prospects and emissions (within `grace` seconds)."""
        if not self._started or self._stopping:
            return
        self._stopping = True
        deadline = self._clock() + grace
        background = [
            *self._pollers.values(),
            *self._waiters.values(),
            *self._reconciles.values(),
            *([self._republish] if self._republish else []),
        ]
        workers = {t.get_name(): t for t in self._tasks}
        watching = [
            workers[n] for n in ("inotify-reader", "settler", "reconcile-timer") if n in workers
        ]
        for task in (*background, *watching):
            task.cancel()
        await asyncio.gather(*background, *watching, return_exceptions=True)
        if self._watcher is not None:
            self._watcher.close()
        # The coordinator finishes the batch it holds, then exits.
        self._queue.put_nowait(None)
        coordinator = workers.get("coordinator")
        if coordinator is not None:
            await _wait(coordinator, deadline - self._clock())
        prospector = workers.get("prospector")
        if prospector is not None:
            prospector.cancel()
        if self._batches:
            await _wait_all(list(self._batches), deadline - self._clock())
        if self._emissions:
            await _wait_all(list(self._emissions), deadline - self._clock())
        await asyncio.gather(*self._tasks, *background, return_exceptions=True)
        dropped = len(self._settle) + len(self._ready)
        if dropped:
            log.info("files still settling are picked up on the next start", count=dropped)
        self._settle.clear()
        self._ready.clear()
        metrics.SETTLING.set(0)

    # --- plumbing ----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self._tasks.append(task)
        task.add_done_callback(self._crashed)
        return task

    def _crashed(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._stopping:
            log.error("pipeline task died", task=task.get_name(), error=repr(task.exception()))

    def _observe(self, observation: Observation) -> None:
        self._queue.put_nowait(observation)

    def _ensure_watcher(self) -> InotifyWatcher:
        if self._watcher is None:
            kwargs = {}
            if self._inotify_factory is not None:
                kwargs["inotify_factory"] = self._inotify_factory
            self._watcher = InotifyWatcher(
                self._observe, move_window=self.config.move_window, **kwargs
            )
            self._spawn(self._watcher.run(), "inotify-reader")
        return self._watcher

    async def _activate_root(self, root: bytes) -> None:
        mounts = await asyncio.to_thread(self._mounts)
        for unit in plan_units([root], self.config.watch_mode, mounts):
            self._units[unit.root] = unit
            if unit.mode == "inotify":
                try:
                    ok = await self._ensure_watcher().add_root(unit.root, unit.exclude)
                except OSError as exc:
                    log.warning("cannot watch data directory", root=unit.label, error=str(exc))
                    self._units.pop(unit.root, None)
                    self._wait_for_root(root)
                    return
                if not ok:
                    continue  # a FallBackToPolling observation is on its way
            else:
                self._start_poller(unit)
            log.info(
                "data directory",
                root=unit.label,
                mode=unit.mode,
                reason=unit.reason,
                excluded=[display(e) for e in sorted(unit.exclude)],
            )
        self._poll_gauge()

    def _start_poller(self, unit: ScanUnit) -> None:
        if unit.root in self._pollers:
            return
        poller = Poller(
            unit, self.config.poll_interval, lambda: self._observe(Rescan(unit.root, "poll"))
        )
        task = asyncio.create_task(poller.run(), name=f"poll {unit.label}")
        self._pollers[unit.root] = task
        self._poll_gauge()

    def _poll_gauge(self) -> None:
        metrics.POLLED_ROOTS.set(sum(1 for u in self._units.values() if u.mode == "poll"))

    def _wait_for_root(self, root: bytes) -> None:
        if root in self._waiters or self._stopping:
            return

        async def wait() -> None:
            interval = min(self.config.poll_interval, 5.0)
            # Polling the filesystem is the point: no event says "your mount is back".
            while not await asyncio.to_thread(os.path.isdir, root):  # noqa: ASYNC110
                await asyncio.sleep(interval)
            self._waiters.pop(root, None)
            log.info("data directory is back", root=display(root))
            await self._activate_root(root)
            self._observe(Rescan(root, "root_back"))

        self._waiters[root] = asyncio.create_task(wait(), name=f"wait {display(root)}")

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self.config.reconcile_interval)
            self._observe(Rescan(None, "periodic"))

    # --- the coordinator ---------------------------------------------------------------------

    async def _coordinate(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < _COORDINATOR_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._coordinating = True
            try:
                observations = [o for o in batch if o is not None]
                if self._stopping:
                    observations = [o for o in observations if isinstance(o, Gone | Moved)]
                await self._handle_batch(observations)
            except Exception:
                log.exception("handling observations failed")
            finally:
                self._coordinating = False
            if self._stopping:
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
                await self._guarded(self._delete_files(gone), f"{len(gone)} deletions")
                gone = []
            if obs is not None:
                await self._guarded(self._handle_one(obs), repr(obs))

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("handling an observation failed", observation=what)

    async def _handle_one(self, obs: Observation) -> None:
        if isinstance(obs, Seen):
            self._on_seen(obs)
        elif isinstance(obs, Gone):
            await self._delete_dir(obs) if obs.is_dir else await self._delete_files([obs])
        elif isinstance(obs, Moved):
            await self._move_dir(obs) if obs.is_dir else await self._move_file(obs)
        elif isinstance(obs, Rescan):
            self._rescan(obs)
        elif isinstance(obs, Republish):
            self._start_republish()
        elif isinstance(obs, RootLost):
            self._on_root_lost(obs)
        else:
            self._on_fallback(obs)

    def _on_seen(self, obs: Seen) -> None:
        st = obs.stat
        strength = obs.strength
        if strength == "write" and obs.event_type == "IN_CREATE":
            st = lstat_regular(obs.path)
            if st is None:
                return
            if st.nlink > 1 and st.size > 0:
                strength = "closed"  # a hard link to a finished file (link(2): only IN_CREATE)
        elif strength != "write" and st is None:
            st = lstat_regular(obs.path)
            if st is None:
                return
        self._settle.observe(
            obs.path,
            self._clock(),
            strength,
            obs.event_type,
            st.settle_sig if st is not None else None,
        )
        self._poke_settler()

    def _cancel_flights(self, path: bytes, *, tree: bool = False) -> list[bytes]:
        if not tree:
            flight = self._flights.get(path)
            if flight is None:
                return []
            flight.cancelled = True
            return [path]
        cancelled = []
        for p, flight in self._flights.items():
            if p == path or (tree and is_at_or_under(p, path)):
                flight.cancelled = True
                cancelled.append(p)
        return cancelled

    async def _delete_files(self, gone: list[Gone]) -> None:
        for g in gone:
            self._settle.forget(g.path)
            self._cancel_flights(g.path)
            self._failures.pop(g.path, None)
        async with self._emit_lock:
            known = await self.state.get_many([g.path for g in gone])
            now = self._now()
            events = []
            for g in gone:
                cached = known.pop(g.path, None)
                if cached is not None:
                    events.append(
                        deleted_event(
                            cached,
                            event_type=g.event_type,
                            ingestor_id=self.config.ingestor_id,
                            now=now,
                        )
                    )
            await self._emit_locked(events)

    async def _delete_dir(self, obs: Gone) -> None:
        self._settle.forget_under(obs.path)
        self._cancel_flights(obs.path, tree=True)
        async with self._emit_lock:
            rows = await self.state.under(obs.path)
            now = self._now()
            events = [
                deleted_event(
                    r, event_type=obs.event_type, ingestor_id=self.config.ingestor_id, now=now
                )
                for r in rows
            ]
            await self._emit_locked(events)

    async def _move_file(self, obs: Moved) -> None:
        now = self._clock()
        src, dst = obs.src, obs.dst
        self._failures.pop(src, None)
        was_pending = self._settle.rename(src, dst, now)
        was_flying = bool(self._cancel_flights(src))
        async with self._emit_lock:
            known = await self.state.get_many([src, dst])
            cached = known.get(src)
            st = lstat_regular(dst)
            if was_flying:
                self._resettle(dst, obs.event_type)
            if cached is None:
                if not was_pending and not was_flying and st is not None:
                    # Unknown before the move (never complete, or never seen): a new file.
                    self._settle.observe(dst, now, "closed", obs.event_type, st.settle_sig)
                    self._poke_settler()
                return
            neighbors: Mapping[bytes, list[bytes]] = (
                await asyncio.to_thread(self.prospector.neighbors.find, [dst]) if st else {}
            )
            events = self._move_events(
                cached, dst, st, known.get(dst), obs.event_type, neighbors.get(dst, [])
            )
            await self._emit_locked(events)

    async def _move_dir(self, obs: Moved) -> None:
        now = self._clock()
        self._settle.rename_under(obs.src, obs.dst, now)
        for p in self._cancel_flights(obs.src, tree=True):
            self._resettle(rebase(p, obs.src, obs.dst), obs.event_type)
        async with self._emit_lock:
            rows = await self.state.under(obs.src)
            if not rows:
                return
            targets = [rebase(r.path, obs.src, obs.dst) for r in rows]

            def inspect() -> tuple[list[StatInfo | None], dict[bytes, list[bytes]]]:
                return lstat_many(targets), self.prospector.neighbors.find(targets)

            stats, neighbors = await asyncio.to_thread(inspect)
            known_targets = await self.state.get_many(targets)
            events: list[FileEvent] = []
            for row, dst, st in zip(rows, targets, stats, strict=True):
                events.extend(
                    self._move_events(
                        row, dst, st, known_targets.get(dst), obs.event_type, neighbors[dst]
                    )
                )
            for i in range(0, len(events), _EMIT_CHUNK):
                await self._emit_locked(events[i : i + _EMIT_CHUNK])

    def _move_events(
        self,
        cached: FileState,
        dst: bytes,
        st: StatInfo | None,
        dst_cached: FileState | None,
        event_type: str,
        neighbors: Sequence[bytes],
    ) -> list[FileEvent]:
        """Events for a known file that moved to `dst` (no rehash when its stat is unchanged)."""
        now = self._now()
        ingestor_id = self.config.ingestor_id
        gone = deleted_event(cached, event_type="IN_MOVED_FROM", ingestor_id=ingestor_id, now=now)
        if st is None:
            return [gone]
        if st.content_sig != cached.content_sig or not cached.sha256 or not cached.xxh128:
            # Not the content we know: publish the old path as gone and prospect the new one.
            self._settle.observe(dst, self._clock(), "closed", event_type, st.settle_sig)
            self._poke_settler()
            return [gone]
        if dst_cached is not None or not is_utf8(cached.path):
            # Renamed over a known file, or an old name a consumer could not match exactly:
            # deleted + created/modified, still from the cached hashes.
            kind: EventKind = "modified" if dst_cached is not None else "created"
            return [
                gone,
                file_event(
                    path=dst,
                    kind=kind,
                    event_type=event_type,
                    stat=st,
                    sha256=cached.sha256,
                    xxh128=cached.xxh128,
                    neighbors=neighbors,
                    ingestor_id=ingestor_id,
                    now=now,
                ),
            ]
        return [
            file_event(
                path=dst,
                kind="moved",
                event_type=event_type,
                stat=st,
                sha256=cached.sha256,
                xxh128=cached.xxh128,
                neighbors=neighbors,
                ingestor_id=ingestor_id,
                now=now,
                from_path=cached.path,
            )
        ]

    def _poke_settler(self) -> None:
        """Wake the settler only if a timer now runs out before it would wake anyway."""
        deadline = self._settle.next_deadline()
        target = self._settle_target
        if target is None or (deadline is not None and deadline < target):
            self._settle_wake.set()

    def _resettle(self, path: bytes, event_type: str) -> None:
        self._settle.observe(path, self._clock(), "scan", event_type)
        self._poke_settler()

    def _on_root_lost(self, obs: RootLost) -> None:
        for unit_root in [u for u in self._units if is_at_or_under(u, obs.root)]:
            self._units.pop(unit_root, None)
            poller = self._pollers.pop(unit_root, None)
            if poller is not None:
                poller.cancel()
        if self._watcher is not None:
            self._watcher.remove_root(obs.root)
        self._poll_gauge()
        if obs.root in self.roots:
            self._wait_for_root(obs.root)

    def _on_fallback(self, obs: FallBackToPolling) -> None:
        unit = self._units.get(obs.root)
        if unit is None:
            return
        polled = replace(unit, mode="poll", reason=obs.reason)
        self._units[obs.root] = polled
        self._start_poller(polled)
        log.warning("data directory is polled now", root=polled.label, reason=obs.reason)
        self._rescan(Rescan(obs.root, "fallback"))

    # --- reconciliation ----------------------------------------------------------------------

    def _rescan(self, obs: Rescan) -> None:
        if self._stopping:
            return
        if obs.reason == "overflow":
            self._settle.promote_all()
        targets = [
            u for u in self._units.values() if obs.root is None or is_at_or_under(u.root, obs.root)
        ]
        for unit in targets:
            if unit.root in self._reconciles:
                self._rerun.setdefault(unit.root, obs.reason)
                continue
            self._launch_reconcile(unit, obs.reason)

    def _launch_reconcile(self, unit: ScanUnit, reason: str) -> None:
        task = asyncio.create_task(self._reconcile(unit, reason), name=f"reconcile {unit.label}")
        self._reconciles[unit.root] = task

        def done(_: asyncio.Task[None]) -> None:
            self._reconciles.pop(unit.root, None)
            again = self._rerun.pop(unit.root, None)
            current = self._units.get(unit.root)
            if again is not None and current is not None and not self._stopping:
                self._launch_reconcile(current, again)

        task.add_done_callback(done)

    async def _reconcile(self, unit: ScanUnit, reason: str) -> None:
        try:
            await self._reconcile_unit(unit, reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reconciliation failed", root=unit.label, reason=reason)

    async def _reconcile_unit(self, unit: ScanUnit, reason: str) -> None:
        started = time.perf_counter()
        metrics.RESCANS.labels(reason=reason).inc()
        self.stats.rescans += 1
        scan = await asyncio.to_thread(scan_tree, unit.root, unit.exclude)
        if unit.mode == "inotify" and self._watcher is not None:
            await self._watcher.ensure_watched(unit.root, scan.directories)
        known = [
            k
            for k in await self.state.under(unit.root)
            if not any(is_at_or_under(k.path, e) for e in unit.exclude)
        ]
        result = diff(scan, known, unit.guards)
        event_type = "poll" if reason == "poll" else "rescan"
        confirmed: list[FileState] = []
        if result.vanished:
            # The scan is a moment old: delete only what is still missing right now.
            now_stats = await asyncio.to_thread(lstat_many, [v.path for v in result.vanished])
            confirmed = [v for v, st in zip(result.vanished, now_stats, strict=True) if st is None]
        for cached, dst, _ in result.moved:
            self._observe(Moved(cached.path, dst, False, event_type))
        for cached in confirmed:
            self._observe(Gone(cached.path, False, event_type))
        for path, st in (*result.new, *result.changed):
            self._observe(Seen(path, "scan", event_type, st))
        for directory, why, count in result.suppressed:
            self.stats.suppressed_deletions += count
            metrics.DELETIONS_SUPPRESSED.inc(count)
            log.warning(
                "deletions not published: the tree looks unmounted or unreadable",
                root=unit.label,
                directory=display(directory),
                why=why,
                files=count,
            )
        changes = len(result.new) + len(result.changed) + len(confirmed) + len(result.moved)
        summary = log.info if reason != "poll" or changes else log.debug
        summary(
            "reconciled",
            root=unit.label,
            reason=reason,
            mode=unit.mode,
            files=len(scan.files),
            new=len(result.new),
            changed=len(result.changed),
            unchanged=result.unchanged,
            moved=len(result.moved),
            deleted=len(confirmed),
            suppressed=result.suppressed_count,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _start_republish(self) -> None:
        if self._republish is not None or self._stopping:
            return
        task = asyncio.create_task(self._republish_all(), name="republish")
        self._republish = task

        def done(_: asyncio.Task[None]) -> None:
            self._republish = None

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
                    return lstat_many(paths), self.prospector.neighbors.find(paths)

                stats, neighbors = await asyncio.to_thread(inspect)
                async with self._emit_lock:
                    fresh = await self.state.get_many(paths)
                    now = self._now()
                    events = []
                    for path, st in zip(paths, stats, strict=True):
                        row = fresh.get(path)
                        if (
                            row is None
                            or st is None
                            or st.content_sig != row.content_sig
                            or not row.sha256
                            or not row.xxh128
                        ):
                            skipped += 1  # changed or gone: the reconciliation publishes it
                            continue
                        events.append(
                            file_event(
                                path=path,
                                kind="created",
                                event_type="republish",
                                stat=st,
                                sha256=row.sha256,
                                xxh128=row.xxh128,
                                neighbors=neighbors[path],
                                ingestor_id=self.config.ingestor_id,
                                now=now,
                            )
                        )
                    await self._emit_locked(events)
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

    # --- settling ----------------------------------------------------------------------------

    async def _settle_loop(self) -> None:
        while True:
            self._settle_wake.clear()
            deadline = self._settle.next_deadline()
            now = self._clock()
            metrics.SETTLING.set(len(self._settle))
            if deadline is None or deadline > now:
                timeout = None if deadline is None else deadline - now + _COALESCE
                self._settle_target = None if timeout is None else now + timeout
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._settle_wake.wait()
                self._settle_target = None
                continue
            due = self._settle.due(now)
            todo: list[bytes] = []
            for path in due:
                if path in self._flights:
                    self._settle.postpone(path, now)
                else:
                    todo.append(path)
            if not todo:
                continue
            self._checking = True
            try:
                stats = await asyncio.to_thread(lstat_many, todo)
                now = self._clock()
                for path, st in zip(todo, stats, strict=True):
                    event_type = self._settle.event_type(path) or "settled"
                    written = self._settle.was_written(path)
                    verdict = self._settle.check(
                        path, st.settle_sig if st is not None else None, now
                    )
                    if verdict is Verdict.READY:
                        self._ready.append((path, event_type, written))
            finally:
                self._checking = False
            if self._ready:
                self._ready_wake.set()

    # --- prospecting -------------------------------------------------------------------------

    async def _prospect_loop(self) -> None:
        slots = asyncio.Semaphore(max(1, self.config.prospect_concurrency))
        while True:
            self._ready_wake.clear()
            if not self._ready:
                await self._ready_wake.wait()
                continue
            await slots.acquire()
            if len(self._ready) < self.config.batch_size and not self._stopping:
                await asyncio.sleep(_COALESCE)
            batch: list[tuple[bytes, str, bool]] = []
            while self._ready and len(batch) < self.config.batch_size:
                path, event_type, written = self._ready.popleft()
                if path in self._flights:
                    self._resettle(path, event_type)
                    continue
                self._flights[path] = _Flight()
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

    async def _prospect_batch(self, batch: list[tuple[bytes, str, bool]]) -> None:
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
                    cached = known.get(outcome.path)
                    fp = outcome.fingerprint
                    if cached is not None and (cached.sha256, cached.xxh128) == (
                        fp.sha256,
                        fp.xxh128,
                    ):
                        # Touched but not changed: remember the new stat, publish nothing.
                        refresh.append((outcome.path, _refreshed(cached, outcome.stat)))
                        continue
                    events.append(
                        (
                            outcome.path,
                            file_event(
                                path=outcome.path,
                                kind="modified" if cached is not None else "created",
                                event_type=event_types[outcome.path],
                                stat=outcome.stat,
                                sha256=fp.sha256,
                                xxh128=fp.xxh128,
                                neighbors=outcome.neighbors,
                                ingestor_id=self.config.ingestor_id,
                                now=now,
                            ),
                        )
                    )
                elif isinstance(outcome, Unchanged):
                    self.stats.unchanged += 1
                    metrics.PROSPECTED.labels(outcome="unchanged").inc()
                    st, cached = outcome.stat, outcome.cached
                    if (cached.device, cached.inode) != (st.device, st.inode):
                        refresh.append((outcome.path, _refreshed(cached, st)))
                elif self._skipped(outcome):
                    retry.append(outcome.path)
            async with self._emit_lock:
                live = [e for p, e in events if not self._flights[p].cancelled]
                fresh = [s for p, s in refresh if not self._flights[p].cancelled]
                await self._emit_locked(live, fresh)
        except Exception:
            log.exception("prospecting failed; the files will be tried again", files=len(paths))
            retry = paths
        finally:
            for path in paths:
                flight = self._flights.pop(path, None)
                if path in retry and flight is not None and not flight.cancelled:
                    self._resettle(path, event_types[path])

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

    # --- emitting ----------------------------------------------------------------------------

    async def _emit_locked(
        self, events: Sequence[FileEvent], refresh: Sequence[FileState] = ()
    ) -> None:
        """Hand events to the sink, then record them (caller holds the emit lock). Shielded: a
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


def _refreshed(cached: FileState, st: StatInfo) -> FileState:
    return replace(cached, device=st.device, inode=st.inode, size=st.size, mtime_ns=st.mtime_ns)


async def _wait(task: asyncio.Task[None], budget: float) -> None:
    try:
        async with asyncio.timeout(max(0.0, budget)):
            await asyncio.shield(task)
    except TimeoutError:
        task.cancel()
    except Exception:
        pass


async def _wait_all(tasks: Sequence[asyncio.Future[None]], budget: float) -> None:
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, budget))
    for task in pending:
        task.cancel()
