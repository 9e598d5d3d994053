"""What the enrichment worker measures: enricher time, jobs by outcome, QC failures by rule,
and the pending-jobs gauge sampled from the catalog (the in-memory one here)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client import REGISTRY

from consumer.domain.enrichment import (
    Availability,
    Enriched,
    EnricherKind,
    EnrichmentInput,
    EnrichmentResult,
)
from consumer.domain.jobs import Job, JobStatus
from consumer.entrypoints.enrichment_metrics import (
    Timed,
    count_outcome,
    rule_of,
    sample_pending,
)
from consumer.service_layer.enrichment import Failure, JobOutcome
from tests.unit.fakes import FakeCatalog

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Probe:
    id = "probe-test"
    version = "1"
    kind: EnricherKind = "technical"

    def available(self) -> Availability:
        return Availability(True)

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        return Enriched({"duration": 1.0})


async def test_timed_enrichers_observe_each_run_and_keep_what_they_say() -> None:
    before = value("apollonia_enrichment_probe_seconds_count", enricher="probe-test")
    timed = Timed(Probe())
    assert (timed.id, timed.version, timed.kind, timed.available().ok) == (
        "probe-test",
        "1",
        "technical",
        True,
    )
    result = await timed.enrich(EnrichmentInput("a", "/m/a.mkv", "a.mkv"))
    assert isinstance(result, Enriched) and result.fields == {"duration": 1.0}
    after = value("apollonia_enrichment_probe_seconds_count", enricher="probe-test")
    assert after == before + 1


def test_outcomes_are_counted_and_failed_rules_named() -> None:
    assert rule_of("qc", "tail_decodes: the last 5 s do not decode") == "tail_decodes"
    assert rule_of("ffprobe", "deadline of 30 s") == "enricher:ffprobe"
    ready = value("apollonia_enrichment_jobs_total", stage="enrich", outcome="ready")
    failed = value("apollonia_qc_failures_total", rule="duration_positive")
    count_outcome(JobOutcome("j1", "a1", "a.mkv", "c1", "Films", "ready"))
    count_outcome(
        JobOutcome(
            "j2", "a2", "b.mkv", "c1", "Films", "qc_failed",
            [Failure("qc", "duration_positive: duration is 0")],
        )
    )  # fmt: skip
    assert value("apollonia_enrichment_jobs_total", stage="enrich", outcome="ready") == ready + 1
    assert value("apollonia_qc_failures_total", rule="duration_positive") == failed + 1


async def test_pending_jobs_are_sampled_from_the_catalog() -> None:
    fake = FakeCatalog()
    fake.state.jobs = {
        f"j{i}": Job(f"j{i}", "a", "enrich", status, 1, NOW, "sig", "sum")
        for i, status in enumerate([JobStatus.PENDING, JobStatus.PENDING, JobStatus.COMPLETED])
    }
    task = asyncio.create_task(sample_pending(fake, interval=3600))
    try:
        for _ in range(100):
            await asyncio.sleep(0)
            if value("apollonia_enrichment_jobs_pending", stage="enrich") == 2:
                break
        assert value("apollonia_enrichment_jobs_pending", stage="enrich") == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
