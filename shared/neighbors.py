"""A file's neighbours (seed 003): the files next to it that probably belong with it.

One rule for every way a file comes in (the watcher, `apollonia publish`, collection ingest and
`run`'s initial ingest). In order, at most `MAX_NEIGHBORS`, each group sorted by name:

1. its companions: the same stem with anything after a separator (`.`, `-`, `_`, space), so
   `Show - S01E01.mkv` → `Show - S01E01.en.srt`, `Show - S01E01.nfo`, `Show - S01E01-thumb.jpg`;
2. the folder's metadata and artwork: `poster`, `fanart`, `folder`, `banner`, `clearlogo`, ...
   and `season*` images, `.nfo` files that belong to no media file (`tvshow.nfo`), and the
   metadata stems `tracklist`, `tracks`, `info`, `readme` (any case, any extension);
3. files whose stem starts with the same three characters, when the stem is longer than three.

Media files are never neighbours: every one is an asset in its own right (so the other episodes
of a season do not fill the slots), and neither are the companions of another media file (the
next episode's subtitles belong to that episode). Only regular files with non-temporary names in
the same directory count; the file itself never does. Names are Python text (`os.fsdecode`), so
a name that is not valid UTF-8 still works.

`DirectoryIndex` is pure over a directory listing: a folder is listed once and indexed, so 10,000
files of one folder cost 10,000 lookups, not 10,000 listings.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Iterable

from shared.files import DEFAULT_MEDIA_EXTENSIONS, extension, is_temporary_name

MAX_NEIGHBORS = 10
PREFIX_LENGTH = 3
METADATA_STEMS = frozenset({"tracklist", "tracks", "info", "readme"})
ARTWORK_STEMS = frozenset(
    {
        "backdrop",
        "banner",
        "clearart",
        "clearlogo",
        "cover",
        "disc",
        "discart",
        "fanart",
        "folder",
        "keyart",
        "landscape",
        "logo",
        "poster",
        "thumb",
    }
)
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp", "tbn", "gif", "bmp"})
# What may follow a media file's stem in a companion's name.
SEPARATORS = frozenset(".-_ ")


def stem_of(name: str) -> str:
    """`PurePosixPath(name).stem`, without building a path object (it runs for every sibling)."""
    i = name.rfind(".")
    return name[:i] if 0 < i < len(name) - 1 else name


def is_folder_metadata(name: str) -> bool:
    """Artwork and metadata of the folder itself (not of one file in it)."""
    stem = stem_of(name).lower()
    ext = extension(name)
    if stem in METADATA_STEMS or ext == "nfo":
        return True
    if ext not in IMAGE_EXTENSIONS:
        return False
    return stem in ARTWORK_STEMS or stem.startswith("season")


class DirectoryIndex:
    """The sibling names of one directory, indexed for the three neighbour rules."""

    __slots__ = ("_by_prefix", "_by_stem", "_companions", "_folder", "_media", "_stems")

    def __init__(
        self, names: Iterable[str], media_extensions: Collection[str] = DEFAULT_MEDIA_EXTENSIONS
    ) -> None:
        ordered = sorted(set(names))
        media_ext = frozenset(e.lower().lstrip(".") for e in media_extensions)
        media = {n for n in ordered if extension(n) in media_ext}
        media_stems = {stem_of(n) for n in media}
        companions: dict[str, list[str]] = defaultdict(list)
        by_stem: dict[str, list[str]] = defaultdict(list)
        by_prefix: dict[str, list[str]] = defaultdict(list)
        folder: list[str] = []
        stems: dict[str, str] = {}
        for name in ordered:
            stem = stem_of(name)
            stems[name] = stem
            if name in media:
                continue
            by_stem[stem].append(name)
            owner = _owner(name, media_stems)
            if owner is not None:
                companions[owner].append(name)
                continue  # another media file's companion: only ever its neighbour
            if is_folder_metadata(name):
                folder.append(name)
            elif len(stem) >= PREFIX_LENGTH:
                by_prefix[stem[:PREFIX_LENGTH]].append(name)
        self._media = media
        self._companions = dict(companions)
        self._by_stem = dict(by_stem)
        self._by_prefix = dict(by_prefix)
        self._folder = folder
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

        # A non-media file (a subtitle reported by the watcher) has no companions of its own:
        # the names with its exact stem stand in for them.
        own = sorted({*self._companions.get(stem, ()), *self._by_stem.get(stem, ())})
        if take(own) or take(self._folder):
            return chosen
        if len(stem) > PREFIX_LENGTH:
            take(self._by_prefix.get(stem[:PREFIX_LENGTH], ()))
        return chosen


def _owner(name: str, media_stems: Collection[str]) -> str | None:
    """The media file `name` belongs with: the longest media stem that `name` extends past a
    separator (`Show - S01E01.en.srt` → `Show - S01E01`)."""
    if not media_stems:
        return None
    for i in range(len(name) - 1, 0, -1):
        if name[i] in SEPARATORS and name[:i] in media_stems:
            return name[:i]
    return None


def find_neighbors(
    name: str,
    siblings: Iterable[str],
    limit: int = MAX_NEIGHBORS,
    media_extensions: Collection[str] = DEFAULT_MEDIA_EXTENSIONS,
) -> list[str]:
    """The neighbour names of `name` among `siblings` (pure; `name` may or may not be listed)."""
    return DirectoryIndex(siblings, media_extensions).neighbors(name, limit)


def list_siblings(directory: bytes | str) -> list[str]:
    """Regular, non-temporary file names in `directory` (blocking; empty if unreadable)."""
    names: list[str] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = os.fsdecode(entry.name)
                if is_temporary_name(name):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):
                        names.append(name)
                except OSError:
                    continue
    except OSError:
        return []
    return names
