"""The rules that turn observations and the cached state into events: pure, no I/O, no asyncio.

The pipeline's stages gather the facts (the cached `FileState`s, a fresh lstat, the neighbours)
and ask these functions what to publish; they hand the answer to the emitter and the settler.
Keeping the rules here means every case (a rename over a known file, a folder move, a touch that
changed nothing) is tested without a filesystem, a database or a broker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from ingestor.events import deleted_event, file_event, moved_event_from_cache
from ingestor.observations import Gone, Moved, Reconciled, Seen
from ingestor.paths import is_utf8, rebase
from ingestor.prospect import Hashed
from ingestor.reconcile import Diff
from ingestor.records import FileState, SettleSig, StatInfo
from ingestor.settle import Strength
from shared.schemas.file_event import EventKind, FileEvent

# --- Seen: what the settler is told ------------------------------------------------------------


def needs_stat(obs: Seen) -> bool:
    """The file must be lstat'ed before it is settled: a bare IN_CREATE may be a hard link to a
    finished file, and a closed or scanned file without a stat may already be gone."""
    if obs.strength == "write":
        return obs.event_type == "IN_CREATE"
    return obs.stat is None


def settle_terms(obs: Seen, fresh: StatInfo | None) -> tuple[Strength, SettleSig | None] | None:
    """The strength and signature to settle `obs` with, or None when there is nothing to settle.
    `fresh` is the file's lstat now; it is read only when `needs_stat(obs)`."""
    if not needs_stat(obs):
        return obs.strength, obs.stat.settle_sig if obs.stat is not None else None
    if fresh is None:
        return None
    if obs.strength == "write" and fresh.nlink > 1 and fresh.size > 0:
        # A hard link to a finished file (link(2) produces only IN_CREATE).
        return "closed", fresh.settle_sig
    return obs.strength, fresh.settle_sig


# --- Gone: deletions ----------------------------------------------------------------------------


def deleted_files(
    gone: Sequence[Gone], known: Mapping[bytes, FileState], *, ingestor_id: str, now: datetime
) -> list[FileEvent]:
    """One `deleted` per known file, in order; an unknown path (never complete) publishes
    nothing, and a path gone twice in one batch is deleted once."""
    remaining = dict(known)
    events = []
    for g in gone:
        cached = remaining.pop(g.path, None)
        if cached is not None:
            events.append(
                deleted_event(cached, event_type=g.event_type, ingestor_id=ingestor_id, now=now)
            )
    return events


def deleted_tree(
    rows: Iterable[FileState], *, event_type: str, ingestor_id: str, now: datetime
) -> list[FileEvent]:
    """A directory is gone: one `deleted` per known file under it."""
    return [deleted_event(r, event_type=event_type, ingestor_id=ingestor_id, now=now) for r in rows]


# --- Moved: renames -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoveOutcome:
    """What a known file's move publishes. `settle`: the destination's content is not the one
    the cache knows, so it must be settled (as closed) with this signature and hashed."""

    events: list[FileEvent]
    settle: SettleSig | None = None


def arrival(*, was_pending: bool, was_flying: bool, st: StatInfo | None) -> SettleSig | None:
    """An unknown file was renamed to a path whose lstat is `st`: the signature to settle it
    with as a new file, or None when it is not one: it was already settling or being prospected
    under its old name (that work follows it), or it is no longer there."""
    if was_pending or was_flying or st is None:
        return None
    return st.settle_sig


def vacated_type(event_type: str) -> str:
    """The event type of a move's old path published as `deleted`: the inotify mask for a live
    rename, the scan's own name (`rescan`, `poll`) for a scan's."""
    return "IN_MOVED_FROM" if event_type.startswith("IN_") else event_type


def moved_file(
    cached: FileState,
    dst: bytes,
    st: StatInfo | None,
    dst_cached: FileState | None,
    *,
    event_type: str,
    neighbors: Sequence[bytes],
    ingestor_id: str,
    now: datetime,
    seen: StatInfo | None = None,
) -> MoveOutcome:
    """Events for a known file that moved to `dst` (no rehash when its stat is unchanged).

    `st` is the lstat of `dst` now, `dst_cached` what the cache knows of `dst`, `seen` the stat a
    scan saw at `dst`. `st` None: the file has moved on (renamed again, deleted) since this move
    was observed. It is still this move's file — it keeps its identity with a `moved` event, and
    what became of it next is published from the observation of that (a rename again, a delete;
    a lost watch is caught by the rescan that follows it).
    """
    gone = deleted_event(
        cached, event_type=vacated_type(event_type), ingestor_id=ingestor_id, now=now
    )
    if st is None:
        if dst_cached is not None or not cached.sha256 or not cached.xxh128:
            return MoveOutcome([gone])
        if not is_utf8(cached.path):
            return MoveOutcome([gone])  # no `from_path` a consumer could match exactly
        if seen is not None and seen.content_sig == cached.content_sig:
            st = seen  # the scan's view of the file, atime and ctime included
        else:
            return MoveOutcome(
                [
                    moved_event_from_cache(
                        cached,
                        dst,
                        event_type=event_type,
                        neighbors=neighbors,
                        ingestor_id=ingestor_id,
                        now=now,
                    )
                ]
            )
    if not cached.sha256 or not cached.xxh128:
        return MoveOutcome([gone], settle=st.settle_sig)  # never hashed: nothing to move
    if st.content_sig != cached.content_sig:
        if dst_cached is not None or not is_utf8(cached.path):
            # Renamed over a known file (whose asset takes the new content), or an old name a
            # consumer could not match: the old path is gone, the new one is prospected.
            return MoveOutcome([gone], settle=st.settle_sig)
        # The file moved and its content changed (written a moment before the rename, its
        # change not published yet; or since). It is still this file: the move first, from
        # what was published of it, so it keeps its asset; then the change, once `dst` has
        # settled and been hashed (a `modified` against the row this move leaves in the cache).
        moved = moved_event_from_cache(
            cached, dst, event_type=event_type, neighbors=neighbors, ingestor_id=ingestor_id,
            now=now,
        )  # fmt: skip
        return MoveOutcome([moved], settle=st.settle_sig)
    if dst_cached is not None or not is_utf8(cached.path):
        # Renamed over a known file, or an old name a consumer could not match exactly:
        # deleted + created/modified, still from the cached hashes.
        kind: EventKind = "modified" if dst_cached is not None else "created"
        return MoveOutcome(
            [
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
        )
    return MoveOutcome(
        [
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
    )


def moved_tree_targets(rows: Iterable[FileState], src: bytes, dst: bytes) -> list[bytes]:
    """Where each known file under the moved directory `src` is now, inside `dst`."""
    return [rebase(r.path, src, dst) for r in rows]


# --- prospect outcomes --------------------------------------------------------------------------


def refreshed(cached: FileState, st: StatInfo) -> FileState:
    """The cached row with the file's current stat (same content)."""
    return replace(cached, device=st.device, inode=st.inode, size=st.size, mtime_ns=st.mtime_ns)


def hashed(
    outcome: Hashed,
    cached: FileState | None,
    *,
    event_type: str,
    ingestor_id: str,
    now: datetime,
) -> FileEvent | FileState:
    """A hashed file's event (`created` when unknown, `modified` when the content changed), or,
    when it was touched but its content is the cached one, the refreshed row to remember."""
    fp = outcome.fingerprint
    if cached is not None and (cached.sha256, cached.xxh128) == (fp.sha256, fp.xxh128):
        return refreshed(cached, outcome.stat)
    return file_event(
        path=outcome.path,
        kind="modified" if cached is not None else "created",
        event_type=event_type,
        stat=outcome.stat,
        sha256=fp.sha256,
        xxh128=fp.xxh128,
        neighbors=outcome.neighbors,
        ingestor_id=ingestor_id,
        now=now,
    )


def unchanged(cached: FileState, st: StatInfo) -> FileState | None:
    """A file whose size and mtime are the cached ones: nothing to publish, but remember a new
    device or inode (copied back in place, restored from a backup) so moves are recognised."""
    if (cached.device, cached.inode) != (st.device, st.inode):
        return refreshed(cached, st)
    return None


# --- republishing -------------------------------------------------------------------------------


def republished(
    path: bytes,
    st: StatInfo | None,
    row: FileState | None,
    *,
    neighbors: Sequence[bytes],
    ingestor_id: str,
    now: datetime,
) -> FileEvent | None:
    """`created` again from the cached hashes, or None when the file changed or is gone (the
    reconciliation publishes those)."""
    if row is None or st is None or st.content_sig != row.content_sig:
        return None
    if not row.sha256 or not row.xxh128:
        return None
    return file_event(
        path=path,
        kind="created",
        event_type="republish",
        stat=st,
        sha256=row.sha256,
        xxh128=row.xxh128,
        neighbors=neighbors,
        ingestor_id=ingestor_id,
        now=now,
    )


# --- reconciliation -----------------------------------------------------------------------------


def reconciled(
    root: bytes, result: Diff, confirmed: Sequence[FileState], reason: str
) -> Reconciled:
    """A reconciliation's findings, handled in this order: moves first (so a moved file is not
    deleted), then the deletions still true now, then new and changed files. Its events name the
    scan (`rescan`, or `poll` for a polled tree), never an inotify mask."""
    event_type = "poll" if reason == "poll" else "rescan"
    return Reconciled(
        root,
        moved=tuple(Moved(c.path, dst, False, event_type, st) for c, dst, st in result.moved),
        gone=tuple(Gone(c.path, False, event_type) for c in confirmed),
        seen=tuple(
            Seen(path, "scan", event_type, st) for path, st in (*result.new, *result.changed)
        ),
    )
