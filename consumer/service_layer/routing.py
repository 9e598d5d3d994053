"""Which collection an event belongs to, and what change it is: routing and planning, no I/O
but loading the collections.

Routing: the event path, rewritten by its source's path mappings, belongs to the collection whose
root is its longest prefix. A path under no collection is *unmatched* (acknowledged and counted,
not an error: the ingestor may watch more than is cataloged). A path whose `..` segments lead out
of the root it names is *rejected* (dead-lettered): no well-behaved ingestor sends one.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import time
from collections.abc import Collection as Extensions
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC

from consumer.domain.assets import FileFacts
from consumer.domain.catalog import Collection, PathMapping, Source, apply_mappings
from consumer.domain.keys import InvalidPathError, canonical_key, relative_key
from consumer.service_layer.apply import Change, FileGone, FileMoved, FilePresent
from consumer.service_layer.unit_of_work import Catalog, UnitOfWork
from shared.files import catalog_path, is_media_name
from shared.schemas.file_event import FileEvent


class RejectedPathError(ValueError):
    """A path that must never be applied (it escapes a collection root through `..`)."""


@dataclass(frozen=True, slots=True)
class Target:
    collection: Collection
    key: str
    path: str  # the path as this host sees it (after the source's mappings)


@dataclass(slots=True)
class _Root:
    collection: Collection
    root: str
    mappings: list[PathMapping]

    @property
    def prefix(self) -> str:
        return self.root if self.root == "/" else self.root + "/"


def _plain_relative(rel: str) -> bool:
    """A relative path with nothing to normalise: no empty, `.` or `..` segments, no NUL."""
    return (
        bool(rel)
        and "//" not in rel
        and "/." not in "/" + rel
        and not rel.endswith("/")
        and ("\x00" not in rel)
    )


class CollectionRouter:
    """Maps event paths to (collection, canonical key)."""

    def __init__(
        self,
        sources: Sequence[Source],
        collections: Sequence[Collection],
        media_extensions: Extensions[str],
        *,
        synced_only: bool = False,
    ) -> None:
        by_uuid = {s.uuid: s for s in sources}
        self.extensions = frozenset(media_extensions)
        # Automatic paths (the consumer, the embedded runner) keep only sync-enabled collections
        # in step; explicit ones (ingest-file, replay) apply to any collection.
        self.synced_only = synced_only
        self._roots = sorted(
            (
                _Root(
                    c,
                    c.root_path.rstrip("/") or "/",
                    list(by_uuid[c.source_uuid].path_mappings) if c.source_uuid in by_uuid else [],
                )
                for c in collections
            ),
            key=lambda r: len(r.root),
            reverse=True,
        )
        self.collections = {c.uuid: c for c in collections}

    @classmethod
    async def load(
        cls, uow: UnitOfWork, media_extensions: Extensions[str], *, synced_only: bool = False
    ) -> CollectionRouter:
        return cls(
            await uow.sources.all(),
            await uow.collections.all(),
            media_extensions,
            synced_only=synced_only,
        )

    def accepts(self, path: str, target: Target | None) -> bool:
        """A media file of a collection this router keeps in step."""
        if target is None or not is_media_name(posixpath.basename(path), self.extensions):
            return False
        return target.collection.sync_enabled or not self.synced_only

    def route(self, path: str) -> Target | None:
        """The collection and key of the exact `path` (see `exact_path`), or None when no
        collection holds it.

        Raises RejectedPathError for a path that names a root but leaves it through `..`.
        """
        for entry in self._roots:  # longest root first
            mapped = apply_mappings(path, entry.mappings) if entry.mappings else path
            prefix = entry.prefix
            if not mapped.startswith(prefix):
                continue
            rel = mapped[len(prefix) :]
            if _plain_relative(rel):  # the common case, without the general normaliser
                try:
                    key = relative_key(rel)
                except InvalidPathError as exc:  # a character no file name decodes to
                    raise RejectedPathError(f"{path!r} is not a file name: {exc}") from exc
                return Target(entry.collection, key, catalog_path(mapped))
            try:
                key = canonical_key(entry.root, mapped)
            except InvalidPathError as exc:
                if ".." in mapped.split("/"):
                    raise RejectedPathError(
                        f"{path!r} escapes collection root {entry.root!r} through '..'"
                    ) from exc
                continue
            return Target(entry.collection, key, catalog_path(posixpath.normpath(mapped)))
        return None


@dataclass(slots=True)
class Group:
    """One collection's share of a batch, in event order."""

    collection: Collection
    changes: list[Change] = field(default_factory=list)
    events: list[FileEvent] = field(default_factory=list)
    tags: list[object] = field(default_factory=list)  # whatever the caller needs per event


@dataclass(slots=True)
class Plan:
    groups: dict[str, Group] = field(default_factory=dict)
    unmatched: list[tuple[FileEvent, object]] = field(default_factory=list)
    # not a media file, or of a collection with sync disabled
    ignored: list[tuple[FileEvent, object]] = field(default_factory=list)
    rejected: list[tuple[FileEvent, object, str]] = field(default_factory=list)

    def group(self, collection: Collection) -> Group:
        if collection.uuid not in self.groups:
            self.groups[collection.uuid] = Group(collection)
        return self.groups[collection.uuid]


def exact_path(event: FileEvent) -> str:
    """The file's exact name, as `os.fsdecode` spells it: from `file_path_b64` when the name is
    not valid UTF-8 (`file_path` then shows undecodable bytes as `\\xNN`, which a real name could
    also contain), else `file_path` as it is."""
    if event.file_path_b64:
        try:
            raw = base64.b64decode(event.file_path_b64, validate=True)
        except (binascii.Error, ValueError):
            return event.file_path
        return raw.decode("utf-8", "surrogateescape")
    return event.file_path


def mtime_ns_of(event: FileEvent) -> int:
    if event.mtime_ns is not None:
        return event.mtime_ns
    if event.modified_time is None:
        return 0
    when = event.modified_time
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000


def file_facts(event: FileEvent, target: Target) -> FileFacts:
    return FileFacts(
        canonical_key=target.key,
        path=target.path,
        size=event.size,
        mtime_ns=mtime_ns_of(event),
        sha256=event.sha256_hash,
        xxh128=event.xxh128_hash,
        observed_at=event.observed_at,
        neighbors=list(event.neighbors),
    )


def plan_events(
    router: CollectionRouter,
    events: Sequence[FileEvent],
    tags: Sequence[object] | None = None,
) -> Plan:
    """Split events by collection and turn each into a change; nothing is written here."""
    plan = Plan()
    tags = list(tags) if tags is not None else [None] * len(events)

    def add(target: Target, change: Change, event: FileEvent, tag: object) -> None:
        group = plan.group(target.collection)
        group.changes.append(change)
        group.events.append(event)
        group.tags.append(tag)

    for event, tag in zip(events, tags, strict=True):
        event_id = str(event.event_id)
        try:
            target = router.route(exact_path(event))
            origin = router.route(event.from_path) if event.from_path else None
        except RejectedPathError as exc:
            plan.rejected.append((event, tag, str(exc)))
            continue
        target_media = router.accepts(event.file_path, target)
        if event.kind == "moved" and event.from_path is not None:
            origin_media = router.accepts(event.from_path, origin)
            if origin_media and target_media:
                assert origin is not None and target is not None
                if origin.collection.uuid == target.collection.uuid:
                    add(
                        target,
                        FileMoved(origin.key, file_facts(event, target), event_id),
                        event,
                        tag,
                    )
                    continue
            if origin_media:  # moved away, to another collection or out of the catalog
                assert origin is not None
                add(
                    origin,
                    FileGone(
                        origin.key, f"moved to {event.file_path}", event.observed_at, event_id
                    ),
                    event,
                    tag,
                )
            if target_media:
                assert target is not None
                add(target, FilePresent(file_facts(event, target), event_id), event, tag)
            if not origin_media and not target_media:
                if target is None and origin is None:
                    plan.unmatched.append((event, tag))
                else:
                    plan.ignored.append((event, tag))
            continue
        if target is None:
            plan.unmatched.append((event, tag))
        elif not target_media:
            plan.ignored.append((event, tag))
        elif event.kind == "deleted":
            add(
                target,
                FileGone(target.key, "file deleted", event.observed_at, event_id),
                event,
                tag,
            )
        else:
            add(target, FilePresent(file_facts(event, target), event_id), event, tag)
    return plan


class RouterCache:
    """The collections, loaded once per `ttl` seconds (two queries per batch add up on a busy
    queue); `ttl=0` loads them for every batch."""

    def __init__(
        self,
        catalog: Catalog,
        media_extensions: Extensions[str],
        *,
        synced_only: bool = False,
        ttl: float = 0.0,
    ) -> None:
        self.catalog = catalog
        self.extensions = media_extensions
        self.synced_only = synced_only
        self.ttl = ttl
        self._cached: tuple[CollectionRouter, float] | None = None

    async def get(self, *, reload: bool = False) -> tuple[CollectionRouter, bool]:
        """The router, and whether it was loaded just now."""
        now = time.monotonic()
        cached = self._cached
        if not reload and cached is not None and now - cached[1] < self.ttl:
            return cached[0], False
        async with self.catalog.unit_of_work(read_only=True, label="route") as uow:
            router = await CollectionRouter.load(uow, self.extensions, synced_only=self.synced_only)
        self._cached = (router, now)
        return router, True

    def forget(self) -> None:
        """Load again next time (a collection may be gone)."""
        self._cached = None


async def plan_batch(
    routers: RouterCache, events: Sequence[FileEvent], tags: Sequence[object] | None = None
) -> Plan:
    """Route and plan `events`; when some match no collection and the collections were not
    loaded just now, look again once (a collection may have been added since)."""
    router, fresh = await routers.get()
    plan = plan_events(router, events, tags)
    if plan.unmatched and not fresh:
        router, _ = await routers.get(reload=True)
        plan = plan_events(router, events, tags)
    return plan
