"""A file's birth time (statx), to tell a renamed inode from a reused inode number.

A scan pairs a file that vanished with one that appeared with the same device and inode as one
file moved. When the content is unchanged too (same size and mtime) that is proof enough. When
it changed (written and renamed while the ingestor was down), the inode number alone is not:
ext4 and XFS hand a freed inode number to the next file created, so "episode deleted, another
downloaded" would look like a move. The birth time settles it: an inode born before the ingestor
last recorded the old path is the one it recorded; a reused number is born after.

Python 3.11 has no `os.statx`; glibc has had `statx` since 2.28 (Linux 4.11), so it is called
through ctypes. Where it is missing, or the filesystem keeps no birth time (NFS, some FUSE
mounts), `birth_ns` is None and such files are not paired (they stay deleted + created).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

_AT_FDCWD = -100
_AT_SYMLINK_NOFOLLOW = 0x100
_STATX_INO = 0x100
_STATX_BTIME = 0x800


class _Timestamp(ctypes.Structure):
    _fields_ = (
        ("tv_sec", ctypes.c_int64),
        ("tv_nsec", ctypes.c_uint32),
        ("reserved", ctypes.c_int32),
    )


class _Statx(ctypes.Structure):
    # struct statx, linux/stat.h (256 bytes; the kernel fills what `mask` says).
    _fields_ = (
        ("mask", ctypes.c_uint32),
        ("blksize", ctypes.c_uint32),
        ("attributes", ctypes.c_uint64),
        ("nlink", ctypes.c_uint32),
        ("uid", ctypes.c_uint32),
        ("gid", ctypes.c_uint32),
        ("mode", ctypes.c_uint16),
        ("spare0", ctypes.c_uint16),
        ("ino", ctypes.c_uint64),
        ("size", ctypes.c_uint64),
        ("blocks", ctypes.c_uint64),
        ("attributes_mask", ctypes.c_uint64),
        ("atime", _Timestamp),
        ("btime", _Timestamp),
        ("ctime", _Timestamp),
        ("mtime", _Timestamp),
        ("rdev_major", ctypes.c_uint32),
        ("rdev_minor", ctypes.c_uint32),
        ("dev_major", ctypes.c_uint32),
        ("dev_minor", ctypes.c_uint32),
        ("spare2", ctypes.c_uint64 * 14),
    )


def _load() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to load
        return None
    function = getattr(libc, "statx", None)
    if function is None:  # pragma: no cover - glibc older than 2.28, musl before 1.2.5
        return None
    function.argtypes = (
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_Statx),
    )
    function.restype = ctypes.c_int
    return function


_statx = _load()


def birth_ns(path: bytes) -> tuple[int, int] | None:
    """(inode, birth time in ns) of `path`, not following a symlink; None when the file is gone,
    or the system or its filesystem does not say when the file was born."""
    if _statx is None:
        return None
    buf = _Statx()
    if _statx(_AT_FDCWD, os.fsencode(path), _AT_SYMLINK_NOFOLLOW, _STATX_INO | _STATX_BTIME,
              ctypes.byref(buf)) != 0:  # fmt: skip
        return None
    if not buf.mask & _STATX_BTIME or not buf.mask & _STATX_INO:
        return None
    return int(buf.ino), int(buf.btime.tv_sec) * 1_000_000_000 + int(buf.btime.tv_nsec)
