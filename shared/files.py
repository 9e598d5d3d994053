"""Which file names count: one rule for the ingestor, the importer and the consumer."""

from __future__ import annotations

from collections.abc import Collection

# Names downloaders and editors write before the final rename; the rename is what counts.
TEMPORARY_SUFFIXES = (".part", ".partial", ".tmp", ".!qb", ".crdownload", "~")


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
    return not is_temporary_name(name) and extension(name) in extensions


def catalog_path(path: str) -> str:
    """A path as the catalog and the wire carry it: valid UTF-8 text.

    Linux names are bytes; Python hands undecodable bytes to us as surrogate escapes, which no
    JSON or SQLite text can hold. They are written as `\\xNN` instead (lossless in practice; the
    ingestor also sends the raw bytes as `file_path_b64`).
    """
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path
