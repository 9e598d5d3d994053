"""Neighbours as the ingestor finds them: the shared rule (`shared.neighbors`, the same for
collection ingest), over absolute byte paths, with a cache of settled directory listings.

`NeighborFinder` lists a directory once per batch and keeps the index of a directory that has
not changed for a while, so the next batch from it costs one stat.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping

from ingestor.paths import join, name_of, parent
from shared.files import DEFAULT_MEDIA_EXTENSIONS
from shared.neighbors import (
    MAX_NEIGHBORS,
    DirectoryIndex,
    find_neighbors,
    list_siblings,
    stem_of,
)

__all__ = [
    "MAX_NEIGHBORS",
    "DirectoryIndex",
    "NeighborFinder",
    "find_neighbors",
    "list_siblings",
    "neighbors_for",
    "stem_of",
]


def neighbors_for(
    paths: Iterable[bytes],
    limit: int = MAX_NEIGHBORS,
    media_extensions: Collection[str] = DEFAULT_MEDIA_EXTENSIONS,
) -> Mapping[bytes, list[bytes]]:
    """Absolute neighbour paths for each path, listing each directory once (blocking)."""
    indexes: dict[bytes, DirectoryIndex] = {}
    out: dict[bytes, list[bytes]] = {}
    for path in paths:
        directory = parent(path)
        index = indexes.get(directory)
        if index is None:
            index = indexes[directory] = DirectoryIndex(list_siblings(directory), media_extensions)
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
        media_extensions: Collection[str] = DEFAULT_MEDIA_EXTENSIONS,
    ) -> None:
        self.media_extensions = frozenset(e.lower().lstrip(".") for e in media_extensions)
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
            return DirectoryIndex((), self.media_extensions)
        key = (st.st_mtime_ns, st.st_ino)
        with self._lock:
            hit = self._cache.get(directory)
            if hit is not None and hit[:2] == key:
                self._cache.move_to_end(directory)
                return hit[2]
        index = DirectoryIndex(list_siblings(directory), self.media_extensions)
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
