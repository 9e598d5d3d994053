"""When is a file complete? The settle rules, as a pure state machine with an injected clock.

A path becomes *pending* on any observation and is prospected only once it is complete:

* `IN_CLOSE_WRITE` and `IN_MOVED_TO` make it a **candidate** (a writer finished, or a finished
  file was renamed into place); so does a scan finding a new or changed file.
* `IN_CREATE` / `IN_MODIFY` only (re)start its timer, and `IN_MODIFY` after a close takes the
  candidacy back (someone is writing again).
* When the timer runs out (`settle_seconds` after the last observation) the file is stat'ed: if its
  size, mtime and inode differ from the last stat, the timer restarts; if they are unchanged and
  the path is a candidate, it is **ready**. So every event of one file coalesces into one prospect,
  of its final content.
* A path that was written but never closed (a writer still holding it, or a hard link, which
  produces only `IN_CREATE`) is ready once it has also been quiet for `open_grace` seconds.

Nothing here does I/O or reads a clock: callers pass `now` and the stat signature, so the rules are
unit-tested with a fake clock. `ingestor.settler` drives it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from ingestor.paths import is_at_or_under, rebase
from ingestor.records import SettleSig

Strength = Literal["write", "closed", "scan"]

DEFAULT_OPEN_GRACE = 60.0


class Verdict(Enum):
    READY = "ready"  # complete: prospect it (the entry is removed)
    WAIT = "wait"  # not yet: it has been rescheduled
    GONE = "gone"  # vanished or not a regular file (the entry is removed)


@dataclass(slots=True)
class _Entry:
    sig: SettleSig | None
    candidate: bool
    event_type: str
    deadline: float
    last_event: float
    written: bool = False  # an IN_MODIFY was seen: the content changed, whatever stat says
    scheduled_at: float | None = None  # deadline of this entry's live heap item


class SettleTracker:
    def __init__(self, settle_seconds: float, open_grace: float = DEFAULT_OPEN_GRACE) -> None:
        self.settle_seconds = settle_seconds
        self.open_grace = max(open_grace, settle_seconds)
        self._entries: dict[bytes, _Entry] = {}
        self._heap: list[tuple[float, int, bytes]] = []
        self._counter = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def event_type(self, path: bytes) -> str | None:
        entry = self._entries.get(path)
        return entry.event_type if entry else None

    def was_written(self, path: bytes) -> bool:
        """An IN_MODIFY was seen: read the file even if its size and mtime look cached (two
        writes within one timestamp tick leave both unchanged)."""
        entry = self._entries.get(path)
        return entry.written if entry else False

    def _schedule(self, path: bytes, entry: _Entry) -> None:
        # One live heap item per entry; a later deadline is handled when the item pops, an
        # earlier one (e.g. a close after a long grace wait) needs a new item.
        if entry.scheduled_at is None or entry.deadline < entry.scheduled_at:
            entry.scheduled_at = entry.deadline
            self._counter += 1
            heapq.heappush(self._heap, (entry.deadline, self._counter, path))

    def observe(
        self,
        path: bytes,
        now: float,
        strength: Strength,
        event_type: str,
        sig: SettleSig | None = None,
    ) -> None:
        """Record an observation of `path`."""
        entry = self._entries.get(path)
        written = event_type == "IN_MODIFY"
        if entry is None:
            entry = _Entry(
                sig=sig,
                candidate=strength != "write",
                event_type=event_type,
                deadline=now + self.settle_seconds,
                last_event=now,
                written=written,
            )
            self._entries[path] = entry
            self._schedule(path, entry)
            return
        if strength == "scan":
            # A scan knows nothing about open writers: it never takes or grants candidacy to an
            # entry inotify already tracks, and restarts the timer only when the stat changed.
            if sig is not None and sig != entry.sig:
                entry.sig = sig
                entry.deadline = now + self.settle_seconds
            self._schedule(path, entry)
            return
        entry.last_event = now
        entry.deadline = now + self.settle_seconds
        entry.written = entry.written or written
        if strength == "write":
            entry.candidate = False
        else:
            entry.candidate = True
            entry.event_type = event_type
            if sig is not None:
                entry.sig = sig
        self._schedule(path, entry)

    def next_deadline(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def due(self, now: float) -> list[bytes]:
        """Paths whose timer ran out; each must be answered with `check` (or `postpone`)."""
        out: list[bytes] = []
        while self._heap and self._heap[0][0] <= now:
            deadline, _, path = heapq.heappop(self._heap)
            entry = self._entries.get(path)
            if entry is None or entry.scheduled_at != deadline:
                continue  # stale item
            entry.scheduled_at = None
            if entry.deadline > now:  # observed again since it was scheduled
                self._schedule(path, entry)
                continue
            out.append(path)
        return out

    def check(self, path: bytes, sig: SettleSig | None, now: float) -> Verdict:
        """Decide a due path given its current stat signature (None: gone / not a file)."""
        entry = self._entries.get(path)
        if entry is None:
            return Verdict.GONE
        if sig is None:
            del self._entries[path]
            return Verdict.GONE
        if entry.deadline > now:  # observed again while it was being stat'ed
            self._schedule(path, entry)
            return Verdict.WAIT
        if sig != entry.sig:
            entry.sig = sig
            entry.deadline = now + self.settle_seconds
            self._schedule(path, entry)
            return Verdict.WAIT
        if not entry.candidate and now - entry.last_event < self.open_grace:
            entry.deadline = entry.last_event + self.open_grace
            self._schedule(path, entry)
            return Verdict.WAIT
        del self._entries[path]
        return Verdict.READY

    def promote_all(self) -> None:
        """Make every pending path a candidate: after an inotify queue overflow the closes we
        were waiting for may have been lost, so a stable stat is all we can go by."""
        for entry in self._entries.values():
            entry.candidate = True

    def hold(self, path: bytes, until: float) -> None:
        """Not ready before `until` (a file found by a new directory's listing waits for the
        other half of a rename inotify could not pair, `ingestor.arrivals`)."""
        entry = self._entries.get(path)
        if entry is not None and entry.deadline < until:
            entry.deadline = until
            self._schedule(path, entry)

    def postpone(self, path: bytes, now: float) -> None:
        """Try a due path again later (e.g. it is being prospected right now)."""
        entry = self._entries.get(path)
        if entry is not None:
            entry.deadline = now + self.settle_seconds
            self._schedule(path, entry)

    def forget(self, path: bytes) -> bool:
        return self._entries.pop(path, None) is not None

    def forget_under(self, directory: bytes) -> int:
        doomed = [p for p in self._entries if is_at_or_under(p, directory)]
        for p in doomed:
            del self._entries[p]
        return len(doomed)

    def rename(self, src: bytes, dst: bytes, now: float) -> bool:
        """A pending file was renamed: its pending state follows it (a rename is a completion)."""
        entry = self._entries.pop(src, None)
        if entry is None:
            return False
        self.observe(dst, now, "closed", "IN_MOVED_TO", entry.sig)
        self._entries[dst].written |= entry.written
        return True

    def rename_under(self, src_dir: bytes, dst_dir: bytes, now: float) -> int:
        moved = [p for p in self._entries if is_at_or_under(p, src_dir)]
        for p in moved:
            entry = self._entries.pop(p)
            target = rebase(p, src_dir, dst_dir) if p != src_dir else dst_dir
            new = _Entry(
                sig=entry.sig,
                candidate=entry.candidate,
                event_type=entry.event_type,
                deadline=max(entry.deadline, now + self.settle_seconds),
                last_event=entry.last_event,
                written=entry.written,
            )
            self._entries[target] = new
            self._schedule(target, new)
        return len(moved)

    def clear(self) -> None:
        self._entries.clear()
        self._heap.clear()
