"""Reconciliation runs: one scan per watched unit at a time, its differences observed.

A rescan asked for while one runs on the same unit is remembered (the first reason wins) and run
once it ends, so a burst of requests costs two scans, not one per request. The scan and diff are
`ingestor.reconcile`; what they find is observed as one `Reconciled` (`derive.reconciled`), and
from the launch until the coordinator has handled it, live observations under the unit are held
(`ingestor.holds`): a failed or cancelled run still observes an empty one, which releases them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from ingestor import derive, metrics
from ingestor.birth import birth_ns
from ingestor.holds import Holds
from ingestor.observations import Observation, Reconciled, Rescan
from ingestor.paths import display, is_at_or_under
from ingestor.poll import ScanUnit
from ingestor.reconcile import diff, scan_tree
from ingestor.records import FileState, lstat_many
from ingestor.settle import SettleTracker
from ingestor.stats import PipelineStats
from ingestor.store import FileStateStore
from ingestor.watch import InotifyWatcher
from shared.runtime.log import get_logger

# The stages log under the pipeline's name, as before they were split out of it.
log = get_logger("ingestor.pipeline")


class Reconciler:
    def __init__(
        self,
        *,
        state: FileStateStore,
        units: Mapping[bytes, ScanUnit],
        watcher: Callable[[], InotifyWatcher | None],
        tracker: SettleTracker,
        observe: Callable[[Observation], None],
        holds: Holds,
        stats: PipelineStats,
        stopping: Callable[[], bool],
    ) -> None:
        self.state = state
        self._holds = holds
        self._units = units  # the supervisor's, kept current by it
        self._watcher = watcher
        self._tracker = tracker
        self._observe = observe
        self.stats = stats
        self._stopping = stopping
        self._reconciles: dict[bytes, asyncio.Task[None]] = {}
        self._rerun: dict[bytes, str] = {}

    @property
    def idle(self) -> bool:
        return not self._reconciles

    @property
    def running(self) -> list[asyncio.Task[None]]:
        return list(self._reconciles.values())

    def rescan(self, obs: Rescan) -> None:
        if self._stopping():
            return
        if obs.reason == "overflow":
            # Events were lost: a file settling may never get its close event now.
            self._tracker.promote_all()
        targets = [
            u for u in self._units.values() if obs.root is None or is_at_or_under(u.root, obs.root)
        ]
        for unit in targets:
            if unit.root in self._reconciles:
                self._rerun.setdefault(unit.root, obs.reason)
                continue
            self._launch(unit, obs.reason)

    def _launch(self, unit: ScanUnit, reason: str) -> None:
        self._holds.begin(unit.root)
        task = asyncio.create_task(self._reconcile(unit, reason), name=f"reconcile {unit.label}")
        self._reconciles[unit.root] = task

        def done(_: asyncio.Task[None]) -> None:
            self._reconciles.pop(unit.root, None)
            again = self._rerun.pop(unit.root, None)
            current = self._units.get(unit.root)
            if again is not None and current is not None and not self._stopping():
                self._launch(current, again)

        task.add_done_callback(done)

    async def _reconcile(self, unit: ScanUnit, reason: str) -> None:
        findings = Reconciled(unit.root)
        try:
            findings = await self._reconcile_unit(unit, reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reconciliation failed", root=unit.label, reason=reason)
        finally:
            self._observe(findings)  # always: it ends the hold on live observations

    async def _reconcile_unit(self, unit: ScanUnit, reason: str) -> Reconciled:
        started = time.perf_counter()
        metrics.RESCANS.labels(reason=reason).inc()
        self.stats.rescans += 1
        scan = await asyncio.to_thread(scan_tree, unit.root, unit.exclude)
        watcher = self._watcher()
        if unit.mode == "inotify" and watcher is not None:
            await watcher.ensure_watched(unit.root, scan.directories)
        known = [
            k
            for k in await self.state.under(unit.root)
            if not any(is_at_or_under(k.path, e) for e in unit.exclude)
        ]
        result = await asyncio.to_thread(diff, scan, known, unit.guards, birth_ns)
        confirmed: list[FileState] = []
        if result.vanished:
            # The scan is a moment old: delete only what is still missing right now.
            now_stats = await asyncio.to_thread(lstat_many, [v.path for v in result.vanished])
            confirmed = [v for v, st in zip(result.vanished, now_stats, strict=True) if st is None]
        findings = derive.reconciled(unit.root, result, confirmed, reason)
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
        return findings


async def periodic(interval: float, observe: Callable[[Observation], None]) -> None:
    """Every `interval` seconds, a rescan of every root (inotify can miss what NFS never tells)."""
    while True:
        await asyncio.sleep(interval)
        observe(Rescan(None, "periodic"))
