"""Managing sources and collections: add, find, update, remove, discover.

Selectors accept a UUID, an external id, or a name matched case-insensitively; a name shared by
several rows is refused (the operator must use the UUID).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from consumer.domain.assets import new_uuid
from consumer.domain.catalog import HASH_MODES, Collection, HashMode, PathMapping, Source
from consumer.domain.errors import OperationError
from consumer.domain.importing import ImporterInterface
from consumer.domain.keys import InvalidPathError, normalize_root
from consumer.domain.signatures import EnricherRef
from consumer.service_layer.unit_of_work import UnitOfWork

SOURCE_TYPES = ("filesystem",)


class NotFoundError(OperationError):
    def __init__(self, kind: str, selector: str) -> None:
        super().__init__(1, f"{kind.lower()}_not_found", f"Error: {kind} '{selector}' not found")


class AmbiguousError(OperationError):
    def __init__(self, kind: str, selector: str) -> None:
        plural = "collections" if kind == "Collection" else "sources"
        super().__init__(
            1,
            "ambiguous_name",
            f"Error: Multiple {plural} named '{selector}' exist. Please specify the UUID.",
        )


def invalid(message: str, code: str = "invalid_argument") -> OperationError:
    return OperationError(1, code, f"Error: {message}")


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
        raise invalid(str(exc), "invalid_path") from exc


def parse_mappings(values: Sequence[str]) -> list[PathMapping]:
    try:
        return [PathMapping.parse(v) for v in values]
    except ValueError as exc:
        raise invalid(str(exc), "invalid_path_mapping") from exc


def parse_enrichers(values: Sequence[str]) -> list[EnricherRef]:
    """`ID:PRIORITY` pairs; an enricher appears once."""
    refs: dict[str, EnricherRef] = {}
    for value in values:
        enricher_id, sep, priority = value.rpartition(":")
        if not sep or not enricher_id or not priority.lstrip("-").isdigit():
            raise invalid(f"enricher must be ID:PRIORITY, got {value!r}", "invalid_enricher")
        refs[enricher_id] = EnricherRef(enricher_id, int(priority))
    return sorted(refs.values(), key=lambda r: (r.priority, r.enricher_id))


def check_hash_mode(value: str) -> HashMode:
    if value not in HASH_MODES:
        raise invalid(f"hash mode must be one of {', '.join(HASH_MODES)}, got {value!r}")
    return value


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
) -> Source:
    if source_type not in SOURCE_TYPES:
        raise invalid(
            f"unknown source type '{source_type}' (known: {', '.join(SOURCE_TYPES)})",
            "unknown_source_type",
        )
    if not name.strip():
        raise invalid("a source needs a name")
    if any(s.name.lower() == name.strip().lower() for s in await uow.sources.all()):
        raise invalid(f"a source named '{name}' already exists", "duplicate_name")
    if external_id and await uow.sources.find(external_id):
        raise invalid(f"external id '{external_id}' is already used", "duplicate_external_id")
    source = Source(
        uuid=new_uuid(),
        name=name.strip(),
        type=source_type,
        root_path=absolute_root(root_path) if root_path else None,
        path_mappings=parse_mappings(mappings),
        external_id=external_id,
        created_at=now,
        updated_at=now,
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
) -> Source:
    if name is not None:
        taken = any(
            s.name.lower() == name.lower() and s.uuid != source.uuid
            for s in await uow.sources.all()
        )
        if taken:
            raise invalid(f"a source named '{name}' already exists", "duplicate_name")
        source.name = name
    if root_path is not None:
        source.root_path = absolute_root(root_path)
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
    `ingestible` evaluated; folders that already have a collection are left as they are."""
    if not source.root_path:
        raise invalid(
            f"source '{source.name}' has no root path to discover from "
            f"(set one with 'apollonia source update {source.uuid} --path DIR')"
        )
    if not await asyncio.to_thread(os.path.isdir, source.root_path):
        raise OperationError(
            3,
            "source_unreachable",
            f"Error: Source '{source.name}' root {source.root_path} cannot be accessed",
        )
    existing = await uow.collections.all(source.uuid)
    by_root = {c.root_path: c for c in existing}
    by_name = {c.name.lower(): c for c in existing}
    result = DiscoverResult()
    for folder in await asyncio.to_thread(list_folders, source.root_path):
        root = normalize_root(os.path.join(source.root_path, folder))
        match = by_root.get(root) or by_name.get(folder.lower())
        if match is not None:
            result.existing.append(match)
            continue
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
        await uow.collections.add(collection)
        by_root[root] = collection
        by_name[folder.lower()] = collection
        result.created.append(collection)
    return result


# --- collections ---------------------------------------------------------------------------
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
) -> Collection:
    if not name.strip():
        raise invalid("a collection needs a name")
    siblings = await uow.collections.all(source.uuid)
    if any(c.name.lower() == name.lower() for c in siblings):
        raise invalid(
            f"source '{source.name}' already has a collection named '{name}'", "duplicate_name"
        )
    if external_id and await uow.collections.find(external_id):
        raise invalid(f"external id '{external_id}' is already used", "duplicate_external_id")
    collection = Collection(
        uuid=new_uuid(),
        source_uuid=source.uuid,
        name=name.strip(),
        root_path=absolute_root(root_path),
        sync_enabled=sync_enabled,
        enrichers=parse_enrichers(enrichers),
        hash_mode=check_hash_mode(hash_mode),
        external_id=external_id,
        created_at=now,
        updated_at=now,
    )
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
) -> list[str]:
    """Apply the requested changes; returns what changed, in words."""
    changes: list[str] = []
    if name is not None and name != collection.name:
        siblings = await uow.collections.all(collection.source_uuid)
        if any(c.name.lower() == name.lower() and c.uuid != collection.uuid for c in siblings):
            raise invalid(f"the source already has a collection named '{name}'", "duplicate_name")
        changes.append(f"name: {collection.name} -> {name}")
        collection.name = name
    if sync_enabled is not None and sync_enabled != collection.sync_enabled:
        changes.append(f"sync {'enabled' if sync_enabled else 'disabled'}")
        collection.sync_enabled = sync_enabled
    if root_path is not None:
        new_root = absolute_root(root_path)
        if new_root != collection.root_path:
            changes.append(f"path: {collection.root_path} -> {new_root}")
            collection.root_path = new_root
        verdict = importer.validate_ingestible(collection)
        if verdict.ok != collection.ingestible:
            changes.append(f"ingestible: {collection.ingestible} -> {verdict.ok}")
        collection.ingestible = verdict.ok
    if add_enricher is not None:
        enricher_id, priority = add_enricher
        kept = [e for e in collection.enrichers if e.enricher_id != enricher_id]
        collection.enrichers = sorted(
            [*kept, EnricherRef(enricher_id, priority)], key=lambda r: (r.priority, r.enricher_id)
        )
        changes.append(f"enricher {enricher_id} at priority {priority}")
    if remove_enricher is not None:
        kept = [e for e in collection.enrichers if e.enricher_id != remove_enricher]
        if len(kept) == len(collection.enrichers):
            raise invalid(
                f"collection '{collection.name}' has no enricher '{remove_enricher}'",
                "unknown_enricher",
            )
        collection.enrichers = kept
        changes.append(f"enricher {remove_enricher} removed")
    if hash_mode is not None and hash_mode != collection.hash_mode:
        collection.hash_mode = check_hash_mode(hash_mode)
        changes.append(f"hash mode: {hash_mode}")
    collection.updated_at = now
    await uow.collections.update(collection)
    return changes
