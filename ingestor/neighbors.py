"""A file's neighbours (seed 003): the files next to it that probably belong with it.

In order, at most `MAX_NEIGHBORS`, each group sorted by name:

1. the same stem with another extension (`movie.mkv` → `movie.nfo`, `movie.srt`);
2. metadata files: stem `tracklist`, `tracks`, `info` or `readme` (any case, any extension);
3. files whose stem starts with the same three characters, when the stem is longer than three.

Only regular files with non-temporary names in the same directory count; the file itself never
does. Names are compared as Python text (`os.fsdecode`), so a name that is not valid UTF-8 still
works. A directory is listed once and indexed (`DirectoryIndex`), so a burst of 10,000 files in one
folder costs 10,000 dictionary lookups, not 10,000 listings; `NeighborFinder` also keeps the index
of a directory that has not changed for a while, so the next batch from it costs one stat.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping

from ingestor.paths import is_temporary, join, name_of, parent

MAX_NEIGHBORS = 10
METADATA_STEMS = frozenset({"tracklist", "tracks", "info", "readme"})
PREFIX_LENGTH = 3


def stem_of(name: str) -> str:
    """`PurePosixPath(name).stem`, without building a path object (it runs for every sibling)."""
    i = name.rfind(".")
    return name[:i] if 0 < i < len(name) - 1 else name


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


class NeighborFinder:
    """`neighbors_for` with a small cache of *settled* directory indexes (thread-safe).

    An index is reused while the directory's mtime and inode are what they were when it was
    listed. It is cached only when that mtime was at least `settled_after` seconds old at listing
    time: any later change then carries a newer timestamp even on filesystems whose timestamps are
    coarse (FAT: 2 s), so a reused index is never stale.
    """

    def __init__(
        self,
        max_dirs: int = 64,
        settled_after: float = 2.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_dirs = max_dirs
        self.settled_after = settled_after
        self._clock = clock
        self._cache: OrderedDict[bytes, tuple[int, int, DirectoryIndex]] = OrderedDict()
        self._lock = threading.Lock()
        self.listings = 0

    def _index(self, directory: bytes) -> DirectoryIndex:
        try:
            st = os.stat(directory)
        except OSError:
            return DirectoryIndex(())
        key = (st.st_mtime_ns, st.st_ino)
        with self._lock:
            hit = self._cache.get(directory)
            if hit is not None and hit[:2] == key:
                self._cache.move_to_end(directory)
                return hit[2]
        index = DirectoryIndex(list_siblings(directory))
        with self._lock:
            self.listings += 1
            if self._clock() - st.st_mtime_ns / 1e9 >= self.settled_after:
                self._cache[directory] = (*key, index)
                self._cache.move_to_end(directory)
                while len(self._cache) > self.max_dirs:
                    self._cache.popitem(last=False)
            else:
                self._cache.pop(directory, None)
        return index

    def find(self, paths: Iterable[bytes], limit: int = MAX_NEIGHBORS) -> dict[bytes, list[bytes]]:
        """Absolute neighbour paths for each path (blocking: run it in a thread)."""
        indexes: dict[bytes, DirectoryIndex] = {}
        out: dict[bytes, list[bytes]] = {}
        for path in paths:
            directory = parent(path)
            index = indexes.get(directory)
            if index is None:
                index = indexes[directory] = self._index(directory)
            names = index.neighbors(os.fsdecode(name_of(path)), limit)
            out[path] = [join(directory, os.fsencode(n)) for n in names]
        return out
