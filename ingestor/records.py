"""Plain records passed between the ingestor's stages."""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass

# What "unchanged" means for settling: same size, same mtime, same inode.
SettleSig = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class StatInfo:
    """The parts of `os.stat_result` an event carries."""

    size: int
    mtime_ns: int
    atime_ns: int
    ctime_ns: int
    inode: int
    device: int
    nlink: int = 1

    @classmethod
    def from_stat(cls, st: os.stat_result) -> StatInfo:
        return cls(
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            atime_ns=st.st_atime_ns,
            ctime_ns=st.st_ctime_ns,
            inode=st.st_ino,
            device=st.st_dev,
            nlink=st.st_nlink,
        )

    @property
    def settle_sig(self) -> SettleSig:
        return (self.size, self.mtime_ns, self.inode)

    @property
    def content_sig(self) -> tuple[int, int]:
        """Size and mtime: equal to the cached pair means unchanged, so never read again."""
        return (self.size, self.mtime_ns)


def lstat_regular(path: bytes) -> StatInfo | None:
    """The stat of a regular file (symlinks are not followed); None if gone or not a file."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat_module.S_ISREG(st.st_mode):
        return None
    return StatInfo.from_stat(st)


def lstat_many(paths: list[bytes]) -> list[StatInfo | None]:
    """Blocking: run it in a thread for more than a handful of paths."""
    return [lstat_regular(p) for p in paths]


@dataclass(frozen=True, slots=True)
class FileState:
    """What the state database remembers about one path."""

    path: bytes
    device: int | None
    inode: int | None
    size: int
    mtime_ns: int
    sha256: str | None
    xxh128: str | None
    event_id: str | None = None
    published: bool = False
    recorded_at: float | None = None  # when the row was last written (time.time())

    @property
    def content_sig(self) -> tuple[int, int]:
        return (self.size, self.mtime_ns)

    @property
    def identity(self) -> tuple[int | None, int | None, int, int]:
        """Device, inode, size, mtime: how a scan recognises a file that moved."""
        return (self.device, self.inode, self.size, self.mtime_ns)
