"""Jobs: one per stage attempt on one asset (seed 002's shape), and the pure rules around them.

A job is queued in the transaction that creates or updates its asset, with the content
signature and enricher checksum it was queued for; a worker claims it (status `in_progress`,
a lease), runs it and writes the outcome. A result for content that changed since is discarded.
A failed attempt is followed by a new job (attempt + 1) after a backoff, up to a limit; then it
waits for an operator (`apollonia job retry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from consumer.domain.assets import Asset, new_uuid
from consumer.domain.catalog import Collection
from consumer.domain.enrichment import EnricherKind


class JobStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


ENRICH = "enrich"
STAGES = (ENRICH,)

DISCARDED = "discarded: content changed"
SUPERSEDED = "superseded: the asset changed again before this job ran"


@dataclass(slots=True)
class Job:
    uuid: str
    asset_uuid: str
    stage: str
    status: JobStatus
    attempt: int
    queued_at: datetime
    content_signature: str
    enricher_checksum: str
    worker_id: str | None = None
    pid: int | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    lease_until: datetime | None = None
    next_attempt_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class JobLog:
    job_uuid: str
    time: datetime
    level: str
    message: str


def queue_for(
    asset: Asset, now: datetime, *, attempt: int = 1, not_before: datetime | None = None
) -> Job:
    """The enrich job for `asset` as it is now."""
    return Job(
        uuid=new_uuid(),
        asset_uuid=asset.uuid,
        stage=ENRICH,
        status=JobStatus.PENDING,
        attempt=attempt,
        queued_at=now,
        content_signature=asset.content_signature,
        enricher_checksum=asset.enricher_checksum,
        next_attempt_at=not_before,
    )


def retry_of(job: Job, now: datetime, delay: float) -> Job:
    """The next attempt of a failed job, not to start before `delay` seconds from now."""
    return Job(
        uuid=new_uuid(),
        asset_uuid=job.asset_uuid,
        stage=job.stage,
        status=JobStatus.PENDING,
        attempt=job.attempt + 1,
        queued_at=now,
        content_signature=job.content_signature,
        enricher_checksum=job.enricher_checksum,
        next_attempt_at=now + timedelta(seconds=delay) if delay > 0 else None,
    )


def enriches(collection: Collection) -> bool:
    """Whether assets of `collection` get enrich jobs at all (a collection without enrichers
    queues nothing: there is nothing to run)."""
    return bool(collection.enrichers)


@dataclass(frozen=True, slots=True)
class Readiness:
    can_reach_ready: bool
    why: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"can_reach_ready": self.can_reach_ready, "why": self.why}


def readiness(collection: Collection, kinds: Mapping[str, EnricherKind]) -> Readiness:
    """Whether assets of `collection` can ever become `ready`: quality control needs what a
    technical enricher measured. `kinds` are the known enrichers' kinds by id."""
    if not collection.enrichers:
        return Readiness(False, "no technical enricher (it has no enricher at all)")
    unknown = sorted(e.enricher_id for e in collection.enrichers if e.enricher_id not in kinds)
    if not any(kinds.get(e.enricher_id) == "technical" for e in collection.enrichers):
        why = "no technical enricher"
        if unknown:
            why += f" (unknown: {', '.join(unknown)})"
        return Readiness(False, why)
    return Readiness(True)
