"""The `sidecars` enricher (editorial): the files beside a media file and what they say —
external subtitles with their language and flags, the `.nfo` (title, year, imdb/tmdb/tvdb ids),
poster and fanart present — by the rules of `consumer.domain.sidecars`.

It reads the media file's folder as this host sees it now; the asset's neighbours, as the
ingestor recorded them, stand in when the folder cannot be listed (they are capped and their
rule may change, so the folder is the truth when it can be read). A `tvshow.nfo` is looked for
beside the file and, for a file in a season folder (`Show/Season 01/`), in the show folder
above it.

A folder of 10,000 commercials is listed once, not once per file: listings of folders that have
not changed for a while are kept (like the ingestor's neighbour index), and only the names that
can belong to a file are looked at for it.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consumer.domain.enrichment import (
    Availability,
    Enriched,
    EnricherKind,
    EnrichmentFailed,
    EnrichmentInput,
    EnrichmentResult,
)
from consumer.domain.media_info import season_of_dir
from consumer.domain.sidecars import (
    FANART_STEMS,
    MAX_NFO_BYTES,
    POSTER_STEMS,
    find_sidecars,
    media_stem,
    parse_nfo,
    show_fields,
    split_name,
)

_FOLDER_FILES = frozenset({*POSTER_STEMS, *FANART_STEMS, "movie", "tvshow"})


@dataclass(frozen=True, slots=True)
class FolderNames:
    """The file names of one folder, sorted, with the folder-wide sidecars apart."""

    sorted_names: tuple[str, ...]
    folder_wide: tuple[str, ...]  # poster.jpg, fanart.jpg, movie.nfo, tvshow.nfo...

    @classmethod
    def of(cls, names: set[str]) -> FolderNames:
        ordered = tuple(sorted(names))
        wide = tuple(n for n in ordered if split_name(n)[0].lower() in _FOLDER_FILES)
        return cls(ordered, wide)

    def candidates(self, media_name: str) -> list[str]:
        """The names that may be sidecars of `media_name`: those starting with its stem, and
        the folder-wide ones."""
        stem = media_stem(media_name)
        start = bisect.bisect_left(self.sorted_names, stem)
        found = []
        for name in self.sorted_names[start:]:
            if not name.startswith(stem):
                break
            found.append(name)
        return [*found, *self.folder_wide]


def _list_files(directory: str) -> set[str]:
    names = set()
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                if entry.is_file():
                    names.add(entry.name)
            except OSError:
                continue
    return names


class FolderCache:
    """Listings of folders whose mtime is at least `settled_after` seconds old (a later change
    then has a newer mtime even on coarse-timestamp filesystems, so a kept listing is never
    stale). Thread-safe: enrichments run in worker threads."""

    def __init__(
        self, max_dirs: int = 64, settled_after: float = 2.5, clock: Callable[[], float] = time.time
    ) -> None:
        self.max_dirs = max_dirs
        self.settled_after = settled_after
        self._clock = clock
        self._cache: OrderedDict[str, tuple[int, int, FolderNames]] = OrderedDict()
        self._lock = threading.Lock()
        self.listings = 0

    def names(self, directory: str) -> FolderNames:
        """Raises OSError when the folder cannot be read."""
        st = os.stat(directory)
        key = (st.st_mtime_ns, st.st_ino)
        with self._lock:
            hit = self._cache.get(directory)
            if hit is not None and hit[:2] == key:
                self._cache.move_to_end(directory)
                return hit[2]
        listing = FolderNames.of(_list_files(directory))
        with self._lock:
            self.listings += 1
            if self._clock() - st.st_mtime_ns / 1e9 >= self.settled_after:
                self._cache[directory] = (*key, listing)
                while len(self._cache) > self.max_dirs:
                    self._cache.popitem(last=False)
        return listing


def _read_nfo(path: str) -> tuple[dict[str, Any], str | None]:
    """(fields, problem): an unreadable or refused nfo is a problem recorded, not a failure —
    a stray nfo must not keep a good file from going on air."""
    try:
        # Non-blocking, and only a regular file: a FIFO named `x.nfo` must not hang a worker.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return {}, f"{os.path.basename(path)}: not a regular file"
            data = handle.read(MAX_NFO_BYTES + 1)
        return parse_nfo(data), None
    except (OSError, ValueError) as exc:
        return {}, f"{os.path.basename(path)}: {exc}"


class SidecarsEnricher:
    id = "sidecars"
    version = "1"
    kind: EnricherKind = "editorial"

    def __init__(self, folders: FolderCache | None = None) -> None:
        self.folders = folders or FolderCache()

    def available(self) -> Availability:
        return Availability(True)

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        return await asyncio.to_thread(self.read, item)

    def read(self, item: EnrichmentInput) -> EnrichmentResult:
        """The sidecars of one asset (blocking: reads the folder and the nfo files)."""
        directory, media_name = os.path.split(item.path)
        try:
            names = set(self.folders.names(directory).candidates(media_name))
        except OSError as exc:
            # Neighbours are paths as the ingestor saw them (or bare names): only the name
            # counts. They stand in for a folder that cannot be listed now; when it can, the
            # listing wins (a neighbour deleted since is no sidecar any more).
            names = {os.path.basename(n.rstrip("/")) for n in item.neighbors if n}
            if not names:
                return EnrichmentFailed(
                    f"the folder {directory} cannot be read: {exc.strerror or exc}"
                )
        found = find_sidecars(media_name, names)
        fields: dict[str, Any] = {}
        problems: list[str] = []
        if found.nfo is not None:
            nfo, problem = _read_nfo(os.path.join(directory, found.nfo))
            fields.update(nfo)
            if nfo:
                fields["nfo"] = found.nfo
            if problem:
                problems.append(problem)
        show_nfo = self._show_nfo(directory, found.show_nfo)
        if show_nfo is not None:
            show, problem = _read_nfo(show_nfo)
            for name, value in show_fields(show).items():
                fields.setdefault(name, value)
            if problem:
                problems.append(problem)
        if found.subtitles:
            fields["subtitles"] = [s.as_dict() for s in found.subtitles]
        fields.update(found.artwork)
        if problems:
            fields["sidecar_problems"] = problems
        return Enriched(fields, tool="sidecars")

    @staticmethod
    def _show_nfo(directory: str, beside: str | None) -> str | None:
        if beside is not None:
            return os.path.join(directory, beside)
        if season_of_dir(os.path.basename(directory)) is None:
            return None
        above = os.path.join(os.path.dirname(directory), "tvshow.nfo")
        return above if os.path.isfile(above) else None
