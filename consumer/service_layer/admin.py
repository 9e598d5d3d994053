"""Managing sources and collections: add, find, update, remove, discover.

The rules work inside a caller's unit of work (`add_source(uow, ...)`); the whole operations at
the end (`create_source(catalog, ...)`) open and commit their own, and are what the CLI calls.

Selectors accept a UUID, an external id, or a name matched case-insensitively; a name shared by
several rows is refused (the operator must use the UUID).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from consumer.domain.assets import new_uuid
from consumer.domain.catalog import (
    HASH_MODES,
    MEDIA_TYPES,
    Collection,
    HashMode,
    MediaType,
    PathMapping,
    SecretRef,
    ServerConfig,
    Source,
)
from consumer.domain.errors import OperationError
from consumer.domain.importing import (
    ImporterInterface,
    Library,
    LibraryImporter,
    bind_source,
    ensure_compliant,
)
from consumer.domain.keys import InvalidPathError, normalize_root, root_relation
from consumer.domain.signatures import EnricherRef
from consumer.service_layer.enrichers import KnownEnrichers
from consumer.service_layer.unit_of_work import Catalog, UnitOfWork

SOURCE_TYPES = ("filesystem", "plex", "jellyfin")
MEDIA_SERVER_TYPES = ("plex", "jellyfin")
DEFAULT_SERVER_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """What `source add` is told about a media server: its URL, where its token or API key is
    (a file or an environment variable, exactly one) and how long to wait for it."""

    url: str | None = None
    token_file: str | None = None
    token_env: str | None = None
    timeout: float | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.url, self.token_file, self.token_env, self.timeout))


def changed_server(source: Source, options: ServerOptions) -> ServerConfig | None:
    """A media server's reference with what `source update` changes (a new secret replaces
    the old one, whichever kind it was)."""
    old = source.server
    secret_given = options.token_file is not None or options.token_env is not None
    merged = ServerOptions(
        url=options.url if options.url is not None else (old.url if old else None),
        token_file=options.token_file
        if secret_given
        else (old.secret.ref if old and old.secret.kind == "file" else None),
        token_env=options.token_env
        if secret_given
        else (old.secret.ref if old and old.secret.kind == "env" else None),
        timeout=options.timeout if options.timeout is not None else (old.timeout if old else None),
    )
    return server_config(source.type, merged)


def server_config(source_type: str, options: ServerOptions) -> ServerConfig | None:
    """The media server's reference (never its secret), checked; None for a filesystem."""
    if source_type not in MEDIA_SERVER_TYPES:
        if options.given:
            raise invalid(case="server_options_for_filesystem", source_type=source_type)
        return None
    url = (options.url or "").strip().rstrip("/")
    if not url:
        raise invalid(case="server_url_missing", source_type=source_type)
    if not url.startswith(("http://", "https://")) or "://" not in url or len(url) < 10:
        raise invalid(case="server_url", url=url)
    if "?" in url or "#" in url or "@" in url.partition("://")[2].partition("/")[0]:
        # A token in the URL would be printed wherever the URL is: only the secret file or
        # variable may hold it.
        raise invalid(case="server_url_credentials", url=url.partition("?")[0])
    if (options.token_file is None) == (options.token_env is None):
        raise invalid(case="server_secret", source_type=source_type)
    if options.token_file is not None:
        secret = SecretRef("file", os.path.abspath(os.path.expanduser(options.token_file)))
    else:
        variable = (options.token_env or "").strip()
        if not variable or not variable.replace("_", "").isalnum():
            raise invalid(case="server_secret_variable", variable=variable)
        secret = SecretRef("env", variable)
    timeout = DEFAULT_SERVER_TIMEOUT if options.timeout is None else options.timeout
    if not 0 < timeout <= 600:
        raise invalid(case="server_timeout", timeout=timeout)
    return ServerConfig(url=url, secret=secret, timeout=float(timeout))


class NotFoundError(OperationError):
    def __init__(self, kind: str, selector: str) -> None:
        super().__init__(f"{kind.lower()}_not_found", selector=selector)


class AmbiguousError(OperationError):
    def __init__(self, kind: str, selector: str) -> None:
        super().__init__("ambiguous_name", case=kind.lower(), selector=selector)


def invalid(code: str = "invalid_argument", *, case: str = "", **facts: Any) -> OperationError:
    return OperationError(code, case=case, **facts)


async def resolve_source(uow: UnitOfWork, selector: str) -> Source:
    found = await uow.sources.find(selector)
    if not found:
        raise NotFoundError("Source", selector)
    if len(found) > 1:
        raise AmbiguousError("Source", selector)
    return found[0]


async def resolve_collection(uow: UnitOfWork, selector: str) -> Collection:
    found = await uow.collections.find(selector)
    if not found:
        raise NotFoundError("Collection", selector)
    if len(found) > 1:
        raise AmbiguousError("Collection", selector)
    return found[0]


def absolute_root(path: str) -> str:
    """An absolute, normalised folder path (relative input is taken from the working dir)."""
    try:
        return normalize_root(os.path.abspath(os.path.expanduser(path)))
    except InvalidPathError as exc:
        raise invalid("invalid_path", problem=str(exc)) from exc


def source_root_exists(root: str) -> bool:
    """Whether a source root is a folder now. A path that does not exist yet (a share not
    mounted) is kept, not ingestible until it appears; a file or anything else is refused."""
    if os.path.isdir(root):
        return True
    if os.path.lexists(root):
        raise invalid("invalid_path", case="not_a_folder", path=root)
    return False


def parse_mappings(values: Sequence[str]) -> list[PathMapping]:
    try:
        return [PathMapping.parse(v) for v in values]
    except ValueError as exc:
        raise invalid("invalid_path_mapping", problem=str(exc)) from exc


def parse_enrichers(
    values: Sequence[str], known: KnownEnrichers | None = None
) -> list[EnricherRef]:
    """`ID:PRIORITY` pairs; an enricher appears once. With `known`, an id no installed enricher
    has is refused (without, as in tests and tools building collections directly, unchecked)."""
    refs: dict[str, EnricherRef] = {}
    for value in values:
        enricher_id, sep, priority = value.rpartition(":")
        if not sep or not enricher_id or not priority.lstrip("-").isdigit():
            raise invalid("invalid_enricher", value=value)
        if known is not None:
            known.require(enricher_id)
        refs[enricher_id] = EnricherRef(enricher_id, int(priority))
    return sorted(refs.values(), key=lambda r: (r.priority, r.enricher_id))


def check_hash_mode(value: str) -> HashMode:
    if value not in HASH_MODES:
        raise invalid(case="hash_mode", known=HASH_MODES, value=value)
    return value


# --- roots ---------------------------------------------------------------------------------
# One file, one asset: a file under two collection roots would be cataloged twice, so no two
# collections (of any source) share a root or hold one inside the other, and a collection lies
# within its source's root when the source has one.
def check_inside_source(source: Source, root: str) -> None:
    if source.root_path and root_relation(root, source.root_path) not in ("equal", "inside"):
        raise invalid(
            "root_outside_source", root=root, source=source.name, source_root=source.root_path
        )


def overlap_of(root: str, collections: Sequence[Collection], *, ignore: str = "") -> str | None:
    """How `root` overlaps another collection's root, in words (None: it overlaps none)."""
    for other in collections:
        if other.uuid == ignore:
            continue
        relation = root_relation(root, other.root_path)
        if relation == "equal":
            return f"{root} is already the root of collection '{other.name}'"
        if relation == "inside":
            return f"{root} is inside collection '{other.name}' ({other.root_path})"
        if relation == "contains":
            return f"{root} contains collection '{other.name}' ({other.root_path})"
    return None


async def check_collection_root(
    uow: UnitOfWork, source: Source, root: str, *, ignore: str = ""
) -> None:
    check_inside_source(source, root)
    overlap = overlap_of(root, await uow.collections.all(), ignore=ignore)
    if overlap is not None:
        raise invalid("overlapping_root", overlap=overlap)


# --- sources -------------------------------------------------------------------------------
async def add_source(
    uow: UnitOfWork,
    *,
    name: str,
    source_type: str,
    root_path: str | None,
    mappings: Sequence[str],
    external_id: str | None,
    now: datetime,
    server: ServerOptions | None = None,
) -> Source:
    if source_type not in SOURCE_TYPES:
        raise invalid("unknown_source_type", source_type=source_type, known=SOURCE_TYPES)
    if not name.strip():
        raise invalid(case="source_name_missing")
    if any(s.name.lower() == name.strip().lower() for s in await uow.sources.all()):
        raise invalid("duplicate_name", case="source", name=name)
    if external_id and await uow.sources.find(external_id):
        raise invalid("duplicate_external_id", external_id=external_id)
    config = server_config(source_type, server or ServerOptions())
    root = absolute_root(root_path) if root_path else None
    if root is not None:
        source_root_exists(root)
    source = Source(
        uuid=new_uuid(),
        name=name.strip(),
        type=source_type,
        root_path=root,
        path_mappings=parse_mappings(mappings),
        external_id=external_id,
        created_at=now,
        updated_at=now,
        server=config,
    )
    await uow.sources.add(source)
    return source


async def update_source(
    uow: UnitOfWork,
    source: Source,
    *,
    name: str | None,
    root_path: str | None,
    mappings: Sequence[str] | None,
    clear_mappings: bool,
    now: datetime,
    server: ServerOptions | None = None,
) -> Source:
    if server is not None and server.given:
        source.server = changed_server(source, server)
    if name is not None:
        taken = any(
            s.name.lower() == name.lower() and s.uuid != source.uuid
            for s in await uow.sources.all()
        )
        if taken:
            raise invalid("duplicate_name", case="source", name=name)
        source.name = name
    if root_path is not None:
        new_root = absolute_root(root_path)
        outside = [
            c
            for c in await uow.collections.all(source.uuid)
            if root_relation(c.root_path, new_root) not in ("equal", "inside")
        ]
        if outside:
            raise invalid(
                "root_outside_source",
                case="source_update",
                source=source.name,
                source_root=new_root,
                collections=[f"'{c.name}' ({c.root_path})" for c in outside],
            )
        source.root_path = new_root
        source_root_exists(source.root_path)
    if clear_mappings:
        source.path_mappings = []
    if mappings:
        source.path_mappings = [*source.path_mappings, *parse_mappings(mappings)]
    source.updated_at = now
    await uow.sources.update(source)
    return source


@dataclass(slots=True)
class DiscoverResult:
    created: list[Collection] = field(default_factory=list)
    existing: list[Collection] = field(default_factory=list)


async def discover_collections(
    uow: UnitOfWork,
    source: Source,
    importer: ImporterInterface,
    list_folders: Callable[[str], list[str]],
    *,
    now: datetime,
) -> DiscoverResult:
    """One collection per top-level folder of the source root, created sync-disabled with
    `ingestible` evaluated; folders that already have a collection are left as they are. A
    media server's collections are its libraries instead (`discover_libraries`)."""
    if isinstance(importer, LibraryImporter):
        return await discover_libraries(uow, source, importer, now=now)
    if not source.root_path:
        raise invalid(case="no_root_path", source=source.name, source_id=source.uuid)
    if not await asyncio.to_thread(os.path.isdir, source.root_path):
        raise OperationError(
            "source_unreachable", case="root", source=source.name, root_path=source.root_path
        )
    existing = await uow.collections.all(source.uuid)
    everywhere = await uow.collections.all()
    by_root = {c.root_path: c for c in existing}
    by_name = {c.name.lower(): c for c in existing}
    result = DiscoverResult()
    overlaps: list[str] = []
    for folder in await asyncio.to_thread(list_folders, source.root_path):
        root = normalize_root(os.path.join(source.root_path, folder))
        match = by_root.get(root) or by_name.get(folder.lower())
        if match is not None:
            result.existing.append(match)
            continue
        overlap = overlap_of(root, everywhere)
        if overlap is not None:
            overlaps.append(overlap)
        collection = Collection(
            uuid=new_uuid(),
            source_uuid=source.uuid,
            name=folder,
            root_path=root,
            sync_enabled=False,
            created_at=now,
            updated_at=now,
        )
        collection.ingestible = importer.validate_ingestible(collection).ok
        by_root[root] = collection
        by_name[folder.lower()] = collection
        result.created.append(collection)
    if overlaps:  # nothing is created: the operator resolves the overlaps first
        raise invalid("overlapping_root", case="discover", source=source.name, overlaps=overlaps)
    for collection in result.created:
        await uow.collections.add(collection)
    return result


def change_library_mappings(
    collection: Collection, mappings: Sequence[str], *, clear: bool
) -> list[str]:
    """A media-server library's own path mappings (beside its source's; the longest prefix of
    either wins, the library's on a tie): for a library on a share of its own."""
    if not collection.importer_state.get("library_id"):
        raise invalid(case="collection_mappings_need_server", collection=collection.name)
    kept = [] if clear else list(collection.importer_state.get("path_mappings") or [])
    added = [m.as_dict() for m in parse_mappings(mappings)]
    state = dict(collection.importer_state)
    state["path_mappings"] = kept + added
    collection.importer_state = state
    words = ["path mappings cleared"] if clear else []
    return words + [f"path mapping {m['from']}={m['to']}" for m in added]


async def discover_libraries(
    uow: UnitOfWork, source: Source, importer: LibraryImporter, *, now: datetime
) -> DiscoverResult:
    """One collection per movie or TV library of a media server, sync disabled; its external
    id is the server's library id (prefixed with the source's name when another collection
    already has that id: Plex numbers its libraries 1, 2, 3 on every server). Libraries that
    already have a collection are left as they are."""
    libraries: list[Library] = await asyncio.to_thread(importer.libraries)
    existing = await uow.collections.all(source.uuid)
    everywhere = await uow.collections.all()
    by_library = {str(c.importer_state.get("library_id")): c for c in existing}
    names = {c.name.lower() for c in existing}
    taken_ids = {c.external_id for c in everywhere if c.external_id}
    result = DiscoverResult()
    for library in libraries:
        match = by_library.get(library.library_id)
        if match is not None:
            result.existing.append(match)
            continue
        name = library.name
        if name.lower() in names:
            name = f"{library.name} ({library.library_id})"
        external_id = library.library_id
        if external_id in taken_ids:
            external_id = f"{source.name}:{library.library_id}"
        collection = Collection(
            uuid=new_uuid(),
            source_uuid=source.uuid,
            name=name,
            root_path=library.root,
            sync_enabled=False,
            ingestible=True,  # it answered just now
            external_id=external_id,
            created_at=now,
            updated_at=now,
            importer_state={
                "library_id": library.library_id,
                "kind": library.kind,
                "locations": list(library.locations),
            },
        )
        names.add(name.lower())
        taken_ids.add(external_id)
        by_library[library.library_id] = collection
        result.created.append(collection)
    for collection in result.created:
        await uow.collections.add(collection)
    return result


# --- collections ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EnrichmentOptions:
    """A collection's enrichment options; None leaves one as it is. `media_type` "none" clears
    the forced type."""

    auto_enrich: bool | None = None
    media_type: str | None = None
    audio_only: bool | None = None


def check_media_type(value: str) -> MediaType | None:
    if value.lower() == "none":
        return None
    for known in MEDIA_TYPES:
        if value.lower() == known:
            return known
    raise invalid(case="media_type", known=", ".join((*MEDIA_TYPES, "none")), value=value)


def apply_enrichment_options(collection: Collection, options: EnrichmentOptions) -> list[str]:
    changes: list[str] = []
    if options.auto_enrich is not None and options.auto_enrich != collection.auto_enrich:
        collection.auto_enrich = options.auto_enrich
        changes.append(f"automatic enrichment {'on' if options.auto_enrich else 'off'}")
    if options.media_type is not None:
        forced = check_media_type(options.media_type)
        if forced != collection.media_type:
            collection.media_type = forced
            changes.append(f"media type: {forced or 'not forced'}")
    if options.audio_only is not None and options.audio_only != collection.audio_only:
        collection.audio_only = options.audio_only
        changes.append(f"audio only: {options.audio_only}")
    return changes


async def add_collection(
    uow: UnitOfWork,
    source: Source,
    importer: ImporterInterface,
    *,
    name: str,
    root_path: str,
    enrichers: Sequence[str],
    sync_enabled: bool,
    hash_mode: str,
    external_id: str | None,
    now: datetime,
    known_enrichers: KnownEnrichers | None = None,
    options: EnrichmentOptions | None = None,
) -> Collection:
    if not name.strip():
        raise invalid(case="collection_name_missing")
    siblings = await uow.collections.all(source.uuid)
    if any(c.name.lower() == name.lower() for c in siblings):
        raise invalid("duplicate_name", case="collection_in_source", source=source.name, name=name)
    if external_id and await uow.collections.find(external_id):
        raise invalid("duplicate_external_id", external_id=external_id)
    root = absolute_root(root_path)
    await check_collection_root(uow, source, root)
    collection = Collection(
        uuid=new_uuid(),
        source_uuid=source.uuid,
        name=name.strip(),
        root_path=root,
        sync_enabled=sync_enabled,
        enrichers=parse_enrichers(enrichers, known_enrichers),
        hash_mode=check_hash_mode(hash_mode),
        external_id=external_id,
        created_at=now,
        updated_at=now,
    )
    apply_enrichment_options(collection, options or EnrichmentOptions())
    collection.ingestible = importer.validate_ingestible(collection).ok
    await uow.collections.add(collection)
    return collection


async def update_collection(
    uow: UnitOfWork,
    collection: Collection,
    importer: ImporterInterface,
    *,
    sync_enabled: bool | None,
    root_path: str | None,
    add_enricher: tuple[str, int] | None,
    remove_enricher: str | None,
    hash_mode: str | None,
    name: str | None,
    now: datetime,
    known_enrichers: KnownEnrichers | None = None,
    options: EnrichmentOptions | None = None,
    mappings: Sequence[str] | None = None,
    clear_mappings: bool = False,
) -> list[str]:
    """Apply the requested changes; returns what changed, in words."""
    changes: list[str] = apply_enrichment_options(collection, options or EnrichmentOptions())
    if mappings or clear_mappings:
        changes += change_library_mappings(collection, mappings or [], clear=clear_mappings)
    if name is not None and name != collection.name:
        siblings = await uow.collections.all(collection.source_uuid)
        if any(c.name.lower() == name.lower() and c.uuid != collection.uuid for c in siblings):
            raise invalid("duplicate_name", case="collection_sibling", name=name)
        changes.append(f"name: {collection.name} -> {name}")
        collection.name = name
    if sync_enabled is not None and sync_enabled != collection.sync_enabled:
        changes.append(f"sync {'enabled' if sync_enabled else 'disabled'}")
        collection.sync_enabled = sync_enabled
    if root_path is not None:
        new_root = absolute_root(root_path)
        if new_root != collection.root_path:
            source = await uow.sources.get(collection.source_uuid)
            assert source is not None  # the schema cascades a source's removal
            await check_collection_root(uow, source, new_root, ignore=collection.uuid)
            changes.append(f"path: {collection.root_path} -> {new_root}")
            collection.root_path = new_root
        verdict = importer.validate_ingestible(collection)
        if verdict.ok != collection.ingestible:
            changes.append(f"ingestible: {collection.ingestible} -> {verdict.ok}")
        collection.ingestible = verdict.ok
    if add_enricher is not None:
        enricher_id, priority = add_enricher
        if known_enrichers is not None:
            known_enrichers.require(enricher_id)
        kept = [e for e in collection.enrichers if e.enricher_id != enricher_id]
        collection.enrichers = sorted(
            [*kept, EnricherRef(enricher_id, priority)], key=lambda r: (r.priority, r.enricher_id)
        )
        changes.append(f"enricher {enricher_id} at priority {priority}")
    if remove_enricher is not None:
        kept = [e for e in collection.enrichers if e.enricher_id != remove_enricher]
        if len(kept) == len(collection.enrichers):
            raise invalid("unknown_enricher", collection=collection.name, enricher=remove_enricher)
        collection.enrichers = kept
        changes.append(f"enricher {remove_enricher} removed")
    if hash_mode is not None and hash_mode != collection.hash_mode:
        collection.hash_mode = check_hash_mode(hash_mode)
        changes.append(f"hash mode: {hash_mode}")
    collection.updated_at = now
    await uow.collections.update(collection)
    return changes


# --- whole operations: one unit of work each, committed -----------------------------------
# What the CLI commands call. Each opens its own unit of work on the catalog, applies the rules
# above and commits (a dry-run catalog rolls back at commit), and returns a plain result.
ImporterFor = Callable[[str], object]


def importer_of(importer_for: ImporterFor, source: Source) -> ImporterInterface:
    return ensure_compliant(bind_source(importer_for(source.type), source))


async def create_source(
    catalog: Catalog,
    *,
    name: str,
    source_type: str,
    root_path: str | None,
    mappings: Sequence[str],
    external_id: str | None,
    now: datetime,
    server: ServerOptions | None = None,
) -> Source:
    async with catalog.unit_of_work() as uow:
        source = await add_source(
            uow,
            name=name,
            source_type=source_type,
            root_path=root_path,
            mappings=mappings,
            external_id=external_id,
            now=now,
            server=server,
        )
        await uow.commit()
    return source


async def change_source(
    catalog: Catalog,
    selector: str,
    *,
    name: str | None,
    root_path: str | None,
    mappings: Sequence[str] | None,
    clear_mappings: bool,
    now: datetime,
    server: ServerOptions | None = None,
) -> Source:
    async with catalog.unit_of_work() as uow:
        source = await update_source(
            uow,
            await resolve_source(uow, selector),
            name=name,
            root_path=root_path,
            mappings=mappings,
            clear_mappings=clear_mappings,
            now=now,
            server=server,
        )
        await uow.commit()
    return source


@dataclass(slots=True)
class SourceRemoval:
    source: Source
    collections_removed: int
    assets_removed: int


async def remove_source(catalog: Catalog, selector: str, *, confirmed: bool) -> SourceRemoval:
    """Remove a source with its collections and their assets; one that has collections needs
    `confirmed`."""
    async with catalog.unit_of_work() as uow:
        source = await resolve_source(uow, selector)
        collections = await uow.collections.all(source.uuid)
        counts = await uow.collections.asset_counts()
        assets = sum(counts.get(c.uuid, 0) for c in collections)
        if collections and not confirmed:
            raise invalid(
                "confirmation_required",
                case="source",
                source=source.name,
                collections=len(collections),
                assets=assets,
            )
        await uow.sources.remove(source.uuid)
        await uow.commit()
    return SourceRemoval(source, len(collections), assets)


@dataclass(slots=True)
class Discovery:
    source: Source
    created: list[Collection]
    existing: list[Collection]


async def discover(
    catalog: Catalog,
    selector: str,
    importer_for: ImporterFor,
    list_folders: Callable[[str], list[str]],
    *,
    now: datetime,
) -> Discovery:
    async with catalog.unit_of_work() as uow:
        source = await resolve_source(uow, selector)
        importer = importer_of(importer_for, source)
        result = await discover_collections(uow, source, importer, list_folders, now=now)
        await uow.commit()
    return Discovery(source, result.created, result.existing)


async def create_collection(
    catalog: Catalog,
    source_selector: str,
    importer_for: ImporterFor,
    *,
    name: str,
    root_path: str,
    enrichers: Sequence[str],
    sync_enabled: bool,
    hash_mode: str,
    external_id: str | None,
    now: datetime,
    known_enrichers: KnownEnrichers | None = None,
    options: EnrichmentOptions | None = None,
) -> Collection:
    async with catalog.unit_of_work() as uow:
        source = await resolve_source(uow, source_selector)
        collection = await add_collection(
            uow,
            source,
            importer_of(importer_for, source),
            name=name,
            root_path=root_path,
            enrichers=enrichers,
            sync_enabled=sync_enabled,
            hash_mode=hash_mode,
            external_id=external_id,
            now=now,
            known_enrichers=known_enrichers,
            options=options,
        )
        await uow.commit()
    return collection


@dataclass(slots=True)
class CollectionChange:
    collection: Collection
    changes: list[str]


async def change_collection(
    catalog: Catalog,
    selector: str,
    importer_for: ImporterFor,
    *,
    sync_enabled: bool | None,
    root_path: str | None,
    add_enricher: tuple[str, int] | None,
    remove_enricher: str | None,
    hash_mode: str | None,
    name: str | None,
    now: datetime,
    known_enrichers: KnownEnrichers | None = None,
    options: EnrichmentOptions | None = None,
    mappings: Sequence[str] | None = None,
    clear_mappings: bool = False,
) -> CollectionChange:
    async with catalog.unit_of_work() as uow:
        collection = await resolve_collection(uow, selector)
        source = await uow.sources.get(collection.source_uuid)
        assert source is not None  # the schema cascades a source's removal to its collections
        changes = await update_collection(
            uow,
            collection,
            importer_of(importer_for, source),
            sync_enabled=sync_enabled,
            root_path=root_path,
            add_enricher=add_enricher,
            remove_enricher=remove_enricher,
            hash_mode=hash_mode,
            name=name,
            now=now,
            known_enrichers=known_enrichers,
            options=options,
            mappings=mappings,
            clear_mappings=clear_mappings,
        )
        await uow.commit()
    return CollectionChange(collection, changes)


@dataclass(slots=True)
class CollectionRemoval:
    collection: Collection
    assets_removed: int


async def remove_collection(
    catalog: Catalog, selector: str, *, confirmed: bool
) -> CollectionRemoval:
    """Remove a collection and its assets; one that has assets needs `confirmed`."""
    async with catalog.unit_of_work() as uow:
        collection = await resolve_collection(uow, selector)
        assets = await uow.assets.count(collection.uuid)
        if assets and not confirmed:
            raise invalid(
                "confirmation_required",
                case="collection",
                collection=collection.name,
                assets=assets,
            )
        await uow.collections.remove(collection.uuid)
        await uow.commit()
    return CollectionRemoval(collection, assets)
