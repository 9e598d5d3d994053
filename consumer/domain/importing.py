"""What an importer is: something that can tell whether a collection is reachable and list what is
in it. Importers never persist; the ingest services decide and write.

Seed 004: implementations that subclass `BaseImporter` are compliant by construction; anything
else must satisfy `ImporterInterface`, checked before any work (B-10/B-12, D-10).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from consumer.domain.catalog import Collection, Source
from consumer.domain.errors import OperationError
from consumer.domain.media_info import MediaInfo, parse


@dataclass(frozen=True, slots=True)
class IngestScope:
    """Collection-level narrowing: a title, a season of it, or one episode of that season."""

    title: str | None = None
    season: int | None = None
    episode: int | None = None

    def __post_init__(self) -> None:
        if self.season is not None and self.title is None:
            raise ValueError("--season requires --title")
        if self.episode is not None and self.season is None:
            raise ValueError("--episode requires --season")
        for name, value in (("season", self.season), ("episode", self.episode)):
            if value is not None and value < 0:
                raise ValueError(f"--{name} must be a non-negative integer")

    @property
    def kind(self) -> str:
        if self.episode is not None:
            return "episode"
        if self.season is not None:
            return "season"
        if self.title is not None:
            return "title"
        return "collection"

    @property
    def is_full(self) -> bool:
        return self.title is None

    def describe(self, collection_name: str) -> str:
        """The scope line every ingest prints first (B-6)."""
        if self.episode is not None:
            return (
                f"Ingesting episode {self.episode} of season {self.season} of "
                f"'{self.title}' from collection '{collection_name}'"
            )
        if self.season is not None:
            return (
                f"Ingesting season {self.season} of '{self.title}' from collection "
                f"'{collection_name}'"
            )
        if self.title is not None:
            return f"Ingesting title '{self.title}' from collection '{collection_name}'"
        return f"Ingesting entire collection '{collection_name}'"

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "title": self.title,
            "season": self.season,
            "episode": self.episode,
        }


class ScopeNotFoundError(LookupError):
    """The title, season or episode asked for is not in the collection (B-8, exit 2)."""

    def __init__(self, level: str, message: str) -> None:
        super().__init__(message)
        self.level = level
        self.message = message


@dataclass(frozen=True, slots=True)
class Ingestibility:
    ok: bool
    reason: str
    # Set when the collection cannot be ingested because a system cannot be reached (a media
    # server refusing, timing out, rejecting the token): the ingest then fails with this error
    # (exit 3) instead of "not ingestible" (exit 1).
    unreachable: OperationError | None = None


@dataclass(slots=True)
class DiscoveredItem:
    """One file an importer found, normalised for the catalog."""

    path: str  # absolute, as cataloged (undecodable bytes written as \xNN)
    fs_path: str  # what to open (may carry surrogate escapes for undecodable bytes)
    canonical_key: str
    size: int
    mtime_ns: int
    inode: int = 0
    device: int = 0
    _info: MediaInfo | None = field(default=None, repr=False)

    def media_info(self) -> MediaInfo:
        if self._info is None:
            self._info = parse(self.canonical_key)
        return self._info


@dataclass(slots=True)
class ServerItem(DiscoveredItem):
    """An item a media server listed: its file (mapped to this host's path), and what the server
    says about it. `canonical_key` is the item's stable identity on the server (Plex: its guid;
    Jellyfin: its item id), not its path.

    `unreachable` says why the mapped file cannot be read here (the asset is then cataloged
    from the server's word alone, and cannot become ready); `metadata` becomes the asset's
    `tech_metadata`, `editorial` the importer's editorial enrichment result."""

    metadata: dict[str, Any] = field(default_factory=dict)
    editorial: dict[str, Any] = field(default_factory=dict)
    unreachable: str | None = None
    # Changed on the server since the last ingest (or never ingested): its editorial result
    # is recorded again even when its file is unchanged.
    fresh: bool = True

    def media_info(self) -> MediaInfo:
        if self._info is None:
            m = self.metadata
            self._info = MediaInfo(
                m.get("title"),
                m.get("season"),
                m.get("episode"),
                m.get("year"),
                m.get("episode_title"),
            )
        return self._info


# The error code of a system a source lives on that cannot be reached (exit 3); its `case` says
# how: refused, timeout, tls, auth, dns, network, http.
UNREACHABLE = "media_server_unreachable"


def is_unreachable(exc: BaseException) -> bool:
    return isinstance(exc, OperationError) and exc.error_code == UNREACHABLE


LibraryKind = Literal["movie", "show"]


@dataclass(frozen=True, slots=True)
class Library:
    """A library a media server offers: one collection each."""

    library_id: str
    name: str
    kind: LibraryKind
    root: str  # where it is on the server, as a URL: the collection's root
    locations: tuple[str, ...] = ()  # the server's folders for it


@dataclass(slots=True)
class ServerListing:
    """What an incremental importer listed: the items, whether that is everything the library
    holds (a full pass: what is not listed is gone) or only what changed, and the collection's
    importer state to keep once the listing is applied."""

    items: list[DiscoveredItem]
    complete: bool
    state: dict[str, Any]


@runtime_checkable
class LibraryImporter(Protocol):
    """An importer whose collections are a server's libraries (`source discover`)."""

    def libraries(self) -> list[Library]: ...

    def check_reachable(self) -> None: ...


@runtime_checkable
class IncrementalImporter(Protocol):
    """An importer that can list only what changed since the last ingest."""

    def listing(self, collection: Collection, *, full: bool) -> ServerListing: ...


def bind_source(importer: object, source: Source) -> object:
    """An importer for this very source: those that talk to a server need its URL and secret
    (`bind(source)`); the filesystem importer needs nothing and is returned as it is."""
    bind = getattr(importer, "bind", None)
    return bind(source) if callable(bind) else importer


@runtime_checkable
class ImporterInterface(Protocol):
    source_type: str

    def validate_ingestible(self, collection: Collection) -> Ingestibility: ...

    def enumerate(self, collection: Collection, scope: IngestScope) -> Iterator[DiscoveredItem]: ...


@dataclass(slots=True)
class StatListing:
    """A whole collection listed for a rescan, cheaply comparable with the catalog.

    `signatures` hold one `"<size> <seconds>.<nanoseconds>0 <key>"` string per plain file whose
    key needs no normalisation (the format GNU find's `%s %T@ %P` prints, which the catalog can
    produce for its own rows: see `AssetRepository.stat_signatures`). A signature equal to the
    catalog's is an unchanged file; anything else, and every path in `pending` (symlinks,
    non-ASCII names), is described one by one through `StatListingImporter.describe`.
    """

    signatures: set[str]
    pending: list[str]


@runtime_checkable
class StatListingImporter(Protocol):
    """An importer that can list a whole collection without building an item per file.

    Optional: a rescan of 100,000 unchanged files then costs a set intersection instead of
    100,000 Python objects. `stat_listing` returns None when it cannot vouch for the listing (a
    folder it could not read, a tool that is missing), and the ingest falls back to `enumerate`.
    """

    async def stat_listing(self, collection: Collection) -> StatListing | None: ...

    def describe(self, collection: Collection, relative: str) -> DiscoveredItem | None: ...


class BaseImporter(abc.ABC):
    """Base class for importers; subclasses are interface-compliant by construction."""

    source_type: str = ""

    @abc.abstractmethod
    def validate_ingestible(self, collection: Collection) -> Ingestibility:
        """Whether the collection can be ingested right now, and why not."""

    @abc.abstractmethod
    def enumerate(self, collection: Collection, scope: IngestScope) -> Iterator[DiscoveredItem]:
        """Yield the collection's items within `scope`; raise ScopeNotFoundError when empty."""


class ImporterNotCompliantError(TypeError):
    """An importer that does not implement ImporterInterface (seed 004 B-10, exit 1)."""


def ensure_compliant(importer: object) -> ImporterInterface:
    """Check an importer before any work is done with it."""
    if isinstance(importer, BaseImporter):
        return importer  # abstract methods guaranteed by the ABC
    missing = [
        name
        for name in ("validate_ingestible", "enumerate")
        if not callable(getattr(importer, name, None))
    ]
    if not isinstance(getattr(importer, "source_type", None), str):
        missing.append("source_type")
    if missing or not isinstance(importer, ImporterInterface):
        raise ImporterNotCompliantError(
            f"importer {type(importer).__name__} does not implement ImporterInterface "
            f"(missing: {', '.join(missing) or 'interface'})"
        )
    return importer
