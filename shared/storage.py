"""Why a database file cannot be written, in facts an operator can act on.

SQLite says only "unable to open database file", "attempt to write a readonly database" or
"database or disk is full". The operator needs the path, who the process runs as, who owns the
path and how much room is left; these errors carry exactly that. Their `str()` is plain and
never holds SQL, so a log line or a wrapped error stays readable; the CLI words them fully
(`apollonia.cli.errors`).
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

# sqlite3 primary result codes (sqlite3.h), readable from sqlite3.Error.sqlite_errorcode & 0xFF.
SQLITE_PERM, SQLITE_READONLY, SQLITE_FULL, SQLITE_CANTOPEN = 3, 8, 13, 14
_NOT_WRITABLE_CODES = frozenset({SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN})


@dataclass(frozen=True, slots=True)
class Identity:
    """A numeric uid:gid and, where the system knows them, their names."""

    uid: int
    gid: int
    user: str | None = None
    group: str | None = None

    @classmethod
    def of(cls, uid: int, gid: int) -> Identity:
        return cls(uid, gid, _user_name(uid), _group_name(gid))

    @classmethod
    def process(cls) -> Identity:
        return cls.of(os.geteuid(), os.getegid())

    @property
    def numeric(self) -> str:
        return f"{self.uid}:{self.gid}"

    def __str__(self) -> str:
        if self.user is None and self.group is None:
            return self.numeric
        return f"{self.numeric} ({self.user or self.uid}:{self.group or self.gid})"


def _user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


class StorageError(Exception):
    """A database that cannot be written because of where it lives, not what is written."""

    def __init__(self, database: Path, text: str) -> None:
        super().__init__(text)
        self.database = database


class NotWritableError(StorageError):
    """`blocker` (the database file, a file beside it or a folder above it) refuses writes."""

    def __init__(
        self,
        database: Path,
        *,
        blocker: Path,
        process: Identity,
        owner: Identity | None,
        mode: int | None,
        read_only_fs: bool = False,
    ) -> None:
        why = "is on a read-only file system" if read_only_fs else "is not writable"
        super().__init__(database, f"{blocker} {why} (running as {process.numeric})")
        self.blocker = blocker
        self.process = process
        self.owner = owner
        self.mode = mode
        self.read_only_fs = read_only_fs


class StorageFullError(StorageError):
    """The file system holding the database has no room left for the write."""

    def __init__(self, database: Path, *, mount_point: Path, free_bytes: int | None) -> None:
        room = "" if free_bytes is None else f", {format_bytes(free_bytes)} free"
        super().__init__(database, f"the file system at {mount_point} is full{room}")
        self.mount_point = mount_point
        self.free_bytes = free_bytes


def format_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def mount_point(path: Path) -> Path:
    """The mount point of the file system holding `path` (or its nearest existing folder)."""
    current = _existing(path.absolute())
    device = current.stat().st_dev
    while current.parent != current and current.parent.stat().st_dev == device:
        current = current.parent
    return current


def free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(_existing(path.absolute()))
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _refusal(database: Path, blocker: Path) -> NotWritableError:
    try:
        st = blocker.stat()
        owner: Identity | None = Identity.of(st.st_uid, st.st_gid)
        mode: int | None = stat.S_IMODE(st.st_mode)
        read_only_fs = bool(os.statvfs(blocker).f_flag & os.ST_RDONLY)
    except OSError:
        owner, mode, read_only_fs = None, None, False
    return NotWritableError(
        database,
        blocker=blocker,
        process=Identity.process(),
        owner=owner,
        mode=mode,
        read_only_fs=read_only_fs,
    )


def write_problem(database: Path) -> NotWritableError | None:
    """Why SQLite could not write `database` now, or None when nothing stands in the way.

    SQLite writes the file itself and, in WAL mode, `-wal` and `-shm` files beside it, which it
    creates in the folder: all must be writable."""
    database = database.absolute()
    for existing in (database, *(Path(f"{database}{s}") for s in ("-wal", "-shm", "-journal"))):
        if existing.exists() and not os.access(existing, os.R_OK | os.W_OK):
            return _refusal(database, existing)
    folder = _existing(database.parent)
    if not os.access(folder, os.W_OK | os.X_OK):
        return _refusal(database, folder)
    return None


def prepare_location(database: Path) -> None:
    """Create the folders above `database`; NotWritableError when SQLite could not write it."""
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        raise _refusal(database, _existing(database.parent)) from None
    problem = write_problem(database)
    if problem is not None:
        raise problem


def storage_error(exc: BaseException, database: Path | None) -> StorageError | None:
    """The storage problem behind a driver error on `database`, or None for any other error."""
    if database is None or not isinstance(exc, sqlite3.Error):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc).lower()
    if code == SQLITE_FULL or "disk is full" in text:
        return StorageFullError(
            database, mount_point=mount_point(database), free_bytes=free_bytes(database)
        )
    if code in _NOT_WRITABLE_CODES or "readonly database" in text:
        return write_problem(database) or _refusal(database, database)
    return None
