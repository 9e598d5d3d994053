"""The filesystem importer: a collection is a folder; its media files are the assets.

Scope narrowing limits the walk itself (D-2): `--title` descends through the folders that are
not title folders (`Movies/`, `TV Shows/`) and only into the matching title's folder, never into
another title's (`media_info` says what a title folder is); `--season` then descends only into
that season's folder (other `Season NN` folders are never opened); `--episode` filters that
season's files.
Symlinked files are followed, symlinked folders are not (no loops, no escaping the root).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat as statmod
from collections.abc import Collection as Extensions
from collections.abc import Iterable, Iterator

from consumer.domain.catalog import Collection
from consumer.domain.importing import (
    BaseImporter,
    DiscoveredItem,
    Ingestibility,
    IngestScope,
    ScopeNotFoundError,
    StatListing,
)
from consumer.domain.keys import InvalidPathError, canonical_key, normalize_root, relative_key
from consumer.domain.media_info import (
    TitleQuery,
    episode_numbers,
    is_film_name,
    season_of_dir,
)
from consumer.domain.stat_lines import FIND_FILE_FORMAT, FIND_LINK_FORMAT, LINK_MARK, key_of
from shared.files import catalog_path, folder_problem, is_media_name, is_temporary_name
from shared.neighbors import DirectoryIndex, list_siblings
from shared.runtime.log import get_logger

log = get_logger(__name__)


def check_folder(path: str) -> Ingestibility:
    """Exists, is a directory, and can be listed."""
    problem = folder_problem(path)
    return Ingestibility(problem is None, problem or "ok")


class FilesystemImporter(BaseImporter):
    source_type = "filesystem"

    def __init__(self, media_extensions: Extensions[str]) -> None:
        self.extensions = frozenset(e.lower().lstrip(".") for e in media_extensions)
        # Folders the last enumeration could not list: their assets are not "missing", we
        # simply could not look (an ingest must never soft-delete what it failed to read).
        self.walk_errors: list[tuple[str, str]] = []

    def validate_ingestible(self, collection: Collection) -> Ingestibility:
        if not collection.root_path.startswith("/"):
            return Ingestibility(False, f"root {collection.root_path!r} is not an absolute path")
        return check_folder(collection.root_path)

    # --- enumeration --------------------------------------------------------------------
    def enumerate(self, collection: Collection, scope: IngestScope) -> Iterator[DiscoveredItem]:
        root = normalize_root(collection.root_path)
        self.walk_errors = []
        if scope.is_full:
            yield from self._walk(root, root)
            return
        assert scope.title is not None
        query = TitleQuery.of(scope.title)
        title_dirs, title_files = self._find_title(root, query)
        if not title_dirs and not title_files:
            raise ScopeNotFoundError(
                "title", f"Title '{scope.title}' not found in collection '{collection.name}'"
            )
        if scope.season is None:
            for folder in title_dirs:
                for item in self._walk(root, folder):
                    if query.matches_info(item.media_info()):
                        yield item
            yield from title_files
            return

        found = False
        for item in self._season_items(root, title_dirs, title_files, scope.season):
            if not query.matches_info(item.media_info()):
                continue  # beneath a title folder, yet titled otherwise (another film's folder)
            if scope.episode is not None:
                info = item.media_info()
                if info.episode != scope.episode and not _covers_episode(item, scope.episode):
                    continue
            found = True
            yield item
        if not found:
            if scope.episode is not None:
                raise ScopeNotFoundError(
                    "episode",
                    f"Episode {scope.episode} of season {scope.season} of '{scope.title}' "
                    f"not found in collection '{collection.name}'",
                )
            raise ScopeNotFoundError(
                "season",
                f"Season {scope.season} of '{scope.title}' not found in collection "
                f"'{collection.name}'",
            )

    def _find_title(self, root: str, query: TitleQuery) -> tuple[list[str], list[DiscoveredItem]]:
        """The title folders that hold the wanted title, and the media files outside any title
        folder whose own name gives it, at any depth under the root.

        Mirrors `media_info.parse`: the walk descends through folders that are not title folders
        (`Movies/`, `Music/Artist/`), and never opens another title's folder (a `Title (Year)`
        folder, or a show's season folders). A loose file's name is parsed only if it holds
        every word of the title.
        """
        dirs: list[str] = []
        files: list[DiscoveredItem] = []
        stack = [root]
        while stack:
            folder = stack.pop()
            subdirs: list[os.DirEntry[str]] = []
            media: list[os.DirEntry[str]] = []
            for entry in _sorted_entries(folder, self.walk_errors):
                if entry.name.startswith("."):
                    continue
                if _is_dir(entry):
                    subdirs.append(entry)
                elif is_media_name(entry.name, self.extensions):
                    media.append(entry)
            # A folder holding season folders is a show's, and the title of its seasons.
            show = folder != root and any(season_of_dir(e.name) is not None for e in subdirs)
            if show and query.matches_folder(os.path.basename(folder)):
                dirs.append(folder)  # its other files are walked there, titled as parse says
                continue
            descend: list[str] = []
            for entry in subdirs:
                if show and season_of_dir(entry.name) is not None:
                    continue  # another show's season: never opened
                if is_film_name(entry.name):
                    if query.matches_folder(entry.name):
                        dirs.append(entry.path)
                    continue  # a film's folder: its own title, matched or not
                descend.append(entry.path)
            for entry in media:
                if not query.may_name(entry.name):
                    continue
                item = self._item(root, entry)
                if item is not None and query.matches_info(item.media_info()):
                    files.append(item)
            stack.extend(reversed(descend))
        return dirs, files

    def _season_items(
        self, root: str, title_dirs: list[str], title_files: list[DiscoveredItem], season: int
    ) -> Iterator[DiscoveredItem]:
        for item in title_files:
            if item.media_info().season == season:
                yield item
        for folder in title_dirs:
            for entry in _sorted_entries(folder, self.walk_errors):
                if entry.name.startswith("."):
                    continue
                if _is_dir(entry):
                    folder_season = season_of_dir(entry.name)
                    if folder_season == season:
                        yield from self._walk(root, entry.path)
                    elif folder_season is None:  # Extras/, Featurettes/: look inside
                        for nested in self._walk(root, entry.path):
                            if nested.media_info().season == season:
                                yield nested
                    # another season's folder: never opened (D-2)
                elif is_media_name(entry.name, self.extensions):
                    found = self._item(root, entry)
                    if found is not None and found.media_info().season == season:
                        yield found

    def _walk(self, root: str, top: str) -> Iterator[DiscoveredItem]:
        # The hot loop of every rescan (100,000 files in a few tenths of a second): kept flat,
        # with the common case (an ASCII name under the root) handled inline.
        extensions = self.extensions
        prefix = root if root == "/" else root + "/"
        cut = len(prefix)
        errors = self.walk_errors
        stack = [top]
        while stack:
            folder = stack.pop()
            subdirs: list[str] = []
            # Directory order, not sorted: sorting 100,000 names costs a tenth of a rescan and
            # nothing downstream depends on the order.
            for entry in _entries(folder, errors):
                name = entry.name
                if name[0] == ".":
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        subdirs.append(entry.path)
                        continue
                    if not is_media_name(name, extensions):
                        continue
                    st = entry.stat()
                except OSError as exc:  # vanished while listing, a dangling symlink: gone
                    _unreadable(entry.path, exc, errors)
                    continue
                if not statmod.S_ISREG(st.st_mode):
                    continue
                path = entry.path
                if path.isascii() and path.startswith(prefix) and "\\" not in path:
                    # ASCII is its own NFC form, needs no escape but for a backslash, and
                    # scandir's paths under the root have no `.`, `..` or empty segments: the
                    # relative path is the key.
                    yield DiscoveredItem(
                        path, path, path[cut:], st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev
                    )
                    continue
                item = self._item(root, entry, st)
                if item is not None:
                    yield item
            stack.extend(reversed(subdirs))

    def _item(
        self, root: str, entry: os.DirEntry[str], st: os.stat_result | None = None
    ) -> DiscoveredItem | None:
        if st is None:
            try:
                st = entry.stat()
            except OSError as exc:  # vanished between listing and stat, or a dangling symlink
                _unreadable(entry.path, exc, self.walk_errors)
                return None
        return self._item_at(root, entry.path, st)

    def _item_at(self, root: str, fs_path: str, st: os.stat_result) -> DiscoveredItem | None:
        if not statmod.S_ISREG(st.st_mode):
            return None
        prefix = root if root == "/" else root + "/"
        # The key comes from the exact name (undecodable bytes as surrogates), never from the
        # display text, where `\xNN` could also be four characters of a real name.
        try:
            if fs_path.startswith(prefix):
                # scandir and find build paths under the root, so the relative path is already
                # free of `.`, `..` and empty segments; only NFC and escaping remain.
                key = relative_key(fs_path[len(prefix) :])
            else:
                key = canonical_key(root, fs_path)
        except InvalidPathError:
            return None
        path = catalog_path(fs_path)
        return DiscoveredItem(path, fs_path, key, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)

    # --- the rescan fast path -----------------------------------------------------------
    async def stat_listing(self, collection: Collection) -> StatListing | None:
        """The whole collection listed by GNU find, in its own process.

        It runs beside the catalog read (true parallelism: no GIL between them) and prints each
        plain file as a signature the catalog can produce for its own rows, so an unchanged
        rescan costs a set intersection. Same rules as `_walk`: dot-names pruned, folders not
        followed through symlinks (`-P`, with `-H` for the root itself), symlinked files
        described in Python. Any complaint from find (an unreadable folder, a file vanishing
        mid-walk) or a find that is missing or not GNU: None, and the ingest walks in Python,
        which records exactly which folders it could not read.
        """
        self.walk_errors = []  # describe() records the files it cannot stat
        find = shutil.which("find")
        if find is None:
            return None
        root = normalize_root(collection.root_path)
        try:
            proc = await asyncio.create_subprocess_exec(
                find,
                "-H",
                root,
                "-mindepth",
                "1",
                "(",
                "-name",
                ".*",
                "-prune",
                ")",
                "-o",
                "(",
                "-type",
                "f",
                "-printf",
                FIND_FILE_FORMAT,
                ")",
                "-o",
                "(",
                "-type",
                "l",
                "-printf",
                FIND_LINK_FORMAT,
                ")",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={"LC_ALL": "C", "PATH": os.environ.get("PATH", os.defpath)},
            )
            out, err = await proc.communicate()
        except OSError as exc:
            log.info("find could not run; walking in Python", error=str(exc))
            return None
        if proc.returncode != 0 or err:
            log.info(
                "find reported problems; walking in Python to record them",
                collection=collection.name,
                exit_code=proc.returncode,
                stderr=err[:500].decode("utf-8", "backslashreplace"),
            )
            return None
        return _parse_listing(out)

    def describe(self, collection: Collection, relative: str) -> DiscoveredItem | None:
        """One file of a stat listing, described as `enumerate` would (None: not media)."""
        if not is_media_name(relative.rpartition("/")[2], self.extensions):
            return None
        root = normalize_root(collection.root_path)
        fs_path = (root if root == "/" else root + "/") + relative
        try:
            st = os.stat(fs_path)
        except OSError as exc:  # vanished since the listing, or a dangling symlink
            _unreadable(fs_path, exc, self.walk_errors)
            return None
        return self._item_at(root, fs_path, st)

    # --- neighbours -------------------------------------------------------------------------
    def neighbor_finder(self) -> NeighborLookup:
        """Neighbours for the items of one ingest (the shared rule the watcher uses too)."""
        return NeighborLookup(self.extensions)

    def top_level_folders(self, root: str) -> list[str]:
        """Names of the folders directly under `root` (for `source discover`)."""
        return [
            e.name for e in _sorted_entries(root) if _is_dir(e) and not is_temporary_name(e.name)
        ]


class NeighborLookup:
    """The neighbours of the files of one ingest: each folder is listed once per ingest, and
    only the folders of files that are looked at (new or changed) are listed at all."""

    def __init__(self, media_extensions: Extensions[str]) -> None:
        self.media_extensions = media_extensions
        self._indexes: dict[str, DirectoryIndex] = {}

    def __call__(self, items: Iterable[DiscoveredItem]) -> dict[str, list[str]]:
        """Absolute catalog paths of each item's neighbours, by canonical key (blocking)."""
        out: dict[str, list[str]] = {}
        indexes = self._indexes
        for item in items:
            directory, _, name = item.fs_path.rpartition("/")
            directory = directory or "/"
            index = indexes.get(directory)
            if index is None:
                index = indexes[directory] = DirectoryIndex(
                    list_siblings(directory), self.media_extensions
                )
            names = index.neighbors(name)
            if names:
                prefix = directory if directory.endswith("/") else directory + "/"
                out[item.canonical_key] = [catalog_path(prefix + n) for n in names]
        return out


def _parse_listing(out: bytes) -> StatListing:
    """find's NUL-separated records: signatures, and the paths Python must describe."""
    pending: list[str] = []
    # A record is a signature only when its name is its own key: ASCII (its own NFC form)
    # without a backslash (which a key escapes); every other name is described in Python.
    if out.isascii() and b"\\" not in out:
        records = out.decode("ascii").split("\0")
        records.pop()  # after the last NUL
        signatures = set(records)
        mark = LINK_MARK.encode()
        if out.startswith(mark) or b"\0" + mark in out:  # symlinks: their stat is the target's
            links = [r for r in signatures if r[0] == LINK_MARK]
            signatures.difference_update(links)
            pending = [r[1:] for r in links]
        return StatListing(signatures, pending)
    # Non-ASCII names need NFC (and undecodable bytes and backslashes their escapes): described
    # in Python.
    signatures = set()
    for record in out.decode("utf-8", "surrogateescape").split("\0")[:-1]:
        if record[0] == LINK_MARK:
            pending.append(record[1:])
        elif record.isascii() and "\\" not in record:
            signatures.add(record)
        else:
            pending.append(key_of(record))
    return StatListing(signatures, pending)


def _covers_episode(item: DiscoveredItem, episode: int) -> bool:
    """Multi-episode files (`S01E01-E02`) count for each episode they hold."""
    _, episodes = episode_numbers(item.canonical_key.rsplit("/", 1)[-1])
    return episode in episodes


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _unreadable(path: str, exc: OSError, errors: list[tuple[str, str]]) -> None:
    """A file that is there but cannot be looked at (a symlink into a folder we may not enter)
    is an error for that item, never "missing": its asset stays as it was. A file that is gone
    (vanished, or a dangling symlink) is simply not listed."""
    if not isinstance(exc, FileNotFoundError):
        errors.append((catalog_path(path), f"cannot read: {exc.strerror or exc}"))


def _entries(folder: str, errors: list[tuple[str, str]]) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError as exc:
        errors.append((catalog_path(folder), f"cannot list folder: {exc.strerror or exc}"))
        return []


def _sorted_entries(
    folder: str, errors: list[tuple[str, str]] | None = None
) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        if errors is not None:
            errors.append((catalog_path(folder), f"cannot list folder: {exc.strerror or exc}"))
        return []
