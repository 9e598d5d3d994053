"""Building `FileEvent`s from what the stages know: a stat, a fingerprint, cached state.

Every path goes through `paths.display` (text, undecodable bytes as `\\xNN`) and, for a name that
is not valid UTF-8, `file_path_b64` carries the exact bytes. `from_path` has no such twin: a move
whose old name is not valid UTF-8 is published as `deleted` + `created` instead (see
`docs/ingestor.md`), so every path a consumer must match is unambiguous.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from ingestor.paths import b64_if_not_utf8, display
from ingestor.prospect import Hashed
from ingestor.records import FileState, StatInfo
from shared.schemas.file_event import EventKind, FileEvent


def utc_now() -> datetime:
    return datetime.now(UTC)


def from_ns(ns: int) -> datetime:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)


def file_event(
    *,
    path: bytes,
    kind: EventKind,
    event_type: str,
    stat: StatInfo,
    sha256: str,
    xxh128: str,
    neighbors: Sequence[bytes],
    ingestor_id: str,
    now: datetime,
    from_path: bytes | None = None,
) -> FileEvent:
    """A created / modified / moved event for a file that exists and whose hashes are known."""
    return FileEvent(
        file_path=display(path),
        event_type=event_type,
        sha256_hash=sha256,
        xxh128_hash=xxh128,
        size=stat.size,
        modified_time=from_ns(stat.mtime_ns),
        accessed_time=from_ns(stat.atime_ns),
        changed_time=from_ns(stat.ctime_ns),
        timestamp=now,
        neighbors=[display(n) for n in neighbors],
        event_id=uuid.uuid4(),
        kind=kind,
        from_path=display(from_path) if from_path is not None else None,
        mtime_ns=stat.mtime_ns,
        inode=stat.inode,
        device=stat.device,
        ingestor_id=ingestor_id,
        file_path_b64=b64_if_not_utf8(path),
    )


def moved_event_from_cache(
    state: FileState,
    dst: bytes,
    *,
    event_type: str,
    neighbors: Sequence[bytes],
    ingestor_id: str,
    now: datetime,
) -> FileEvent:
    """A known file's `moved` event when `dst` can no longer be stat'ed (it has moved on or gone
    since): everything from the cache, since a rename changes neither content, size nor mtime.
    The state must hold both hashes."""
    assert state.sha256 is not None and state.xxh128 is not None
    return FileEvent(
        file_path=display(dst),
        event_type=event_type,
        sha256_hash=state.sha256,
        xxh128_hash=state.xxh128,
        size=state.size,
        modified_time=from_ns(state.mtime_ns),
        accessed_time=None,
        changed_time=None,
        timestamp=now,
        neighbors=[display(n) for n in neighbors],
        event_id=uuid.uuid4(),
        kind="moved",
        from_path=display(state.path),
        mtime_ns=state.mtime_ns,
        inode=state.inode,
        device=state.device,
        ingestor_id=ingestor_id,
        file_path_b64=b64_if_not_utf8(dst),
    )


def deleted_event(
    state: FileState, *, event_type: str, ingestor_id: str, now: datetime
) -> FileEvent:
    """A deleted event from what the state database remembers (the file is gone)."""
    return FileEvent(
        file_path=display(state.path),
        event_type=event_type,
        sha256_hash=state.sha256,
        xxh128_hash=state.xxh128,
        size=state.size,
        modified_time=from_ns(state.mtime_ns),
        accessed_time=None,
        changed_time=None,
        timestamp=now,
        neighbors=[],
        event_id=uuid.uuid4(),
        kind="deleted",
        mtime_ns=state.mtime_ns,
        inode=state.inode,
        device=state.device,
        ingestor_id=ingestor_id,
        file_path_b64=b64_if_not_utf8(state.path),
    )


def created_event(
    outcome: Hashed, *, event_type: str, ingestor_id: str, now: datetime
) -> FileEvent:
    """The `created` event for a file prospected on request (`publish`, `ingest-file`)."""
    return file_event(
        path=outcome.path,
        kind="created",
        event_type=event_type,
        stat=outcome.stat,
        sha256=outcome.fingerprint.sha256,
        xxh128=outcome.fingerprint.xxh128,
        neighbors=outcome.neighbors,
        ingestor_id=ingestor_id,
        now=now,
    )
