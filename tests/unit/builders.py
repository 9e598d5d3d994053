"""A small catalog and the file events the service-layer unit tests feed it.

One source (`/media`) with three collections: `Shows` and `Films` keep in step with the
ingestor, `Archive` has sync disabled. Events are real `FileEvent`s, built directly.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from consumer.domain.catalog import Collection, Source
from shared.schemas.file_event import EventKind, FileEvent
from tests.unit.fakes import FakeCatalog

MEDIA = frozenset({"mkv", "mp4"})
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

SOURCE = Source("src-nas", "nas", "filesystem", "/media", created_at=T0, updated_at=T0)


def collection(uuid: str, name: str, root: str, *, sync_enabled: bool = True) -> Collection:
    return Collection(
        uuid,
        SOURCE.uuid,
        name,
        root,
        sync_enabled=sync_enabled,
        created_at=T0,
        updated_at=T0,
    )


SHOWS = collection("col-shows", "Shows", "/media/shows")
FILMS = collection("col-films", "Films", "/media/films")
ARCHIVE = collection("col-archive", "Archive", "/media/archive", sync_enabled=False)


def sha(n: int) -> str:
    return f"{n:064x}"


def xxh(n: int) -> str:
    return f"{n:032x}"


def catalog(*, dry_run: bool = False) -> FakeCatalog:
    fake = FakeCatalog(dry_run=dry_run)
    fake.seed(SOURCE, SHOWS, FILMS, ARCHIVE)
    return fake


def file_event(
    kind: EventKind,
    path: str,
    *,
    content: int | None = 1,
    size: int = 1000,
    at: datetime = T0,
    mtime: datetime | None = None,
    from_path: str | None = None,
    event_id: uuid.UUID | None = None,
) -> FileEvent:
    """An event observed at `at` of a file last written at `mtime` (five minutes before `at`
    unless given); `content` picks the hashes (None: not hashed, as a deletion may be)."""
    mtime = mtime or at - timedelta(minutes=5)
    return FileEvent(
        file_path=path,
        event_type={"created": "IN_CLOSE_WRITE", "modified": "IN_MODIFY"}.get(kind, kind),
        sha256_hash=None if content is None else sha(content),
        xxh128_hash=None if content is None else xxh(content),
        size=size,
        modified_time=mtime,
        accessed_time=mtime,
        changed_time=mtime,
        timestamp=at,
        neighbors=[],
        event_id=event_id or uuid.uuid4(),
        kind=kind,
        from_path=from_path,
        mtime_ns=int(mtime.timestamp()) * 1_000_000_000,
    )
