"""The enrichment worker: claim, run, write, until told to stop.

Runs alone (`apollonia enricher`, the compose service `enricher`) or beside the apply path
(`apollonia run`, `apollonia consumer`). On SIGTERM it stops claiming, kills the tools of the
jobs in flight and hands those jobs back to `pending`, within the shutdown timeout.
"""

from __future__ import annotations

import asyncio
import contextlib

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.entrypoints.enrichment_metrics import count_outcome, sample_pending, timed
from consumer.service_layer.enrichment import Enrichment, EnrichmentPolicy, Registry, Scope
from shared.runtime.health import HealthServer
from shared.runtime.log import get_logger
from shared.runtime.masking import mask_url
from shared.runtime.signals import stop_on_signals

log = get_logger(__name__)


class EnrichmentWorker:
    def __init__(
        self,
        catalog: CatalogDatabase,
        registry: Registry,
        policy: EnrichmentPolicy,
        *,
        shutdown_timeout: float = 10.0,
        scope: Scope | None = None,
        metrics_host: str = "0.0.0.0",
        metrics_port: int = 0,
    ) -> None:
        self.catalog = catalog
        self.enrichment = Enrichment(catalog, timed(registry), policy)
        self.policy = policy
        self.shutdown_timeout = shutdown_timeout
        self.scope = scope or Scope()
        self.stop_requested = asyncio.Event()
        # Alone (`run()`), the worker serves /healthz, /readyz and /metrics itself; beside the
        # apply path, the consumer's server already does.
        self.metrics_host = metrics_host
        self.metrics_port = metrics_port

    def request_stop(self) -> None:
        if not self.stop_requested.is_set():
            log.info("enrichment worker: stop requested")
        self.stop_requested.set()

    async def run_until_stopped(self) -> None:
        """Work until `request_stop()`; the catalog must be open."""
        unavailable = {
            enricher_id: enricher.available().reason
            for enricher_id, enricher in self.enrichment.registry.items()
            if not enricher.available().ok
        }
        log.info(
            "enrichment worker starting",
            worker=self.policy.worker_id,
            concurrency=self.policy.concurrency,
            catalog=mask_url(self.catalog.url),
            enrichers=sorted(self.enrichment.registry),
            unavailable=unavailable or None,
            path_mappings=[f"{m.from_prefix}={m.to_prefix}" for m in self.policy.path_mappings]
            or None,
        )
        work = asyncio.create_task(
            self.enrichment.work(self.scope, stop=self.stop_requested, on_outcome=count_outcome)
        )
        sampler = asyncio.create_task(sample_pending(self.catalog))
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            self.stop_requested.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(work, self.shutdown_timeout)
            raise
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
        log.info("enrichment worker stopped")

    async def stop(self) -> None:
        self.request_stop()

    async def run(self) -> int:
        """The worker as a service of its own: opens the catalog, stops on SIGINT/SIGTERM."""
        async with stop_on_signals(self.request_stop):
            await self.catalog.open()
            health = (
                HealthServer(
                    self.metrics_host,
                    self.metrics_port,
                    service="enricher",
                    ready_checks={"database": self.database_ok},
                )
                if self.metrics_port
                else None
            )
            try:
                if health is not None:
                    try:
                        await health.start()
                    except OSError as exc:
                        # Metrics are secondary: a second worker on one host (its port taken)
                        # still enriches.
                        log.warning("enricher HTTP server not started", error=str(exc))
                        health = None
                await self.run_until_stopped()
            finally:
                if health is not None:
                    await health.stop()
                await self.catalog.close()
        return 0

    async def database_ok(self) -> bool:
        """Readiness: the catalog answers a read."""
        async with self.catalog.unit_of_work(read_only=True, label="readiness") as uow:
            await uow.jobs.counts()
        return True


async def beside(worker: EnrichmentWorker | None, main: asyncio.Future[int]) -> int:
    """Run `main` (the apply path) with `worker` beside it; when `main` ends, the worker is
    stopped too (its shutdown bounded by its timeout)."""
    if worker is None:
        return await main
    await worker.catalog.open()
    task = asyncio.create_task(worker.run_until_stopped())
    try:
        return await main
    finally:
        worker.request_stop()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, worker.shutdown_timeout)
        await worker.catalog.close()
