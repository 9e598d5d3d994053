"""Live observations wait while their tree is being reconciled.

A reconciliation compares a scan with the cache and its findings are applied some time after the
scan (a folder of thousands of files moved while the ingestor was down). A live observation made
meanwhile may refer to what only the scan knows: `Show B/x` renamed again, while the cache still
has it as `Show A/x`. Derived before the scan's moves, it would read as an unknown file arriving
and a known one vanishing — a `deleted` plus a `created`, the asset's identity lost. So from the
moment a unit's reconciliation starts until its findings are handled, live observations under it
are held, then handled in their order on the rebased cache. What they describe may already be in
the scan; handling it again is harmless (an unchanged file is not published twice). Requests about
the same tree (a rescan after an inotify overflow, a lost root) wait with them, so they still come
after the events they followed.

Pure bookkeeping, no asyncio: the coordinator decides when to hold and when to release.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ingestor.observations import (
    FallBackToPolling,
    Gone,
    Moved,
    Observation,
    Rescan,
    RootLost,
    Seen,
)
from ingestor.paths import is_at_or_under


def _concerns(obs: Observation, root: bytes) -> bool:
    """`obs` is about the tree at `root`: a path under it, or a request about a tree that
    overlaps it (a rescan after an overflow must still come after the events it followed)."""
    if isinstance(obs, Seen | Gone):
        return is_at_or_under(obs.path, root)
    if isinstance(obs, Moved):
        return is_at_or_under(obs.src, root) or is_at_or_under(obs.dst, root)
    if isinstance(obs, Rescan | RootLost | FallBackToPolling):
        return obs.root is None or is_at_or_under(obs.root, root) or is_at_or_under(root, obs.root)
    return False  # a reconciliation's findings, `--republish-all`: never held


class Holds:
    def __init__(self) -> None:
        self._running: Counter[bytes] = Counter()  # roots under reconciliation, how many runs
        self._held: dict[bytes, list[Observation]] = {}

    @property
    def idle(self) -> bool:
        return not self._held

    def begin(self, root: bytes) -> None:
        """A reconciliation of `root` starts: hold live observations under it from now on."""
        self._running[root] += 1

    def hold(self, obs: Observation) -> bool:
        """Keep `obs` for later when it concerns a tree under reconciliation (True), else False."""
        for root in self._running:
            if _concerns(obs, root):
                self._held.setdefault(root, []).append(obs)
                return True
        return False

    def moved_away(self, root: bytes, paths: Iterable[bytes]) -> set[bytes]:
        """The `paths` a live rename held under `root` takes away. A scan that missed such a
        file at both ends finds it vanished; deleting it before the held rename is handled
        would turn that rename into a new file, so the rename speaks for it instead."""
        moves = [o for o in self._held.get(root, []) if isinstance(o, Moved)]
        files = {m.src for m in moves if not m.is_dir}
        folders = [m.src for m in moves if m.is_dir]
        return {
            p for p in paths if p in files or any(is_at_or_under(p, folder) for folder in folders)
        }

    def end(self, root: bytes) -> list[Observation]:
        """A reconciliation's findings for `root` were applied: what was held under it, in order
        (nothing while another run of it is still going)."""
        if self._running[root] > 1:
            self._running[root] -= 1
            return []
        self._running.pop(root, None)
        return self._held.pop(root, [])

    def release_all(self) -> list[Observation]:
        """Everything held, in order per root (the pipeline is stopping)."""
        out = [obs for held in self._held.values() for obs in held]
        self._running.clear()
        self._held.clear()
        return out
