"""The enrichment worker's Prometheus metrics: what it measures around the service layer, so
the enrichment use case itself stays free of them.

- every enricher call is timed (`Timed` wraps the registry's enrichers);
- every finished job is counted by outcome, and its failed QC rules by rule (`count_outcome`);
- the number of pending jobs is sampled from the catalog (`sample_pending`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from consumer import metrics
from consumer.domain.enrichment import Availability, Enricher, EnrichmentInput, EnrichmentResult
from consumer.domain.jobs import ENRICH, JobStatus
from consumer.service_layer.enrichment import JobOutcome
from consumer.service_layer.unit_of_work import Catalog
from shared.runtime.log import get_logger

log = get_logger(__name__)

PENDING_SAMPLE_SECONDS = 15.0


class Timed:
    """An enricher whose every run is observed in `apollonia_enrichment_probe_seconds`."""

    def __init__(self, inner: Enricher) -> None:
        self.inner = inner
        self.id = inner.id
        self.version = inner.version
        self.kind = inner.kind

    def available(self) -> Availability:
        return self.inner.available()

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        started = time.perf_counter()
        try:
            return await self.inner.enrich(item)
        finally:
            metrics.ENRICHER_SECONDS.labels(self.id).observe(time.perf_counter() - started)


def timed(registry: Mapping[str, Enricher]) -> dict[str, Enricher]:
    return {enricher_id: Timed(e) for enricher_id, e in registry.items()}


def rule_of(enricher: str, reason: str) -> str:
    """The rule a failure is about: the service words QC failures `rule: reason`."""
    if enricher == "qc":
        return reason.split(":", 1)[0].strip() or "qc"
    return f"enricher:{enricher}"


def count_outcome(outcome: JobOutcome) -> None:
    metrics.ENRICHMENT_JOBS.labels(ENRICH, outcome.outcome).inc()
    if outcome.outcome in {"failed", "qc_failed"}:
        for failure in outcome.failures:
            metrics.QC_FAILURES.labels(rule_of(failure.enricher, failure.reason)).inc()


async def sample_pending(catalog: Catalog, interval: float = PENDING_SAMPLE_SECONDS) -> None:
    """Set the pending-jobs gauge now and every `interval` seconds, until cancelled."""
    while True:
        try:
            async with catalog.unit_of_work(read_only=True, label="pending jobs") as uow:
                counts = await uow.jobs.counts()
            metrics.ENRICHMENT_PENDING.labels(ENRICH).set(counts.get(JobStatus.PENDING.value, 0))
        except Exception as exc:  # a busy catalog: the next sample tries again
            log.debug("could not sample pending jobs", error=str(exc))
        await asyncio.sleep(interval)
