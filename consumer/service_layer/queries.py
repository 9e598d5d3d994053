"""Reading the catalog: sources, collections, assets, duplicates, history and recent runs.

Each query opens one read-only unit of work and returns plain results; how they are shown is
the caller's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from consumer.domain.approvals import Approval, EnrichmentSnapshot
from consumer.domain.assets import Asset
from consumer.domain.catalog import Collection, Source
from consumer.domain.enrichment import Enricher
from consumer.domain.errors import OperationError
from consumer.domain.importing import Ingestibility
from consumer.domain.jobs import Readiness, readiness
from consumer.domain.records import HistoryEntry, IngestRun
from consumer.service_layer.admin import (
    ImporterFor,
    importer_of,
    resolve_collection,
    resolve_source,
)
from consumer.service_layer.unit_of_work import Catalog

RECENT_RUNS = 5


# --- sources -------------------------------------------------------------------------------
@dataclass(slots=True)
class SourceSummary:
    source: Source
    collections: int


async def list_sources(catalog: Catalog) -> list[SourceSummary]:
    async with catalog.unit_of_work(read_only=True) as uow:
        return [
            SourceSummary(s, len(await uow.collections.all(s.uuid)))
            for s in await uow.sources.all()
        ]


@dataclass(slots=True)
class SourceDetail:
    source: Source
    collections: list[Collection]
    asset_counts: dict[str, int]  # live assets by collection UUID


async def show_source(catalog: Catalog, selector: str) -> SourceDetail:
    async with catalog.unit_of_work(read_only=True) as uow:
        source = await resolve_source(uow, selector)
        collections = await uow.collections.all(source.uuid)
        counts = await uow.collections.asset_counts()
    return SourceDetail(source, collections, counts)


@dataclass(slots=True)
class SourceWithCollections:
    source: Source
    collections: list[Collection]


async def source_for_ingest(catalog: Catalog, selector: str) -> SourceWithCollections:
    """The source a source ingest is about, with all its collections (B-1)."""
    async with catalog.unit_of_work(read_only=True) as uow:
        source = await resolve_source(uow, selector)
        collections = await uow.collections.all(source.uuid)
    return SourceWithCollections(source, collections)


# --- collections ---------------------------------------------------------------------------
@dataclass(slots=True)
class CollectionSummary:
    collection: Collection
    assets: int  # live


async def list_collections(
    catalog: Catalog, source_selector: str | None = None
) -> list[CollectionSummary]:
    async with catalog.unit_of_work(read_only=True) as uow:
        source_uuid = None
        if source_selector is not None:
            source_uuid = (await resolve_source(uow, source_selector)).uuid
        collections = await uow.collections.all(source_uuid)
        counts = await uow.collections.asset_counts()
    return [CollectionSummary(c, counts.get(c.uuid, 0)) for c in collections]


async def find_collection(catalog: Catalog, selector: str) -> Collection:
    async with catalog.unit_of_work(read_only=True) as uow:
        return await resolve_collection(uow, selector)


@dataclass(slots=True)
class IngestTarget:
    collection: Collection
    source: Source


async def collection_for_ingest(catalog: Catalog, selector: str) -> IngestTarget:
    """The collection a collection ingest is about, and its source (B-1)."""
    async with catalog.unit_of_work(read_only=True) as uow:
        collection = await resolve_collection(uow, selector)
        source = await uow.sources.get(collection.source_uuid)
    assert source is not None  # the schema cascades a source's removal to its collections
    return IngestTarget(collection, source)


@dataclass(slots=True)
class CollectionDetail:
    collection: Collection
    source: Source | None
    assets_live: int
    assets_total: int
    duplicates: int
    recent_runs: list[IngestRun]
    # Checked now, not the stored flag; None when the source is gone.
    ingestible_now: Ingestibility | None
    # Whether its assets can ever be ready (None: the installed enrichers were not given).
    readiness: Readiness | None = None
    jobs: dict[str, int] = field(default_factory=dict)  # by status


async def show_collection(
    catalog: Catalog,
    selector: str,
    importer_for: ImporterFor,
    *,
    enrichers: Mapping[str, Enricher] | None = None,
) -> CollectionDetail:
    async with catalog.unit_of_work(read_only=True) as uow:
        collection = await resolve_collection(uow, selector)
        source = await uow.sources.get(collection.source_uuid)
        live = await uow.assets.count(collection.uuid, live_only=True)
        total = await uow.assets.count(collection.uuid)
        duplicates = await uow.assets.count_duplicate_candidates(collection.uuid)
        runs = await uow.runs.recent(collection_uuid=collection.uuid, limit=RECENT_RUNS)
        jobs = await uow.jobs.counts(collection.uuid)
    check = None
    if source is not None:
        try:
            check = importer_of(importer_for, source).validate_ingestible(collection)
        except (LookupError, TypeError) as exc:  # no importer for the type, or not compliant
            check = Ingestibility(ok=False, reason=str(exc))
    ready = (
        readiness(collection, {i: e.kind for i, e in enrichers.items()})
        if enrichers is not None
        else None
    )
    return CollectionDetail(collection, source, live, total, duplicates, runs, check, ready, jobs)


# --- assets --------------------------------------------------------------------------------
@dataclass(slots=True)
class AssetPage:
    assets: list[Asset]
    truncated: bool  # there are more than `limit`


@dataclass(frozen=True, slots=True)
class AssetFilter:
    """What `asset list` narrows to; the store applies it in SQL on the promoted columns."""

    state: str | None = None
    qc_failed: bool = False  # the last QC failed (on any rule)
    qc_rule: str | None = None  # the last QC failed on this rule
    video_codec: str | None = None
    min_height: int | None = None


async def list_assets(
    catalog: Catalog,
    *,
    collection_selector: str | None,
    state: str | None = None,
    include_deleted: bool,
    limit: int,
    where: AssetFilter | None = None,
) -> AssetPage:
    where = where or AssetFilter(state=state)
    async with catalog.unit_of_work(read_only=True) as uow:
        collection_uuid = None
        if collection_selector is not None:
            collection_uuid = (await resolve_collection(uow, collection_selector)).uuid
        found = await uow.assets.list_assets(
            collection_uuid=collection_uuid,
            state=where.state,
            include_deleted=include_deleted,
            limit=limit + 1,
            qc_failed=where.qc_failed,
            qc_rule=where.qc_rule,
            video_codec=where.video_codec,
            min_height=where.min_height,
        )
    return AssetPage(found[:limit], truncated=len(found) > limit)


@dataclass(frozen=True, slots=True)
class EnricherOutcome:
    """An enricher's latest result for an asset."""

    enricher_id: str
    version: str
    kind: str
    ok: bool
    reason: str | None
    tool: str | None
    tool_version: str | None
    time: datetime | None


@dataclass(slots=True)
class AssetDetail:
    asset: Asset
    collection_name: str | None
    history: list[HistoryEntry]
    enrichment: EnrichmentSnapshot = field(default_factory=EnrichmentSnapshot)
    enrichers: list[EnricherOutcome] = field(default_factory=list)
    last_decision: Approval | None = None  # the trail's latest row


def latest_outcomes(results: list[dict[str, Any]]) -> list[EnricherOutcome]:
    """The last row per enricher, in the order the enrichers first ran."""
    latest: dict[str, dict[str, Any]] = {}
    for row in results:  # oldest first
        latest[row["enricher_id"]] = row
    return [
        EnricherOutcome(
            enricher_id=row["enricher_id"],
            version=row["enricher_version"],
            kind=row["kind"],
            ok=bool(row["ok"]),
            reason=row.get("reason"),
            tool=row.get("tool"),
            tool_version=row.get("tool_version"),
            time=row.get("time"),
        )
        for row in latest.values()
    ]


async def show_asset(catalog: Catalog, asset_id: str) -> AssetDetail:
    """An asset by UUID or unique UUID prefix, with its decision history."""
    async with catalog.unit_of_work(read_only=True) as uow:
        asset = await uow.assets.get_by_uuid(asset_id)
        if asset is None:
            matches = await uow.assets.find_by_uuid_prefix(asset_id)
            if len(matches) > 1:
                raise OperationError("ambiguous_id", prefix=asset_id)
            asset = matches[0] if matches else None
        if asset is None:
            raise OperationError("asset_not_found", asset_id=asset_id)
        history = await uow.history.for_asset(asset.uuid)
        collection = await uow.collections.get(asset.collection_uuid)
        snapshot = (await uow.approvals.snapshots([asset.uuid])).get(asset.uuid)
        outcomes = latest_outcomes(await uow.results.enrichment_for(asset.uuid))
        trail = await uow.approvals.for_asset(asset.uuid)
    return AssetDetail(
        asset,
        collection.name if collection else None,
        history,
        enrichment=snapshot or EnrichmentSnapshot(),
        enrichers=outcomes,
        last_decision=trail[-1] if trail else None,
    )


@dataclass(slots=True)
class DuplicateReport:
    collection: Collection | None  # None: the whole catalog
    groups: dict[str, list[Asset]]  # live assets by shared SHA-256
    everywhere: bool = False  # copies in other collections count too
    collection_names: dict[str, str] = field(default_factory=dict)  # uuid -> name

    @property
    def duplicates(self) -> int:
        return sum(len(g) for g in self.groups.values())


async def duplicates(
    catalog: Catalog, selector: str | None, *, everywhere: bool = False
) -> DuplicateReport:
    """Duplicate candidates of one collection, or with `everywhere` across every collection
    (the same film in Movies and in Kids is one content twice): all of them, or those a named
    collection holds a copy of."""
    if selector is None and not everywhere:
        raise OperationError("invalid_argument", case="duplicates_scope")
    async with catalog.unit_of_work(read_only=True) as uow:
        collection = await resolve_collection(uow, selector) if selector is not None else None
        if not everywhere:
            assert collection is not None
            groups = await uow.assets.duplicate_groups(collection.uuid)
            return DuplicateReport(collection, groups)
        groups = await uow.assets.duplicate_groups_everywhere(
            collection.uuid if collection is not None else None
        )
        names = {c.uuid: c.name for c in await uow.collections.all()}
    for members in groups.values():  # by collection name, then key: the order a reader expects
        members.sort(key=lambda a: (names.get(a.collection_uuid, "").lower(), a.canonical_key))
    return DuplicateReport(collection, groups, everywhere=True, collection_names=names)


# --- ingest runs ---------------------------------------------------------------------------
@dataclass(slots=True)
class RunRow:
    run: IngestRun
    collection: str | None  # its name, when the run was for one collection


@dataclass(slots=True)
class RunDetail:
    row: RunRow
    logs: list[dict[str, Any]]


async def recent_runs(catalog: Catalog, *, limit: int = 200) -> list[RunRow]:
    """The latest ingest runs, newest first, with their collections' names."""
    async with catalog.unit_of_work(read_only=True, label="recent runs") as uow:
        found = await uow.runs.recent(limit=limit)
        names = {c.uuid: c.name for c in await uow.collections.all()}
    return [RunRow(r, names.get(r.collection_uuid or "")) for r in found]


async def show_run(catalog: Catalog, run_id: str) -> RunDetail | None:
    """One ingest run and its log lines, or None when there is no such run."""
    async with catalog.unit_of_work(read_only=True, label="show run") as uow:
        found = await uow.runs.get(run_id)
        if found is None:
            return None
        logs = await uow.runs.logs(run_id)
        collection = (
            await uow.collections.get(found.collection_uuid) if found.collection_uuid else None
        )
    return RunDetail(RunRow(found, collection.name if collection else None), logs)
