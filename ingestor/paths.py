"""Paths inside the ingestor are raw `bytes`, exactly what the kernel gave us.

A file name on Linux is any byte string without `/` or NUL; it need not be valid UTF-8. Keeping
bytes end to end (inotify, scans, the state database) means no name is ever mangled or crashes a
stage. Text appears only at the edge, in the event: `display()` writes each undecodable byte as
`\\xNN` (Python's `backslashreplace`) and `b64_if_not_utf8()` carries the exact bytes alongside.
"""

from __future__ import annotations

import base64
import binascii
import os

from shared.files import is_temporary_name

PathLike = str | bytes | os.PathLike[str] | os.PathLike[bytes]


def to_bytes(path: PathLike) -> bytes:
    return os.fsencode(path)


def absolute_root(path: PathLike) -> bytes:
    """A configured root as an absolute path without a trailing slash (symlinks kept)."""
    raw = os.path.abspath(os.fsencode(path))
    return raw.rstrip(b"/") or b"/"


def display(raw: bytes) -> str:
    """The path as text: valid UTF-8 as is, every other byte as `\\xNN`."""
    return raw.decode("utf-8", "backslashreplace")


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def b64_if_not_utf8(raw: bytes) -> str | None:
    """Base64 of the raw bytes, only for a name that is not valid UTF-8 (else None)."""
    return None if is_utf8(raw) else base64.b64encode(raw).decode("ascii")


def from_event(file_path: str, file_path_b64: str | None) -> bytes:
    """The raw path an event describes (the inverse of `display` + `b64_if_not_utf8`)."""
    if file_path_b64:
        try:
            return base64.b64decode(file_path_b64, validate=True)
        except (binascii.Error, ValueError):
            pass
    return file_path.encode("utf-8", "surrogateescape")


def join(directory: bytes, name: bytes) -> bytes:
    return directory + name if directory.endswith(b"/") else directory + b"/" + name


def parent(path: bytes) -> bytes:
    head = path.rpartition(b"/")[0]
    return head or b"/"


def name_of(path: bytes) -> bytes:
    return path.rpartition(b"/")[2]


def _prefix(directory: bytes) -> bytes:
    return directory if directory.endswith(b"/") else directory + b"/"


def is_under(path: bytes, directory: bytes) -> bool:
    """`path` is strictly inside `directory`."""
    return path.startswith(_prefix(directory)) and len(path) > len(_prefix(directory))


def is_at_or_under(path: bytes, directory: bytes) -> bool:
    return path == directory or is_under(path, directory)


def children_range(directory: bytes) -> tuple[bytes, bytes]:
    """[low, high) bounds of every path inside `directory` in byte order (for SQL range scans):
    `/` is 0x2F and `0` is 0x30, so `dir/` <= path < `dir0` is exactly "starts with dir/"."""
    prefix = _prefix(directory)
    return prefix, prefix[:-1] + b"0"


def rebase(path: bytes, src_dir: bytes, dst_dir: bytes) -> bytes:
    """`path` inside `src_dir`, moved to the same place inside `dst_dir`."""
    return _prefix(dst_dir) + path[len(_prefix(src_dir)) :]


def is_temporary(name: bytes) -> bool:
    """The shared rule (`shared.files.is_temporary_name`) applied to a raw name."""
    return is_temporary_name(os.fsdecode(name))
