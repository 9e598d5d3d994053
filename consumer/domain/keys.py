"""Canonical keys: the identity of a filesystem asset inside its collection.

A key is the file's path relative to the collection root, normalised so the same file always
gets the same key:

* Unicode NFC (macOS and some SMB servers hand out NFD names; both give one key),
* `/`-separated, empty and `.` segments dropped, `..` resolved lexically (symlinks are not
  followed: the key describes the path, not the inode),
* no leading or trailing slash, case preserved (`Show.mkv` and `show.mkv` are two files on Linux).

A path that resolves outside the root is rejected, never stored.

>>> canonical_key("/media/tv", "/media/tv/Show/Season 01/e01.mkv")
'Show/Season 01/e01.mkv'
>>> canonical_key("/media/tv", "/media/tv/a//b/./c.mkv")
'a/b/c.mkv'
>>> canonical_key("/media/tv/", "/media/tv/Show/../Film.mkv")
'Film.mkv'
>>> nfd, nfc = "/media/tv/Cafe\\u0301.mkv", "/media/tv/Caf\\u00e9.mkv"
>>> canonical_key("/media/tv", nfd) == canonical_key("/media/tv", nfc) == "Caf\\u00e9.mkv"
True
>>> normalize_key("a//b/./c.mkv")
'a/b/c.mkv'
>>> normalize_key("../x.mkv")
Traceback (most recent call last):
...
consumer.domain.keys.KeyOutsideRootError: '../x.mkv' escapes the collection root
"""

from __future__ import annotations

import unicodedata


class InvalidPathError(ValueError):
    """A path that can never be an asset key (NUL byte, empty, or the root itself)."""


class KeyOutsideRootError(InvalidPathError):
    """The path resolves to somewhere outside the collection root."""


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _segments(path: str, *, absolute: bool, original: str) -> list[str]:
    if "\x00" in path:
        raise InvalidPathError(f"{original!r} contains a NUL byte")
    out: list[str] = []
    for segment in _nfc(path).split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
            elif not absolute:
                raise KeyOutsideRootError(f"{original!r} escapes the collection root")
            # `/..` is `/` for an absolute path, as the kernel resolves it.
            continue
        out.append(segment)
    return out


def normalize_key(relative: str) -> str:
    """Normalise a path relative to the collection root into its canonical key."""
    segments = _segments(relative, absolute=False, original=relative)
    if not segments:
        raise InvalidPathError(f"{relative!r} names the collection root, not a file")
    return "/".join(segments)


def normalize_root(root: str) -> str:
    """An absolute root in the same normal form as keys, e.g. `/media//tv/` -> `/media/tv`."""
    if not root.startswith("/"):
        raise InvalidPathError(f"collection root must be absolute, got {root!r}")
    return "/" + "/".join(_segments(root, absolute=True, original=root))


def canonical_key(root: str, path: str) -> str:
    """Key of `path` inside the collection rooted at `root`.

    `path` may be absolute (it must then lie under `root`) or relative to the root.
    """
    if not path.startswith("/"):
        return normalize_key(path)
    root_segments = _segments(root, absolute=True, original=root)
    if not root.startswith("/"):
        raise InvalidPathError(f"collection root must be absolute, got {root!r}")
    path_segments = _segments(path, absolute=True, original=path)
    depth = len(root_segments)
    if path_segments[:depth] != root_segments:
        raise KeyOutsideRootError(f"{path!r} is outside the collection root {root!r}")
    rest = path_segments[depth:]
    if not rest:
        raise InvalidPathError(f"{path!r} names the collection root, not a file")
    return "/".join(rest)


def is_under(root: str, path: str) -> bool:
    """Whether an absolute `path` lies strictly under `root` (after normalisation)."""
    try:
        canonical_key(root, path)
    except InvalidPathError:
        return False
    return path.startswith("/")
