"""Files a new directory's listing found: the other half of a rename inotify could not pair.

A file renamed into a directory created a moment before lands there before the directory is
watched: its old directory reports `IN_MOVED_FROM`, the new one nothing. The watcher then watches
the new directory and lists it, which finds the file as if it had been created there. Left at
that, the file is published `deleted` at its old path and `created` at the new one, and its asset
survives only if the catalog applies the deletion first (move inference): with competing
consumers it may not.

So the files such listings find are kept here for a few seconds, by device and inode, and a
deletion that comes from an unpaired `IN_MOVED_FROM` first asks for a file with the same device,
inode, size and mtime: found, it is published as the move it was. A file that moved out of the
roots keeps its inode alive elsewhere, so no other file can have it meanwhile.
"""

from __future__ import annotations

from collections import OrderedDict

from ingestor.observations import Seen
from ingestor.records import FileState, StatInfo

KEEP_SECONDS = 10.0  # far longer than the 0.5 s an unpaired IN_MOVED_FROM waits for its half
MOST = 10_000  # a directory of 100,000 files moved in at once keeps its last 10,000


def is_listing(obs: Seen) -> bool:
    """A file found by listing a directory that has just appeared (not a rescan or a poll)."""
    return obs.strength == "scan" and obs.event_type in ("IN_CREATE", "IN_MOVED_TO")


class Arrivals:
    def __init__(self) -> None:
        self._found: OrderedDict[tuple[int, int], tuple[bytes, StatInfo, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._found)

    def note(self, path: bytes, st: StatInfo, now: float) -> None:
        self._prune(now)
        key = (st.device, st.inode)
        self._found.pop(key, None)
        self._found[key] = (path, st, now)
        while len(self._found) > MOST:
            self._found.popitem(last=False)

    def claim(self, gone: FileState, now: float) -> tuple[bytes, StatInfo] | None:
        """The path a file that vanished from `gone.path` was found at, if a listing found it:
        same device, inode, size and mtime. Claimed once."""
        self._prune(now)
        if gone.device is None or gone.inode is None:
            return None
        found = self._found.get((gone.device, gone.inode))
        if found is None or found[0] == gone.path or found[1].content_sig != gone.content_sig:
            return None
        del self._found[(gone.device, gone.inode)]
        return found[0], found[1]

    def _prune(self, now: float) -> None:
        while self._found:
            _, (_, _, when) = next(iter(self._found.items()))
            if now - when <= KEEP_SECONDS:
                return
            self._found.popitem(last=False)
