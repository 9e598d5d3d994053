"""Canonical keys: the identity of a filesystem asset inside its collection.

A key is the file's path relative to the collection root, normalised so the same file always
gets the same key, and escaped so two different files never do:

* Unicode NFC (macOS and some SMB servers hand out NFD names; both give one key),
* `/`-separated, empty and `.` segments dropped, `..` resolved lexically (symlinks are not
  followed: the key describes the path, not the inode),
* no leading or trailing slash, case preserved (`Show.mkv` and `show.mkv` are two files on Linux),
* injective text for any Linux name: a name is bytes, and a byte that is not part of valid UTF-8
  is written `\\xNN` (two lowercase hex digits); the escape character itself, a backslash in the
  name, is written `\\\\`. So `b'caf\\xe9.mkv'` is the key `caf\\xe9.mkv` and a file literally
  named `caf\\xe9.mkv` is `caf\\\\xe9.mkv`, and `key_bytes` turns a key back into the one name it
  stands for.

Paths handed to these functions are exact names as Python's `os.fsdecode` gives them:
undecodable bytes are lone surrogates (U+DC80..U+DCFF), never already escaped text. A path that
resolves outside the root is rejected, never stored.

>>> canonical_key("/media/tv", "/media/tv/Show/Season 01/e01.mkv")
'Show/Season 01/e01.mkv'
>>> canonical_key("/media/tv", "/media/tv/a//b/./c.mkv")
'a/b/c.mkv'
>>> canonical_key("/media/tv/", "/media/tv/Show/../Film.mkv")
'Film.mkv'
>>> nfd, nfc = "/media/tv/Cafe\\u0301.mkv", "/media/tv/Caf\\u00e9.mkv"
>>> canonical_key("/media/tv", nfd) == canonical_key("/media/tv", nfc) == "Caf\\u00e9.mkv"
True
>>> print(canonical_key("/media/tv", b"/media/tv/caf\\xe9.mkv".decode("utf-8", "surrogateescape")))
caf\\xe9.mkv
>>> print(canonical_key("/media/tv", "/media/tv/caf\\\\xe9.mkv"))
caf\\\\xe9.mkv
>>> key_bytes("caf\\\\xe9.mkv"), key_bytes("caf\\\\\\\\xe9.mkv")
(b'caf\\xe9.mkv', b'caf\\\\xe9.mkv')
>>> normalize_key("a//b/./c.mkv")
'a/b/c.mkv'
>>> normalize_key("../x.mkv")
Traceback (most recent call last):
...
consumer.domain.keys.KeyOutsideRootError: '../x.mkv' escapes the collection root
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal


class InvalidPathError(ValueError):
    """A path that can never be an asset key (NUL byte, empty, or the root itself)."""


class KeyOutsideRootError(InvalidPathError):
    """The path resolves to somewhere outside the collection root."""


ESCAPE = "\\"
# Python's surrogateescape maps an undecodable byte 0xNN (always >= 0x80) to U+DCNN.
_LOW_SURROGATE, _HIGH_SURROGATE = 0xDC80, 0xDCFF
_ESCAPED = re.compile(r"\\(?:\\|x([89a-f][0-9a-f]))")
_NEEDS_ESCAPE = re.compile(r"[\\\ud800-\udfff]")


def _nfc(text: str) -> str:
    # A lone surrogate is a starter that composes with nothing, so normalising the exact name
    # (before escaping) never joins a combining mark to an escape's hex digit.
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char == ESCAPE:
        return ESCAPE + ESCAPE
    code = ord(char)
    if not _LOW_SURROGATE <= code <= _HIGH_SURROGATE:
        raise InvalidPathError(f"{char!r} is not a character a file name can hold")
    return f"\\x{code - 0xDC00:02x}"


def escape_name(name: str) -> str:
    """The key text of an exact name: a backslash doubled, an undecodable byte as `\\xNN`.

    >>> print(escape_name("a\\\\b"), escape_name("\\udcff"))
    a\\\\b \\xff
    """
    if name.isascii() and ESCAPE not in name:
        return name
    return _NEEDS_ESCAPE.sub(_escape_char, name)


def _unescape_char(match: re.Match[str]) -> str:
    digits = match.group(1)
    return ESCAPE if digits is None else chr(0xDC00 + int(digits, 16))


def name_of_key(key: str) -> str:
    """The exact name a key stands for (undecodable bytes as surrogates, like `os.fsdecode`).

    Raises InvalidPathError for text no key can be (a stray backslash, or an escape for bytes
    that are valid UTF-8 and so would have been written as themselves).
    """
    if ESCAPE not in key:
        return key
    # Through bytes and back: escapes of bytes that form valid UTF-8 are needless, never keys.
    raw = _ESCAPED.sub(_unescape_char, key).encode("utf-8", "surrogateescape")
    name = raw.decode("utf-8", "surrogateescape")
    if escape_name(name) != key:
        raise InvalidPathError(f"{key!r} is not a canonical key (stray or needless escape)")
    return name


def key_bytes(key: str) -> bytes:
    """The file name, as bytes, that `key` stands for (relative to the collection root)."""
    return name_of_key(key).encode("utf-8", "surrogateescape")


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


def _join(segments: list[str]) -> str:
    return escape_name("/".join(segments))


def normalize_key(relative: str) -> str:
    """Normalise an exact path relative to the collection root into its canonical key."""
    segments = _segments(relative, absolute=False, original=relative)
    if not segments:
        raise InvalidPathError(f"{relative!r} names the collection root, not a file")
    return _join(segments)


def normalize_root(root: str) -> str:
    """An absolute root in the same normal form as keys, e.g. `/media//tv/` -> `/media/tv`.

    Not escaped: a root is a path to open, compared with other exact paths.
    """
    if not root.startswith("/"):
        raise InvalidPathError(f"collection root must be absolute, got {root!r}")
    return "/" + "/".join(_segments(root, absolute=True, original=root))


def canonical_key(root: str, path: str) -> str:
    """Key of the exact `path` inside the collection rooted at `root`.

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
    return _join(rest)


def relative_key(relative: str) -> str:
    """Key of an exact relative path that is already free of empty, `.` and `..` segments
    (what scandir and find hand out under a root): only NFC and escaping remain."""
    if relative.isascii() and ESCAPE not in relative:
        return relative
    return escape_name(_nfc(relative))


def is_under(root: str, path: str) -> bool:
    """Whether an absolute `path` lies strictly under `root` (after normalisation)."""
    try:
        canonical_key(root, path)
    except InvalidPathError:
        return False
    return path.startswith("/")


RootRelation = Literal["equal", "inside", "contains"]


def root_relation(root: str, other: str) -> RootRelation | None:
    """How two normalised roots overlap: `root` equal to, inside, or containing `other`; None
    when neither holds the other (`/media/tv` and `/media/tv2` are apart).

    >>> root_relation("/media/tv", "/media"), root_relation("/media", "/media/tv")
    ('inside', 'contains')
    >>> root_relation("/media/tv", "/media/tv2") is None
    True
    """
    if root == other:
        return "equal"
    if root.startswith(other if other == "/" else other + "/"):
        return "inside"
    if other.startswith(root if root == "/" else root + "/"):
        return "contains"
    return None
