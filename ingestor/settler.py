"""The settler: the `SettleTracker` driven by a timer, and the queue of files ready to prospect.

Timers that ran out within `COALESCE` of each other are checked together (one lstat batch in a
thread), so a burst costs a few large checks instead of thousands of small ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

from ingestor import metrics
from ingestor.derive import needs_stat, settle_terms
from ingestor.flights import Flights
from ingestor.observations import Seen
from ingestor.records import SettleSig, StatInfo, lstat_many, lstat_regular
from ingestor.settle import SettleTracker, Strength, Verdict

# Timers that ran out within this much of each other are checked together, and a prospect batch
# waits this long for company when it would be small: a burst then costs a few large batches (one
# transaction, one directory listing each) instead of hundreds of small ones.
COALESCE = 0.05

Ready = tuple[bytes, str, bool]  # path, event type, written (rehash even when the stat says not)


class Settler:
    def __init__(
        self, tracker: SettleTracker, flights: Flights, clock: Callable[[], float]
    ) -> None:
        self.tracker = tracker
        self.ready: deque[Ready] = deque()
        self.ready_wake = asyncio.Event()
        self._flights = flights
        self._clock = clock
        self._wake = asyncio.Event()
        self._target: float | None = None  # when the loop wakes up next on its own
        self._checking = False

    @property
    def idle(self) -> bool:
        return len(self.tracker) == 0 and not self._checking and not self.ready

    def on_seen(self, obs: Seen) -> StatInfo | None:
        """Settle what `obs` saw; the lstat taken for it, if one was."""
        fresh = lstat_regular(obs.path) if needs_stat(obs) else None
        terms = settle_terms(obs, fresh)
        if terms is None:
            return fresh
        strength, sig = terms
        self.settle(obs.path, self._clock(), strength, obs.event_type, sig)
        return fresh

    def poke(self) -> None:
        """Wake the loop only if a timer now runs out before it would wake anyway."""
        deadline = self.tracker.next_deadline()
        target = self._target
        if target is None or (deadline is not None and deadline < target):
            self._wake.set()

    def resettle(self, path: bytes, event_type: str) -> None:
        """Settle `path` again from scratch (a retry, or a file whose prospect was overtaken)."""
        self.settle(path, self._clock(), "scan", event_type, None)

    def settle(
        self, path: bytes, now: float, strength: Strength, event_type: str, sig: SettleSig | None
    ) -> None:
        self.tracker.observe(path, now, strength, event_type, sig)
        self.poke()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            deadline = self.tracker.next_deadline()
            now = self._clock()
            metrics.SETTLING.set(len(self.tracker))
            if deadline is None or deadline > now:
                timeout = None if deadline is None else deadline - now + COALESCE
                self._target = None if timeout is None else now + timeout
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
                self._target = None
                continue
            due = self.tracker.due(now)
            todo: list[bytes] = []
            for path in due:
                if path in self._flights:
                    self.tracker.postpone(path, now)
                else:
                    todo.append(path)
            if not todo:
                continue
            self._checking = True
            try:
                stats = await asyncio.to_thread(lstat_many, todo)
                now = self._clock()
                for path, st in zip(todo, stats, strict=True):
                    event_type = self.tracker.event_type(path) or "settled"
                    written = self.tracker.was_written(path)
                    verdict = self.tracker.check(
                        path, st.settle_sig if st is not None else None, now
                    )
                    if verdict is Verdict.READY:
                        self.ready.append((path, event_type, written))
            finally:
                self._checking = False
            if self.ready:
                self.ready_wake.set()

    def clear(self) -> int:
        """Drop everything still settling or ready (shutdown); how many files that was."""
        dropped = len(self.tracker) + len(self.ready)
        self.tracker.clear()
        self.ready.clear()
        metrics.SETTLING.set(0)
        return dropped
