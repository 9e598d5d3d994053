"""What the watchers and scanners tell the pipeline, in order, through one queue.

The inotify reader and the scanners only *observe*; every decision (settle, prospect, publish a
delete or a move) is taken by the pipeline's coordinator, one observation at a time, so events for
one path are never reordered.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestor.records import StatInfo
from ingestor.settle import Strength


@dataclass(frozen=True, slots=True)
class Seen:
    """A file may have been created or changed (settle it, then prospect it)."""

    path: bytes
    strength: Strength
    event_type: str
    stat: StatInfo | None = None


@dataclass(frozen=True, slots=True)
class Gone:
    """A file, or a directory with everything under it, is no longer there."""

    path: bytes
    is_dir: bool
    event_type: str


@dataclass(frozen=True, slots=True)
class Moved:
    """A file or directory was renamed inside the watched roots. `stat`: the destination's lstat
    when a scan saw it there (a file that has moved on since is still this move's file)."""

    src: bytes
    dst: bytes
    is_dir: bool
    event_type: str
    stat: StatInfo | None = None


@dataclass(frozen=True, slots=True)
class Rescan:
    """Walk a root (or every root when `root` is None) and reconcile it with the state DB."""

    root: bytes | None
    reason: str


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What one reconciliation of the unit at `root` found, handled as one step: its moves as
    one batch (the cache rebased at once, as for a live folder rename), then its deletions, then
    its new and changed files. Live observations under `root` made while it ran wait for it (see
    `ingestor.holds`), so none is derived from a cache the scan has not rebased yet."""

    root: bytes
    moved: tuple[Moved, ...] = ()
    gone: tuple[Gone, ...] = ()
    seen: tuple[Seen, ...] = ()


@dataclass(frozen=True, slots=True)
class Republish:
    """Publish every known file again from the cached hashes (`--republish-all`)."""


@dataclass(frozen=True, slots=True)
class RootLost:
    """A watched root itself was deleted, moved away or unmounted."""

    root: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class FallBackToPolling:
    """inotify cannot cover this root (watch limit): poll it instead."""

    root: bytes
    reason: str


Observation = Seen | Gone | Moved | Reconciled | Rescan | Republish | RootLost | FallBackToPolling
