"""The only place that builds things from settings: catalogs, hashers, config objects and
services. Everything below `apollonia/` takes what it needs passed in, so a setting is read in
one place and honoured everywhere (the CLI once ignored `APOLLONIA_DB_BUSY_TIMEOUT_MS`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from apollonia.settings import Settings
from consumer.adapters.db.catalog import CatalogDatabase
from ingestor.config import BrokerConfig, HashConfig, IngestorConfig, PipelineConfig
from ingestor.paths import absolute_root
from ingestor.poll import WatchModeName
from shared.hashing import Hasher

if TYPE_CHECKING:
    from consumer.domain.enrichment import Enricher
    from consumer.entrypoints.amqp_worker import ConsumerService
    from consumer.entrypoints.config import ConsumerConfig
    from consumer.entrypoints.enrichment_worker import EnrichmentWorker
    from consumer.service_layer.collection_ingest import CollectionIngestor, Progress
    from consumer.service_layer.enrichers import KnownEnrichers
    from consumer.service_layer.enrichment import Enrichment, EnrichmentPolicy
    from ingestor.service import IngestorService


def catalog(settings: Settings, *, test_db: bool = False, dry_run: bool = False) -> CatalogDatabase:
    """The catalog database the settings name (not opened yet)."""
    return CatalogDatabase(
        settings.catalog_url(test_db=test_db),
        dry_run=dry_run,
        busy_timeout_ms=settings.db_busy_timeout_ms,
    )


def hasher(settings: Settings, *, workers: int | None = None) -> Hasher:
    return Hasher(
        workers if workers is not None else settings.hash_workers, settings.hash_chunk_size
    )


def hash_config(settings: Settings) -> HashConfig:
    return HashConfig(workers=settings.hash_workers, chunk_size=settings.hash_chunk_size)


def broker_config(settings: Settings) -> BrokerConfig:
    return BrokerConfig(
        amqp_url=settings.amqp_url, topology=settings.topology(), ingestor_id=settings.ingestor_id
    )


def pipeline_config(
    settings: Settings,
    *,
    roots: Sequence[os.PathLike[str] | str] | None = None,
    watch_mode: WatchModeName | None = None,
) -> PipelineConfig:
    chosen = roots if roots is not None else settings.data_directory
    return PipelineConfig(
        roots=tuple(absolute_root(r) for r in chosen),
        ingestor_id=settings.ingestor_id,
        watch_mode=watch_mode or settings.watch_mode,
        settle_seconds=settings.settle_seconds,
        poll_interval=settings.poll_interval,
        reconcile_interval=settings.reconcile_interval,
        prospect_concurrency=settings.hash_workers + 1,
        media_extensions=tuple(settings.media_extensions),
    )


def ingestor_config(
    settings: Settings,
    *,
    roots: Sequence[Path] | None = None,
    watch_mode: WatchModeName | None = None,
    metrics_port: int | None = None,
) -> IngestorConfig:
    return IngestorConfig(
        pipeline=pipeline_config(settings, roots=roots, watch_mode=watch_mode),
        broker=broker_config(settings),
        state_database_url=settings.state_database_url,
        hashing=hash_config(settings),
        publish_window=settings.publish_window,
        metrics_host=settings.metrics_host,
        metrics_port=(
            metrics_port if metrics_port is not None else settings.service_metrics_port("ingestor")
        ),
        shutdown_timeout=settings.shutdown_timeout,
    )


def ingestor_service(
    settings: Settings,
    *,
    roots: Sequence[Path] | None = None,
    metrics_port: int | None = None,
    republish_all: bool = False,
) -> IngestorService:
    from ingestor.service import IngestorService  # noqa: PLC0415 - loads aio-pika

    return IngestorService(
        ingestor_config(settings, roots=roots, metrics_port=metrics_port),
        republish_all=republish_all,
    )


def consumer_config(settings: Settings) -> ConsumerConfig:
    from consumer.entrypoints.config import ConsumerConfig  # noqa: PLC0415

    return ConsumerConfig(
        amqp_url=settings.amqp_url,
        topology=settings.topology(),
        database_url=settings.database_url,
        media_extensions=tuple(settings.media_extensions),
        busy_timeout_ms=settings.db_busy_timeout_ms,
        writer_process=settings.writer_process,
        log_level=settings.log_level,
        log_format=settings.log_format,
        metrics_host=settings.metrics_host,
        metrics_port=settings.service_metrics_port("consumer"),
        batch_size=settings.batch_size,
        batch_ms=settings.batch_ms,
        prefetch=settings.prefetch,
        max_message_bytes=settings.max_message_bytes,
        queue_poll_interval=settings.queue_poll_interval,
        shutdown_timeout=settings.shutdown_timeout,
        move_inference_window_s=settings.move_inference_window_s,
    )


def consumer_service(
    settings: Settings, *, catalog_db: CatalogDatabase | None = None
) -> ConsumerService:
    from consumer.entrypoints.amqp_worker import ConsumerService  # noqa: PLC0415 - aio-pika

    return ConsumerService(consumer_config(settings), catalog=catalog_db)


@asynccontextmanager
async def collection_ingestor(
    settings: Settings, catalog_db: CatalogDatabase, progress: Progress | None = None
) -> AsyncIterator[CollectionIngestor]:
    from consumer.adapters.importers.registry import default_importers  # noqa: PLC0415
    from consumer.service_layer.collection_ingest import CollectionIngestor  # noqa: PLC0415

    hashing = hasher(settings)
    try:
        yield CollectionIngestor(
            catalog_db, default_importers(settings.media_extensions), hashing, progress=progress
        )
    finally:
        hashing.close()


def _discovered(settings: Settings | None) -> tuple[dict[str, Enricher], dict[str, str]]:
    """The installed enrichers by id (entry points of `apollonia.enrichers`), the built-in
    ffprobe configured from the settings; and the plugins that failed to load, with why."""
    from consumer.adapters.enrichers.ffprobe import (  # noqa: PLC0415
        FfprobeEnricher,
        FfprobeOptions,
    )
    from consumer.adapters.enrichers.registry import discover  # noqa: PLC0415

    found, broken = discover()
    if settings is not None and isinstance(found.get("ffprobe"), FfprobeEnricher):
        found["ffprobe"] = FfprobeEnricher(
            FfprobeOptions(
                ffprobe=settings.ffprobe_path,
                ffmpeg=settings.ffmpeg_path,
                deadline=settings.ffprobe_deadline,
            )
        )
    return found, {plugin.id: plugin.reason for plugin in broken}


def enrichers(settings: Settings) -> dict[str, Enricher]:
    """The enrichers a worker runs. A plugin that fails to load is logged, not fatal."""
    from shared.runtime.log import get_logger  # noqa: PLC0415

    found, broken = _discovered(settings)
    for plugin, reason in broken.items():
        get_logger(__name__).warning("enricher plugin not loaded", id=plugin, reason=reason)
    return found


def enricher_registry(settings: Settings | None = None) -> KnownEnrichers:
    """The enrichers installed, and the broken ones (what `enricher list` and the checks of
    `collection add --enricher` see)."""
    from consumer.service_layer.enrichers import KnownEnrichers  # noqa: PLC0415

    return KnownEnrichers(*_discovered(settings))


def enrichment_policy(settings: Settings, *, concurrency: int | None = None) -> EnrichmentPolicy:
    from consumer.domain.catalog import PathMapping  # noqa: PLC0415
    from consumer.service_layer.enrichment import EnrichmentPolicy  # noqa: PLC0415
    from shared.retry import Backoff  # noqa: PLC0415

    return EnrichmentPolicy(
        worker_id=f"{settings.ingestor_id}:{os.getpid()}",
        concurrency=concurrency or settings.enrichment_concurrency,
        lease_seconds=settings.enrichment_lease_seconds,
        max_attempts=settings.enrichment_max_attempts,
        backoff=Backoff(initial=settings.enrichment_retry_seconds, maximum=3600.0),
        unavailable_delay=max(settings.enrichment_poll_interval, 60.0),
        poll_interval=settings.enrichment_poll_interval,
        path_mappings=tuple(PathMapping.parse(m) for m in settings.enricher_path_mappings),
    )


def enrichment(settings: Settings, catalog_db: CatalogDatabase) -> Enrichment:
    from consumer.service_layer.enrichment import Enrichment  # noqa: PLC0415

    return Enrichment(catalog_db, enrichers(settings), enrichment_policy(settings))


def enrichment_worker(
    settings: Settings, catalog_db: CatalogDatabase | None = None
) -> EnrichmentWorker:
    from consumer.entrypoints.enrichment_worker import EnrichmentWorker  # noqa: PLC0415

    return EnrichmentWorker(
        catalog_db or catalog(settings),
        enrichers(settings),
        enrichment_policy(settings),
        shutdown_timeout=settings.shutdown_timeout,
        metrics_host=settings.metrics_host,
        metrics_port=settings.service_metrics_port("enricher"),
    )
