"""A file's neighbours (seed 003): the files next to it that probably belong with it.

In order, at most `MAX_NEIGHBORS`, each group sorted by name:

1. the same stem with another extension (`movie.mkv` → `movie.nfo`, `movie.srt`);
2. metadata files: stem `tracklist`, `tracks`, `info` or `readme` (any case, any extension);
3. files whose stem starts with the same three characters, when the stem is longer than three.

Only regular files with non-temporary names in the same directory count; the file itself never
does. Names are compared as Python text (`os.fsdecode`), so a name that is not valid UTF-8 still
works. A directory is listed once and indexed (`DirectoryIndex`), so a burst of 10,000 files in one
folder costs 10,000 dictionary lookups, not 10,000 listings.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

from ingestor.paths import is_temporary, join, name_of, parent

MAX_NEIGHBORS = 10
METADATA_STEMS = frozenset({"tracklist", "tracks", "info", "readme"})
PREFIX_LENGTH = 3


def stem_of(name: str) -> str:
    return PurePosixPath(name).stem


class DirectoryIndex:
    """The sibling names of one directory, indexed for the three neighbour rules."""

    __slots__ = ("_by_prefix", "_by_stem", "_metadata", "_stems")

    def __init__(self, names: Iterable[str]) -> None:
        by_stem: dict[str, list[str]] = defaultdict(list)
        by_prefix: dict[str, list[str]] = defaultdict(list)
        metadata: list[str] = []
        stems: dict[str, str] = {}
        for name in sorted(set(names)):
            stem = stem_of(name)
            stems[name] = stem
            by_stem[stem].append(name)
            if len(stem) >= PREFIX_LENGTH:
                by_prefix[stem[:PREFIX_LENGTH]].append(name)
            if stem.lower() in METADATA_STEMS:
                metadata.append(name)
        self._by_stem = dict(by_stem)
        self._by_prefix = dict(by_prefix)
        self._metadata = metadata
        self._stems = stems

    def neighbors(self, name: str, limit: int = MAX_NEIGHBORS) -> list[str]:
        stem = self._stems.get(name) or stem_of(name)
        chosen: list[str] = []
        seen = {name}

        def take(candidates: Iterable[str]) -> bool:
            for candidate in candidates:
                if len(chosen) >= limit:
                    return True
                if candidate not in seen:
                    seen.add(candidate)
                    chosen.append(candidate)
            return len(chosen) >= limit

        if take(self._by_stem.get(stem, ())):
            return chosen
        if take(self._metadata):
            return chosen
        if len(stem) > PREFIX_LENGTH:
            take(self._by_prefix.get(stem[:PREFIX_LENGTH], ()))
        return chosen


def find_neighbors(name: str, siblings: Iterable[str], limit: int = MAX_NEIGHBORS) -> list[str]:
    """The neighbour names of `name` among `siblings` (pure; `name` may or may not be listed)."""
    return DirectoryIndex(siblings).neighbors(name, limit)


def list_siblings(directory: bytes) -> list[str]:
    """Regular, non-temporary file names in `directory` (blocking; empty if unreadable)."""
    names: list[str] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if is_temporary(entry.name):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):
                        names.append(os.fsdecode(entry.name))
                except OSError:
                    continue
    except OSError:
        return []
    return names


def neighbors_for(
    paths: Iterable[bytes], limit: int = MAX_NEIGHBORS
) -> Mapping[bytes, list[bytes]]:
    """Absolute neighbour paths for each path, listing each directory once (blocking)."""
    indexes: dict[bytes, DirectoryIndex] = {}
    out: dict[bytes, list[bytes]] = {}
    for path in paths:
        directory = parent(path)
        index = indexes.get(directory)
        if index is None:
            index = indexes[directory] = DirectoryIndex(list_siblings(directory))
        names = index.neighbors(os.fsdecode(name_of(path)), limit)
        out[path] = [join(directory, os.fsencode(n)) for n in names]
    return out
