"""What the Plex and Jellyfin importers share: a server's item made into a catalog item.

A server item is identified by what the server keeps stable for it (`RawItem.key`), never by
its path; its file is found on this host through the path mappings (the source's, longest
prefix wins), stat'ed there when reachable — so the ingest's staged change detection and
hashing apply to it as to any file — and cataloged from the server's word alone, marked
unreachable with the reason, when not.

Incremental ingests list only what the server says changed after the collection's high-water
mark (the newest change time seen by the last ingest, in the server's own clock, so our clock's
skew does not matter); a full pass lists everything.
"""

from __future__ import annotations

import abc
import os
import stat as statmod
from collections.abc import Collection as Extensions
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from consumer.domain.catalog import Collection, PathMapping, Source, apply_mappings
from consumer.domain.errors import OperationError
from consumer.domain.importing import (
    BaseImporter,
    DiscoveredItem,
    Ingestibility,
    IngestScope,
    Library,
    ScopeNotFoundError,
    ServerItem,
    ServerListing,
    is_unreachable,
)
from consumer.domain.media_info import TitleQuery
from shared.files import catalog_path

STATE_LIBRARY = "library_id"
STATE_KIND = "kind"
STATE_HIGH_WATER = "high_water"


@dataclass(slots=True)
class RawItem:
    """One movie or episode as a server describes it, in server-neutral terms."""

    key: str  # the stable identity: the catalog's canonical key
    locator: str  # how to ask the server for it now (Plex ratingKey, Jellyfin Id)
    kind: str  # movie | episode
    title: str | None
    server_path: str | None
    size: int | None = None
    year: int | None = None
    show: str | None = None
    season: int | None = None
    episode: int | None = None
    duration: float | None = None  # seconds
    changed_at: float | None = None  # the server's change time, epoch seconds
    external_ids: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # guid, added_at...


class MediaServerImporter(BaseImporter):
    """The shared half of the Plex and Jellyfin importers; a subclass talks to its server."""

    server_name = ""  # Plex, Jellyfin

    def __init__(self, media_extensions: Extensions[str], source: Source | None = None) -> None:
        self.extensions = media_extensions
        self.source = source
        self.walk_errors: list[tuple[str, str]] = []

    def bind(self, source: Source) -> Self:
        if source.server is None:  # only a catalog edited by hand has such a source
            raise LookupError(
                f"a {source.type} source needs its server's address and secret "
                f"(apollonia source update {source.name} --url URL --token-file PATH)"
            )
        return type(self)(self.extensions, source)

    @property
    def bound(self) -> Source:
        if self.source is None or self.source.server is None:
            raise LookupError(f"the {self.server_name} importer needs a source with a server URL")
        return self.source

    # --- what a subclass provides ---------------------------------------------------------
    @abc.abstractmethod
    def libraries(self) -> list[Library]:
        """The server's movie and TV libraries."""

    @abc.abstractmethod
    def _items(self, library_id: str, kind: str, since: str | None) -> Iterator[RawItem]:
        """Every item of a library, page by page; only those changed after `since` when set."""

    @abc.abstractmethod
    def _search(self, library_id: str, kind: str, scope: IngestScope) -> Iterator[RawItem]:
        """The items of a title (a season, an episode), found through the server's search."""

    @staticmethod
    @abc.abstractmethod
    def _later(a: str | None, b: str | None) -> str | None:
        """The later of two high-water marks (as the server writes them)."""

    # --- the interface ----------------------------------------------------------------------
    def check_reachable(self) -> None:
        self.libraries()

    def validate_ingestible(self, collection: Collection) -> Ingestibility:
        library_id = collection.importer_state.get(STATE_LIBRARY)
        if not library_id:
            return Ingestibility(False, f"not a {self.server_name} library (no library id)")
        try:
            libraries = self.libraries()
        except OperationError as exc:
            if not is_unreachable(exc):
                raise
            return Ingestibility(False, exc.message, unreachable=exc)
        if not any(lib.library_id == library_id for lib in libraries):
            return Ingestibility(
                False, f"library {library_id} is no longer on the {self.server_name} server"
            )
        return Ingestibility(True, f"{self.server_name} library {library_id} answers")

    def enumerate(self, collection: Collection, scope: IngestScope) -> Iterator[DiscoveredItem]:
        if scope.is_full:
            yield from self.listing(collection, full=True).items
            return
        library_id, kind = self._library(collection)
        mappings = self._mappings(collection)
        query = TitleQuery.of(scope.title or "")
        found = False
        for raw in self._search(library_id, kind, scope):
            title = raw.show if raw.kind == "episode" else raw.title
            if not query.matches(title, None if raw.kind == "episode" else raw.year):
                continue  # the server's search is fuzzy: the title must be the one asked for
            if scope.season is not None and raw.season != scope.season:
                continue
            if scope.episode is not None and raw.episode != scope.episode:
                continue
            item = self._item(raw, mappings)
            if item is not None:
                found = True
                yield item
        if not found:
            raise _not_found(scope, collection.name)

    def listing(self, collection: Collection, *, full: bool) -> ServerListing:
        self.walk_errors = []
        library_id, kind = self._library(collection)
        mappings = self._mappings(collection)
        since = None if full else collection.importer_state.get(STATE_HIGH_WATER)
        items: list[DiscoveredItem] = []
        previous = high_water = collection.importer_state.get(STATE_HIGH_WATER)
        seen: set[str] = set()
        for raw in self._items(library_id, kind, since):
            if raw.key in seen:
                continue  # a page boundary moved under us: an item listed twice counts once
            seen.add(raw.key)
            mark = raw.extra.get("mark")
            high_water = self._later(high_water, mark)
            item = self._item(raw, mappings)
            if item is not None:
                item.fresh = (
                    previous is None or mark is None or self._later(previous, mark) != previous
                )
                items.append(item)
        state = dict(collection.importer_state)
        if high_water is not None:
            state[STATE_HIGH_WATER] = high_water
        return ServerListing(items, complete=since is None, state=state)

    # --- helpers ----------------------------------------------------------------------------
    def _library(self, collection: Collection) -> tuple[str, str]:
        state = collection.importer_state
        library_id = state.get(STATE_LIBRARY)
        if not library_id:
            raise LookupError(f"collection {collection.name!r} is not a {self.server_name} library")
        return str(library_id), str(state.get(STATE_KIND) or "movie")

    def _mappings(self, collection: Collection) -> list[PathMapping]:
        """The library's own mappings first (they win a tie), then its source's."""
        own = [
            PathMapping.from_mapping(m)
            for m in collection.importer_state.get("path_mappings") or ()
        ]
        return own + list(self.bound.path_mappings)

    def _item(self, raw: RawItem, mappings: list[PathMapping]) -> ServerItem | None:
        if not raw.server_path:
            self.walk_errors.append(
                (raw.key, f"the {self.server_name} item '{raw.title}' has no file; not cataloged")
            )
            return None
        local = apply_mappings(raw.server_path, mappings)
        unreachable: str | None = None
        size = raw.size or 0
        mtime_ns = int((raw.changed_at or 0) * 1_000_000_000)
        try:
            st = os.stat(local)
        except OSError as exc:
            unreachable = _why_unreachable(local, raw.server_path, exc)
        else:
            if statmod.S_ISREG(st.st_mode):
                size, mtime_ns = st.st_size, st.st_mtime_ns
            else:
                unreachable = f"{local} (the server's {raw.server_path}) is not a regular file"
        metadata = _metadata(raw, self.source_type)
        if unreachable is not None:
            metadata["unreachable"] = unreachable
        return ServerItem(
            path=catalog_path(local),
            fs_path=local,
            canonical_key=raw.key,
            size=size,
            mtime_ns=mtime_ns,
            metadata=metadata,
            editorial=_editorial(raw),
            unreachable=unreachable,
        )


def _why_unreachable(local: str, server_path: str, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return (
            f"the server's file {server_path} is not at {local} on this host "
            "(check the source's path mappings, and that the share is mounted)"
        )
    return f"the server's file {server_path} cannot be read at {local}: {exc.strerror or exc}"


def _metadata(raw: RawItem, server: str) -> dict[str, Any]:
    """The asset's `tech_metadata`: what a name would have said, from the server instead."""
    out: dict[str, Any] = {
        "title": raw.show if raw.kind == "episode" else raw.title,
        "year": raw.year,
        "season": raw.season,
        "episode": raw.episode,
        "episode_title": raw.title if raw.kind == "episode" else None,
        "media_type": raw.kind,
        "server": server,
        "server_path": raw.server_path,
        "server_duration": raw.duration,
        "external_ids": dict(raw.external_ids) or None,
    }
    return {k: v for k, v in out.items() if v is not None}


def _editorial(raw: RawItem) -> dict[str, Any]:
    """The editorial result the importer records: everything the server said about the item."""
    out: dict[str, Any] = {
        "type": raw.kind,
        "title": raw.title,
        "year": raw.year,
        "show": raw.show,
        "season": raw.season,
        "episode": raw.episode,
        "duration": raw.duration,
        "external_ids": dict(raw.external_ids),
        "server_id": raw.locator,
        "server_path": raw.server_path,
        "changed_at": _iso(raw.changed_at),
    }
    out.update({k: v for k, v in raw.extra.items() if k != "mark"})
    return {k: v for k, v in out.items() if v is not None}


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _not_found(scope: IngestScope, collection: str) -> ScopeNotFoundError:
    if scope.episode is not None:
        return ScopeNotFoundError(
            "episode",
            f"Episode {scope.episode} of season {scope.season} of '{scope.title}' not found in "
            f"collection '{collection}'",
        )
    if scope.season is not None:
        return ScopeNotFoundError(
            "season",
            f"Season {scope.season} of '{scope.title}' not found in collection '{collection}'",
        )
    return ScopeNotFoundError(
        "title", f"Title '{scope.title}' not found in collection '{collection}'"
    )


def as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def as_float(value: object) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)
