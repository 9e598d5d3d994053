"""What operators do with enrichment: run pending jobs once, look at jobs, retry failed ones.

The CLI calls these (one function per command); the worker itself lives in
`consumer.service_layer.enrichment`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from consumer.domain.assets import Asset
from consumer.domain.catalog import Collection
from consumer.domain.errors import OperationError
from consumer.domain.jobs import Job, JobLog, queue_for
from consumer.service_layer.admin import resolve_collection
from consumer.service_layer.enrichment import Enrichment, JobOutcome, Scope
from consumer.service_layer.unit_of_work import Catalog, UnitOfWork


@dataclass(slots=True)
class CollectionTally:
    collection: str
    enriched: int = 0
    failed: int = 0
    other: int = 0  # discarded, waiting, lost
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "enriched": self.enriched,
            "failed": self.failed,
            "other": self.other,
            "failures": self.failures,
        }


def tally(outcomes: list[JobOutcome]) -> list[CollectionTally]:
    """Per collection: enriched (ready), failed (not ready, with each failure: asset, key,
    enricher, reason), and the rest (discarded, waiting for an enricher, lost)."""
    by_collection: dict[str, CollectionTally] = {}
    for outcome in outcomes:
        row = by_collection.setdefault(outcome.collection, CollectionTally(outcome.collection))
        if outcome.outcome == "ready":
            row.enriched += 1
        elif outcome.outcome in ("failed", "qc_failed"):
            row.failed += 1
            row.failures += [
                {
                    "asset_id": outcome.asset_uuid,
                    "canonical_key": outcome.canonical_key,
                    "enricher": f.enricher,
                    "reason": f.reason,
                }
                for f in outcome.failures
            ]
        else:
            row.other += 1
    return sorted(by_collection.values(), key=lambda t: t.collection.lower())


@dataclass(slots=True)
class EnrichRun:
    dry_run: bool
    outcomes: list[JobOutcome] = field(default_factory=list)
    would_run: list[Job] = field(default_factory=list)
    retried: list[Job] = field(default_factory=list)

    @property
    def collections(self) -> list[CollectionTally]:
        return tally(self.outcomes)


async def _asset(uow: UnitOfWork, selector: str) -> Asset:
    asset = await uow.assets.get_by_uuid(selector)
    if asset is not None:
        return asset
    found = await uow.assets.find_by_uuid_prefix(selector)
    if not found:
        raise OperationError("asset_not_found", asset_id=selector)
    if len(found) > 1:
        raise OperationError("ambiguous_id", prefix=selector)
    return found[0]


async def _scope(uow: UnitOfWork, collection_sel: str | None, asset_sel: str | None) -> Scope:
    collection: Collection | None = None
    if collection_sel is not None:
        collection = await resolve_collection(uow, collection_sel)
    asset = await _asset(uow, asset_sel) if asset_sel is not None else None
    return Scope(
        manual=True,
        collection_uuid=collection.uuid if collection else None,
        asset_uuid=asset.uuid if asset else None,
    )


async def enrich_pending(
    catalog: Catalog,
    enrichment: Enrichment,
    *,
    collection_sel: str | None = None,
    asset_sel: str | None = None,
    retry_failed: bool = False,
    dry_run: bool = False,
    now: datetime,
    on_outcome: Callable[[JobOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> EnrichRun:
    """`apollonia enrich`: run the due jobs once, including collections whose automatic
    enrichment is off (that is how an operator starts them)."""
    run = EnrichRun(dry_run)
    async with catalog.unit_of_work(read_only=True, label="enrich scope") as uow:
        scope = await _scope(uow, collection_sel, asset_sel)
        if dry_run:
            run.would_run = await uow.jobs.claimable(
                now=now,
                manual=True,
                collection_uuid=scope.collection_uuid,
                asset_uuid=scope.asset_uuid,
            )
            if retry_failed:
                run.retried = await uow.jobs.waiting_for_operator(
                    collection_uuid=scope.collection_uuid, asset_uuid=scope.asset_uuid
                )
            return run
    if retry_failed:
        run.retried = await _retry(
            catalog, collection_uuid=scope.collection_uuid, asset_uuid=scope.asset_uuid, now=now
        )
    if on_start is not None:
        async with catalog.unit_of_work(read_only=True, label="enrich count") as uow:
            due = await uow.jobs.claimable(
                now=now,
                manual=True,
                collection_uuid=scope.collection_uuid,
                asset_uuid=scope.asset_uuid,
            )
        on_start(len(due))
    run.outcomes = await enrichment.work(scope, once=True, on_outcome=on_outcome)
    return run


async def enrich_collections(
    catalog: Catalog, enrichment: Enrichment, collection_uuids: list[str]
) -> list[CollectionTally]:
    """`collection ingest --enrich` / `source ingest --enrich`: run what the ingest queued for
    these collections (automatic enrichment on or off), and tally it per collection."""
    outcomes: list[JobOutcome] = []
    for collection_uuid in collection_uuids:
        outcomes += await enrichment.work(
            Scope(manual=True, collection_uuid=collection_uuid), once=True
        )
    return tally(outcomes)


async def _retry(
    catalog: Catalog,
    *,
    now: datetime,
    job_uuid: str | None = None,
    collection_uuid: str | None = None,
    asset_uuid: str | None = None,
) -> list[Job]:
    async with catalog.unit_of_work(label="job retry") as uow:
        waiting = await uow.jobs.waiting_for_operator(
            collection_uuid=collection_uuid, asset_uuid=asset_uuid
        )
        if job_uuid is not None:
            waiting = [j for j in waiting if j.uuid == job_uuid]
        assets = await uow.assets.get_many_by_uuid(j.asset_uuid for j in waiting)
        fresh = [
            queue_for(assets[j.asset_uuid], now, attempt=j.attempt + 1)
            for j in waiting
            if j.asset_uuid in assets and not assets[j.asset_uuid].is_deleted
        ]
        await uow.jobs.add_many(fresh)
        for job in fresh:
            await uow.jobs.log(job.uuid, "info", "queued by an operator (job retry)", now)
        await uow.commit()
    return fresh


async def resolve_job(uow: UnitOfWork, selector: str) -> Job:
    job = await uow.jobs.get(selector)
    if job is not None:
        return job
    found = await uow.jobs.find_by_uuid_prefix(selector)
    if not found:
        raise OperationError("job_not_found", job_id=selector)
    if len(found) > 1:
        raise OperationError("ambiguous_job_id", prefix=selector)
    return found[0]


async def retry_jobs(
    catalog: Catalog,
    *,
    job_sel: str | None = None,
    collection_sel: str | None = None,
    all_failed: bool = False,
    now: datetime,
) -> list[Job]:
    """`apollonia job retry`: a new attempt for failed jobs that wait for an operator."""
    if sum(x is not None and x is not False for x in (job_sel, collection_sel, all_failed)) != 1:
        raise OperationError("invalid_argument", case="job_retry_target")
    job_uuid = collection_uuid = None
    async with catalog.unit_of_work(read_only=True, label="job retry scope") as uow:
        if job_sel is not None:
            job = await resolve_job(uow, job_sel)
            if job.status.value != "failed":
                raise OperationError("job_not_failed", job_id=job.uuid, status=job.status.value)
            job_uuid = job.uuid
        elif collection_sel is not None:
            collection_uuid = (await resolve_collection(uow, collection_sel)).uuid
    retried = await _retry(catalog, now=now, job_uuid=job_uuid, collection_uuid=collection_uuid)
    if job_uuid is not None and not retried:
        raise OperationError("job_already_followed", job_id=job_uuid)
    return retried


@dataclass(slots=True)
class JobRow:
    job: Job
    canonical_key: str | None
    collection: str | None


async def list_jobs(
    catalog: Catalog, *, status: str | None = None, limit: int | None = None
) -> list[JobRow]:
    async with catalog.unit_of_work(read_only=True, label="job list") as uow:
        found = await uow.jobs.list_jobs(status=status, limit=limit)
        assets = await uow.assets.get_many_by_uuid(j.asset_uuid for j in found)
        names = {c.uuid: c.name for c in await uow.collections.all()}
    rows = []
    for job in found:
        asset = assets.get(job.asset_uuid)
        rows.append(
            JobRow(
                job,
                asset.canonical_key if asset else None,
                names.get(asset.collection_uuid) if asset else None,
            )
        )
    return rows


@dataclass(slots=True)
class JobDetail:
    row: JobRow
    logs: list[JobLog]


async def show_job(catalog: Catalog, selector: str) -> JobDetail:
    async with catalog.unit_of_work(read_only=True, label="job show") as uow:
        job = await resolve_job(uow, selector)
        asset = await uow.assets.get_by_uuid(job.asset_uuid)
        collection = await uow.collections.get(asset.collection_uuid) if asset else None
        logs = await uow.jobs.logs(job.uuid)
    return JobDetail(
        JobRow(
            job, asset.canonical_key if asset else None, collection.name if collection else None
        ),
        logs,
    )
