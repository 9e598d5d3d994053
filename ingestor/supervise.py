"""Root supervision: each configured root watched by inotify or polled, and waited for when it
is missing or lost (no deletions are published for a root that is not there).

`plan_units` (in `ingestor.poll`) decides per root and per sub-mount how it is watched; this
module keeps the resulting units current, runs their pollers, and swaps an inotify unit for a
poller when the watch limit is reached.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ingestor import metrics
from ingestor.observations import FallBackToPolling, Observation, Rescan, RootLost
from ingestor.paths import display, is_at_or_under
from ingestor.poll import Mount, Poller, ScanUnit, WatchModeName, plan_units
from ingestor.watch import InotifyWatcher
from ingestor.workers import Workers
from shared.runtime.log import get_logger

if TYPE_CHECKING:
    from asyncinotify import Inotify

# The stages log under the pipeline's name, as before they were split out of it.
log = get_logger("ingestor.pipeline")


class RootSupervisor:
    def __init__(
        self,
        *,
        roots: list[bytes],
        watch_mode: WatchModeName,
        poll_interval: float,
        move_window: float,
        observe: Callable[[Observation], None],
        workers: Workers,
        mounts: Callable[[], list[Mount]],
        inotify_factory: Callable[[], Inotify] | None,
        stopping: Callable[[], bool],
    ) -> None:
        self.roots = roots
        self._watch_mode = watch_mode
        self._poll_interval = poll_interval
        self._move_window = move_window
        self._observe = observe
        self._workers = workers
        self._mounts = mounts
        self._inotify_factory = inotify_factory
        self._stopping = stopping
        self.units: dict[bytes, ScanUnit] = {}
        self.watcher: InotifyWatcher | None = None
        self._pollers: dict[bytes, asyncio.Task[None]] = {}
        self._waiters: dict[bytes, asyncio.Task[None]] = {}

    @property
    def idle(self) -> bool:
        """No inotify event is waiting to be read or paired."""
        return self.watcher is None or self.watcher.quiet

    @property
    def background(self) -> list[asyncio.Task[None]]:
        """The pollers and the waits for missing roots."""
        return [*self._pollers.values(), *self._waiters.values()]

    async def start(self) -> None:
        for root in self.roots:
            if await asyncio.to_thread(os.path.isdir, root):
                await self._activate(root)
            else:
                log.warning(
                    "data directory missing; waiting for it (no deletions are published for it)",
                    root=display(root),
                )
                self._wait_for(root)

    def _ensure_watcher(self) -> InotifyWatcher:
        if self.watcher is None:
            kwargs = {}
            if self._inotify_factory is not None:
                kwargs["inotify_factory"] = self._inotify_factory
            self.watcher = InotifyWatcher(self._observe, move_window=self._move_window, **kwargs)
            self._workers.spawn(self.watcher.run(), "inotify-reader")
        return self.watcher

    async def _activate(self, root: bytes) -> None:
        mounts = await asyncio.to_thread(self._mounts)
        for unit in plan_units([root], self._watch_mode, mounts):
            self.units[unit.root] = unit
            if unit.mode == "inotify":
                try:
                    ok = await self._ensure_watcher().add_root(unit.root, unit.exclude)
                except OSError as exc:
                    log.warning("cannot watch data directory", root=unit.label, error=str(exc))
                    self.units.pop(unit.root, None)
                    self._wait_for(root)
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
        poller = Poller(unit, self._poll_interval, lambda: self._observe(Rescan(unit.root, "poll")))
        task = asyncio.create_task(poller.run(), name=f"poll {unit.label}")
        self._pollers[unit.root] = task
        self._poll_gauge()

    def _poll_gauge(self) -> None:
        metrics.POLLED_ROOTS.set(sum(1 for u in self.units.values() if u.mode == "poll"))

    def _wait_for(self, root: bytes) -> None:
        if root in self._waiters or self._stopping():
            return

        async def wait() -> None:
            interval = min(self._poll_interval, 5.0)
            # Polling the filesystem is the point: no event says "your mount is back".
            while not await asyncio.to_thread(os.path.isdir, root):  # noqa: ASYNC110
                await asyncio.sleep(interval)
            self._waiters.pop(root, None)
            log.info("data directory is back", root=display(root))
            await self._activate(root)
            self._observe(Rescan(root, "root_back"))

        self._waiters[root] = asyncio.create_task(wait(), name=f"wait {display(root)}")

    def on_root_lost(self, obs: RootLost) -> None:
        for unit_root in [u for u in self.units if is_at_or_under(u, obs.root)]:
            self.units.pop(unit_root, None)
            poller = self._pollers.pop(unit_root, None)
            if poller is not None:
                poller.cancel()
        if self.watcher is not None:
            self.watcher.remove_root(obs.root)
        self._poll_gauge()
        if obs.root in self.roots:
            self._wait_for(obs.root)

    def fall_back(self, obs: FallBackToPolling) -> bool:
        """Poll a unit inotify cannot cover; True when it must be rescanned now."""
        unit = self.units.get(obs.root)
        if unit is None:
            return False
        polled = replace(unit, mode="poll", reason=obs.reason)
        self.units[obs.root] = polled
        self._start_poller(polled)
        log.warning("data directory is polled now", root=polled.label, reason=obs.reason)
        return True
