"""What the terminal UI does, each a call of the same service-layer function the CLI command
calls (no SQL here). Every function takes the catalog first, so `Backend.call` runs it on the
database thread; results are plain objects the screens render."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from apollonia import bootstrap
from apollonia.settings import Settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.registry import default_importers
from consumer.domain.catalog import Collection, Source
from consumer.domain.importing import IngestScope
from consumer.domain.jobs import Job
from consumer.domain.media_items import MediaItem
from consumer.service_layer import admin, approval, enrichment_ops, queries
from consumer.service_layer import media as media_items
from consumer.service_layer.collection_ingest import CollectionIngestResult


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- review and approval -----------------------------------------------------------------
async def review(catalog: CatalogDatabase) -> list[approval.ReviewItem]:
    return await approval.review_queue(catalog)


async def approve(
    catalog: CatalogDatabase, asset_ids: Sequence[str], *, by: str, note: str | None
) -> approval.Decisions:
    return await approval.approve(catalog, by=by, asset_ids=asset_ids, note=note or None)


async def revoke(
    catalog: CatalogDatabase, asset_ids: Sequence[str], *, by: str, note: str
) -> approval.Decisions:
    return await approval.revoke(catalog, by=by, note=note, asset_ids=asset_ids)


# --- jobs --------------------------------------------------------------------------------
JOB_LIMIT = 500


async def jobs(catalog: CatalogDatabase, status: str | None = None) -> list[enrichment_ops.JobRow]:
    return await enrichment_ops.list_jobs(catalog, status=status, limit=JOB_LIMIT)


async def job(catalog: CatalogDatabase, job_id: str) -> enrichment_ops.JobDetail:
    return await enrichment_ops.show_job(catalog, job_id)


async def retry_job(catalog: CatalogDatabase, job_id: str) -> list[Job]:
    return await enrichment_ops.retry_jobs(catalog, job_sel=job_id, now=utcnow())


async def enrich(
    catalog: CatalogDatabase,
    settings: Settings,
    *,
    collection: str | None = None,
    asset: str | None = None,
) -> enrichment_ops.EnrichRun:
    """`apollonia enrich --retry-failed` for a collection or one asset."""
    return await enrichment_ops.enrich_pending(
        catalog,
        bootstrap.enrichment(settings, catalog),
        collection_sel=collection,
        asset_sel=asset,
        retry_failed=True,
        now=utcnow(),
    )


async def enrich_assets(
    catalog: CatalogDatabase, settings: Settings, asset_ids: Sequence[str]
) -> enrichment_ops.EnrichRun:
    """An item's enrichment: `apollonia enrich --asset ID --retry-failed` for each of its
    assets, as one report."""
    worker = bootstrap.enrichment(settings, catalog)
    total = enrichment_ops.EnrichRun(dry_run=False)
    for asset_id in asset_ids:
        done = await enrichment_ops.enrich_pending(
            catalog, worker, asset_sel=asset_id, retry_failed=True, now=utcnow()
        )
        total.outcomes += done.outcomes
        total.retried += done.retried
    return total


# --- media items -------------------------------------------------------------------------
async def media(
    catalog: CatalogDatabase, *, active_only: bool = True, recent: timedelta | None = None
) -> list[media_items.MediaSummary]:
    """`apollonia media list [--all]`; `recent` overrides how long a change keeps an item
    active."""
    if recent is None:
        return await media_items.list_media(catalog, active_only=active_only)
    return await media_items.list_media(catalog, active_only=active_only, recent=recent)


async def media_item(catalog: CatalogDatabase, item_id: str) -> media_items.MediaDetail:
    return await media_items.show_media(catalog, item_id)


async def create_media(
    catalog: CatalogDatabase,
    *,
    collection: str,
    media_type: str,
    name: str,
    year: int | None,
    season: int | None,
) -> MediaItem:
    """`apollonia media add`."""
    return await media_items.add_media(
        catalog, collection=collection, media_type=media_type, name=name, year=year, season=season
    )


# --- ingest ------------------------------------------------------------------------------
async def ingest_collection(
    catalog: CatalogDatabase, settings: Settings, collection: str
) -> CollectionIngestResult:
    """`apollonia collection ingest COLLECTION`."""
    found = await queries.collection_for_ingest(catalog, collection)
    async with bootstrap.collection_ingestor(settings, catalog) as ingestor:
        return await ingestor.ingest(found.collection, found.source, IngestScope())


RunRow = queries.RunRow
RunDetail = queries.RunDetail
RUN_LIMIT = 200


async def runs(catalog: CatalogDatabase) -> list[RunRow]:
    """The latest ingest runs, newest first."""
    return await queries.recent_runs(catalog, limit=RUN_LIMIT)


async def run(catalog: CatalogDatabase, run_id: str) -> RunDetail | None:
    return await queries.show_run(catalog, run_id)


# --- create ------------------------------------------------------------------------------
async def sources(catalog: CatalogDatabase) -> list[queries.SourceSummary]:
    return await queries.list_sources(catalog)


async def collections(catalog: CatalogDatabase) -> list[queries.CollectionSummary]:
    return await queries.list_collections(catalog)


async def create_source(
    catalog: CatalogDatabase, *, name: str, path: str, external_id: str | None = None
) -> Source:
    """`apollonia source add --type filesystem --name NAME --path DIR`."""
    return await admin.create_source(
        catalog,
        name=name,
        source_type="filesystem",
        root_path=path or None,
        mappings=[],
        external_id=external_id or None,
        now=utcnow(),
    )


async def create_collection(
    catalog: CatalogDatabase,
    settings: Settings,
    *,
    source: str,
    name: str,
    path: str,
    enrichers: Sequence[str] = (),
    media_type: str | None = None,
) -> Collection:
    """`apollonia collection add --source SOURCE --name NAME --path DIR [--enricher ID:N]`."""
    return await admin.create_collection(
        catalog,
        source,
        default_importers(settings.media_extensions),
        name=name,
        root_path=path,
        enrichers=enrichers,
        sync_enabled=True,
        hash_mode="full",
        external_id=None,
        now=utcnow(),
        known_enrichers=bootstrap.enricher_registry(),
        options=admin.EnrichmentOptions(media_type=media_type or None),
    )
