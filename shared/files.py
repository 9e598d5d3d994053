"""Which file names count: one rule for the ingestor, the importer and the consumer."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path

# What is cataloged as media unless APOLLONIA_MEDIA_EXTENSIONS says otherwise.
DEFAULT_MEDIA_EXTENSIONS = (
    # video
    "3gp", "asf", "avi", "divx", "flv", "m2ts", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg",
    "mts", "ogv", "rm", "rmvb", "ts", "vob", "webm", "wmv",
    # audio
    "aac", "aiff", "alac", "ape", "dsf", "flac", "m4a", "m4b", "mka", "mp2", "mp3", "oga",
    "ogg", "opus", "wav", "wma", "wv",
)  # fmt: skip

# Names downloaders and editors write before the final rename; the rename is what counts.
TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".!qb", ".crdownload", "~")


_TEMPORARY_EXTENSIONS = frozenset(s.lstrip(".") for s in TEMPORARY_SUFFIXES if s.startswith("."))


def is_temporary_name(name: str) -> bool:
    """Dot-files and in-progress names (`*.part`, `*.partial`, `*.tmp`, `*.!qB`, `*~`)."""
    if not name or name.startswith("."):
        return True
    return name.lower().endswith(TEMPORARY_SUFFIXES)


def extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def is_media_name(name: str, extensions: Collection[str]) -> bool:
    """A non-temporary name whose extension is one of `extensions` (lower case, no dot)."""
    dot = name.rfind(".")
    if dot <= 0:  # no extension, or a dot-file such as `.mkv`
        return False
    ext = name[dot + 1 :].lower()
    if ext not in extensions or name[0] == ".":
        return False
    # A media extension cannot also be a temporary suffix, unless someone configured one as media.
    return ext not in _TEMPORARY_EXTENSIONS or not is_temporary_name(name)


def catalog_path(path: str) -> str:
    """A path as the catalog and the wire carry it: valid UTF-8 text.

    Linux names are bytes; Python hands undecodable bytes to us as surrogate escapes, which no
    JSON or SQLite text can hold. They are written as `\\xNN` instead (lossless in practice; the
    ingestor also sends the raw bytes as `file_path_b64`).
    """
    if path.isascii():
        return path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


def folder_problem(path: str) -> str | None:
    """Why `path` is not a folder that can be listed right now, or None when it is."""
    if not os.path.lexists(path):
        return f"path {path} does not exist"
    if not os.path.isdir(path):
        return f"path {path} is not a directory"
    if not os.access(path, os.R_OK | os.X_OK):
        return f"path {path} is not readable"
    try:
        with os.scandir(path) as entries:
            next(entries, None)
    except OSError as exc:
        return f"path {path} cannot be listed: {exc.strerror or exc}"
    return None


def unique_folders(folders: Sequence[Path]) -> list[Path]:
    """The folders resolved (symlinks, `..`, relative paths), each once, in the order given:
    `--data D --data D/` is one folder, watched and cataloged once."""
    return list(dict.fromkeys(f.resolve() for f in folders))
