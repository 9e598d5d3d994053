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
