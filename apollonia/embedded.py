"""`apollonia run`: the whole product in one process.

Embedded (the default, no broker):

    folders ─▶ initial collection ingest ─▶ catalog
    folders ─▶ watcher ─▶ settler ─▶ prospector ─▶ CatalogSink ─▶ the one apply path ─▶ catalog

It creates, when absent, a filesystem source `local` and one collection per data folder, ingests
each collection once (new and changed files hashed, missing ones soft-deleted), then applies live
file events straight to the catalog. The ingestor's hash cache is primed from the catalog after
the initial ingest, so nothing the ingest just read is read again.

With `--amqp` it runs the ingestor service and the consumer service side by side over the
configured broker instead (the deployed topology, in one process).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from apollonia import bootstrap
from apollonia.settings import Settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.domain.catalog import Collection, Source
from consumer.domain.errors import OperationError
from consumer.domain.importing import IngestScope
from consumer.domain.keys import key_bytes, normalize_root
from consumer.entrypoints.embedded_sink import Activity, CatalogSink
from consumer.entrypoints.enrichment_worker import EnrichmentWorker, beside
from consumer.service_layer import admin
from consumer.service_layer.collection_ingest import IngestFailure, utcnow
from ingestor.pipeline import Pipeline
from ingestor.records import FileState
from ingestor.state import StateDatabase
from shared.files import unique_folders
from shared.hashing import Hasher
from shared.runtime.log import get_logger
from shared.runtime.signals import stop_on_signals

log = get_logger(__name__)

LOCAL_SOURCE = "local"


async def ensure_collections(
    catalog: CatalogDatabase, roots: Sequence[Path], settings: Settings
) -> tuple[Source, list[Collection]]:
    """The `local` source and a sync-enabled collection per folder (existing ones are kept)."""
    importer = FilesystemImporter(settings.media_extensions)
    now = utcnow()
    async with catalog.unit_of_work(label="embedded setup") as uow:
        found = await uow.sources.find(LOCAL_SOURCE)
        source = (
            found[0]
            if found
            else await admin.add_source(
                uow,
                name=LOCAL_SOURCE,
                source_type="filesystem",
                root_path=None,
                mappings=[],
                external_id=None,
                now=now,
            )
        )
        existing = {c.root_path: c for c in await uow.collections.all()}
        names = {c.name.lower() for c in await uow.collections.all(source.uuid)}
        collections = []
        for root in roots:
            root_path = normalize_root(str(root))  # absolute: resolved by check_roots
            collection = existing.get(root_path)
            if collection is None:
                name = os.path.basename(root_path) or "media"
                candidate, n = name, 2
                while candidate.lower() in names:
                    candidate, n = f"{name} ({n})", n + 1
                names.add(candidate.lower())
                collection = await admin.add_collection(
                    uow,
                    source,
                    importer,
                    name=candidate,
                    root_path=root_path,
                    # The road to `ready`: ffprobe measures, quality control decides.
                    enrichers=list(DEFAULT_ENRICHERS),
                    sync_enabled=True,
                    hash_mode="full",
                    external_id=None,
                    now=now,
                )
                log.info("collection created", collection=collection.name, root=root_path)
            collections.append(collection)
        await uow.commit()
    return source, collections


async def prime_state(
    state: StateDatabase, catalog: CatalogDatabase, collections: Sequence[Collection]
) -> int:
    """Tell the ingestor's hash cache what the catalog already knows (only paths it lacks), so
    the pipeline's startup reconciliation reads none of the files the ingest just hashed."""
    primed = 0
    for collection in collections:
        async with catalog.unit_of_work(read_only=True) as uow:
            assets = [
                a
                for a in await uow.assets.list_assets(
                    collection_uuid=collection.uuid, include_deleted=False
                )
                if a.sha256
            ]
        root = os.fsencode(collection.root_path.rstrip("/"))
        for start in range(0, len(assets), 1000):
            chunk = assets[start : start + 1000]
            # The exact bytes on disk: `path` is display text, the key maps back to one name.
            paths = {a.uuid: root + b"/" + key_bytes(a.canonical_key) for a in chunk}
            known = await state.get_many(list(paths.values()))
            states = [
                FileState(
                    path=paths[a.uuid],
                    device=None,
                    inode=None,
                    size=a.size,
                    mtime_ns=a.mtime_ns,
                    sha256=a.sha256,
                    xxh128=a.xxh128,
                )
                for a in chunk
                if paths[a.uuid] not in known
            ]
            await state.seed(states)
            primed += len(states)
    return primed


DEFAULT_ENRICHERS = ("ffprobe:1",)


class EmbeddedRunner:
    def __init__(self, settings: Settings, roots: Sequence[Path], *, live: bool = True) -> None:
        self.settings = settings
        self.roots = list(roots)
        self.live = live
        self.catalog = bootstrap.catalog(settings)
        self.activity = Activity()
        self.sink = CatalogSink(
            self.catalog,
            settings.media_extensions,
            self.activity,
            move_window=timedelta(seconds=settings.move_inference_window_s),
        )
        self.state = StateDatabase(settings.state_database_url)
        self.hasher: Hasher | None = None
        self.pipeline: Pipeline | None = None
        self.collections: list[Collection] = []
        self._stop = asyncio.Event()
        self.worker: EnrichmentWorker | None = None
        self._worker_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.catalog.open()
        source, self.collections = await ensure_collections(self.catalog, self.roots, self.settings)
        async with bootstrap.collection_ingestor(self.settings, self.catalog) as ingestor:
            for collection in self.collections:
                try:
                    result = await ingestor.ingest(
                        collection, source, IngestScope(), kind="embedded_ingest"
                    )
                except IngestFailure as failure:
                    log.error(
                        "initial ingest failed", collection=collection.name, error=failure.message
                    )
                    continue
                stats = result.stats
                log.info(
                    "initial ingest",
                    collection=collection.name,
                    discovered=stats.assets_discovered,
                    created=stats.assets_ingested,
                    updated=stats.assets_updated,
                    skipped=stats.assets_skipped,
                    missing=stats.assets_missing,
                    errors=stats.errors_total,
                )
                for error in stats.errors:  # each one: a file or folder left as it was
                    log.warning(
                        "initial ingest: item not cataloged",
                        collection=collection.name,
                        path=error["path"],
                        error=error["message"],
                    )
                if stats.errors_total > len(stats.errors):
                    log.warning(
                        "initial ingest: further items not cataloged",
                        collection=collection.name,
                        more=stats.errors_total - len(stats.errors),
                    )
        if not self.live:
            if self.settings.enrichment_worker:
                outcomes = await bootstrap.enrichment(self.settings, self.catalog).work(once=True)
                log.info(
                    "enriched",
                    ready=sum(o.outcome == "ready" for o in outcomes),
                    not_ready=sum(o.outcome != "ready" for o in outcomes),
                )
            return
        if self.settings.enrichment_worker:
            self.worker = bootstrap.enrichment_worker(self.settings, self.catalog)
            self._worker_task = asyncio.create_task(self.worker.run_until_stopped())
        await self.state.open()
        primed = await prime_state(self.state, self.catalog, self.collections)
        if primed:
            log.info("hash cache primed from the catalog", files=primed)
        self.hasher = bootstrap.hasher(self.settings)
        config = bootstrap.pipeline_config(self.settings, roots=self.roots)
        self.pipeline = Pipeline(config, state=self.state, sink=self.sink, hasher=self.hasher)
        await self.pipeline.start()
        log.info("watching", roots=[str(r) for r in self.roots])

    def request_stop(self) -> None:
        self._stop.set()

    async def stop(self) -> None:
        self.sink.stopping.set()
        if self.worker is not None and self._worker_task is not None:
            self.worker.request_stop()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._worker_task, self.settings.shutdown_timeout)
        if self.pipeline is not None:
            await self.pipeline.stop(grace=self.settings.shutdown_timeout)
        if self.hasher is not None:
            await asyncio.to_thread(self.hasher.close)
        with contextlib.suppress(Exception):
            await self.state.close()
        await self.catalog.close()
        log.info("stopped", applied=self.activity.applied)

    async def asset_count(self) -> int:
        async with self.catalog.unit_of_work(read_only=True) as uow:
            return sum((await uow.collections.asset_counts()).values())

    def pending(self) -> int:
        if self.pipeline is None:
            return 0
        return 0 if self.pipeline.is_idle() else 1

    async def run(self, *, status: bool) -> int:
        reporter: asyncio.Task[None] | None = None
        async with stop_on_signals(self.request_stop):
            try:
                await self.start()
                if not self.live:
                    return 0
                if status:
                    reporter = asyncio.create_task(self._status_line())
                await self._stop.wait()
            finally:
                if reporter is not None:
                    reporter.cancel()
                    await asyncio.gather(reporter, return_exceptions=True)
                await self.stop()
        return 0

    async def _status_line(self) -> None:
        from rich.console import Console  # noqa: PLC0415 - only on a terminal
        from rich.live import Live  # noqa: PLC0415

        console = Console(stderr=True)
        with Live(console=console, refresh_per_second=2, transient=True) as live:
            while True:
                assets = await self.asset_count()
                act = self.activity
                when = act.last_at.astimezone().strftime("%H:%M:%S") if act.last_at else "-"
                busy = "busy" if self.pending() else "idle"
                live.update(
                    f"assets {assets}  |  {busy}  |  events applied {act.applied}  |  "
                    f"last {act.last_event or '-'} at {when}"
                )
                await asyncio.sleep(0.5)


async def run_with_broker(settings: Settings, roots: Sequence[Path]) -> int:
    """`apollonia run --amqp`: the ingestor and the consumer services in one process.

    The ingestor starts first and needs no broker: while the broker is away its events wait in
    the outbox, as they do for the standalone ingestor. The consumer then connects (retrying until
    the broker is up) while a stop signal is already heard, and both stop together, so SIGTERM or
    Ctrl-C ends the process within the shutdown timeout whatever state it is in.
    """
    catalog = bootstrap.catalog(settings)
    await catalog.open()
    try:
        await ensure_collections(catalog, roots, settings)
    finally:
        await catalog.close()
    # One HTTP server per process: the consumer's port serves both services' metrics.
    ingestor = bootstrap.ingestor_service(settings, roots=roots, metrics_port=0)
    consumer = bootstrap.consumer_service(settings)
    worker = bootstrap.enrichment_worker(settings) if settings.enrichment_worker else None
    stop = asyncio.Event()

    def request_stop() -> None:
        stop.set()
        ingestor.request_stop()
        consumer.request_stop()  # also ends its connect-until-up loop

    async def services() -> int:
        async with stop_on_signals(request_stop):
            try:
                await ingestor.start()
                if not stop.is_set():
                    await consumer.start()
                await stop.wait()
            finally:
                # Together: each has the whole shutdown timeout, so the process needs no more.
                stopped = await asyncio.gather(
                    ingestor.stop(), consumer.stop(), return_exceptions=True
                )
                for failure in stopped:
                    if isinstance(failure, BaseException):
                        raise failure
        return 0

    return await beside(worker, asyncio.ensure_future(services()))


def check_roots(roots: Sequence[Path]) -> list[Path]:
    """The data folders, resolved and each once; one inside another is refused (its files would
    be cataloged twice, in two collections)."""
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing:
        raise OperationError("data_directory_missing", folders=missing)
    unique = unique_folders(roots)
    for inner in unique:
        for outer in unique:
            if inner != outer and inner.is_relative_to(outer):
                raise OperationError(
                    "overlapping_root", case="data_folders", inner=str(inner), outer=str(outer)
                )
    return unique
