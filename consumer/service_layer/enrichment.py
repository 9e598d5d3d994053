"""Enrichment: claim jobs, run the collection's enrichers and quality control, write the outcome.

    claim (one BEGIN IMMEDIATE transaction: jobs in_progress with a lease, assets new → enriching)
      → run the enrichers in priority order (no transaction held; each sees what earlier ones
        produced), tools killed at their deadline
      → record (one transaction): results, QC, promoted columns, `ready` or back to `new`, the
        job completed or failed (a retry queued with backoff), its log lines, the asset's history

A result computed for content that changed meanwhile is discarded, never applied. An enricher
that cannot run here (ffprobe missing) sends the job back to `pending` with the reason, burning
no attempt. Jobs run in a bounded pool; a heartbeat keeps their leases, and a worker killed
mid-job leaves leases that run out, so another worker (or the same one restarted) takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from consumer.domain.approvals import auto_revocation, revocation_for_qc
from consumer.domain.assets import Asset, set_state
from consumer.domain.catalog import Collection
from consumer.domain.enrichment import (
    Enriched,
    Enricher,
    EnrichmentFailed,
    EnrichmentInput,
    merge_editorial,
)
from consumer.domain.jobs import DISCARDED, Job, JobStatus, retry_of
from consumer.domain.lifecycle import AssetState
from consumer.domain.probe import summary
from consumer.domain.quality import QcReport, TailCheck, check
from consumer.domain.records import HistoryEntry
from consumer.service_layer.media_attach import reattach
from consumer.service_layer.unit_of_work import Catalog, UnitOfWork
from shared.retry import Backoff
from shared.runtime.log import get_logger

log = get_logger(__name__)

Registry = Mapping[str, Enricher]
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EnrichmentPolicy:
    """How a worker works (built from settings by `apollonia.bootstrap`)."""

    worker_id: str
    concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    lease_seconds: float = 300.0
    max_attempts: int = 3
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=30.0, maximum=3600.0))
    unavailable_delay: float = 60.0  # an unavailable enricher is asked again after this
    poll_interval: float = 2.0


@dataclass(frozen=True, slots=True)
class Scope:
    """Which jobs to take. `manual` includes collections with automatic enrichment off (an
    operator's `apollonia enrich`)."""

    manual: bool = False
    collection_uuid: str | None = None
    asset_uuid: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    enricher: str  # an enricher id, or "qc" for a quality-control rule
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"enricher": self.enricher, "reason": self.reason}


@dataclass(slots=True)
class JobOutcome:
    """What became of one job. `outcome`: ready | failed (an enricher failed) | qc_failed |
    discarded (content changed) | waiting (an enricher unavailable) | lost (lease taken over)."""

    job_uuid: str
    asset_uuid: str
    canonical_key: str
    collection_uuid: str
    collection: str
    outcome: str
    failures: list[Failure] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_uuid,
            "asset_id": self.asset_uuid,
            "canonical_key": self.canonical_key,
            "collection": self.collection,
            "outcome": self.outcome,
            "failures": [f.as_dict() for f in self.failures],
        }


@dataclass(slots=True)
class Claimed:
    job: Job
    asset: Asset
    collection: Collection


@dataclass(slots=True)
class Ran:
    """The enrichers' results for one job (in run order), or why they could not run."""

    results: list[tuple[Enricher, Enriched | EnrichmentFailed]] = field(default_factory=list)
    unavailable: str | None = None
    logs: list[tuple[str, str]] = field(default_factory=list)  # (level, message)


def ordered(collection: Collection) -> list[str]:
    """Enricher ids in run order: lower priority first."""
    return [
        e.enricher_id
        for e in sorted(collection.enrichers, key=lambda r: (r.priority, r.enricher_id))
    ]


def technical_of(ran: Ran) -> tuple[dict[str, Any] | None, TailCheck | None]:
    """The first successful technical enricher's fields, and its tail check."""
    for enricher, result in ran.results:
        if enricher.kind == "technical" and isinstance(result, Enriched):
            fields = dict(result.fields)
            tail = fields.pop("tail", None)
            check_ = (
                TailCheck(bool(tail.get("ok")), str(tail.get("detail") or ""))
                if isinstance(tail, dict)
                else None
            )
            return fields, check_
    return None, None


def promoted(technical: dict[str, Any] | None, report: QcReport) -> dict[str, Any]:
    columns = summary(technical) if technical is not None else dict.fromkeys(summary({}))
    if technical is None:
        columns["audio_languages"] = columns["subtitle_languages"] = None
    columns["qc_failed_rules"] = [f.rule for f in report.failures]
    return columns


class Enrichment:
    """The enrichment use case for one worker: claim, run, record, and the pool around them."""

    def __init__(
        self,
        catalog: Catalog,
        registry: Registry,
        policy: EnrichmentPolicy,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.catalog = catalog
        self.registry = registry
        self.policy = policy
        self.clock = clock
        self.pid = os.getpid()
        self._reported_unavailable: set[str] = set()
        self._running: dict[str, asyncio.Task[JobOutcome]] = {}

    # --- claim ------------------------------------------------------------------------------
    async def claim(self, scope: Scope, limit: int) -> list[Claimed]:
        if limit <= 0:
            return []
        now = self.clock()
        claimed: list[Claimed] = []
        async with self.catalog.unit_of_work(label="enrichment claim") as uow:
            jobs = await uow.jobs.claim(
                worker_id=self.policy.worker_id,
                pid=self.pid,
                now=now,
                lease_until=now + timedelta(seconds=self.policy.lease_seconds),
                limit=limit,
                manual=scope.manual,
                collection_uuid=scope.collection_uuid,
                asset_uuid=scope.asset_uuid,
            )
            if not jobs:
                return []
            assets = await uow.assets.get_many_by_uuid(j.asset_uuid for j in jobs)
            collections: dict[str, Collection | None] = {}
            for job in jobs:
                asset = assets[job.asset_uuid]
                if asset.collection_uuid not in collections:
                    collections[asset.collection_uuid] = await uow.collections.get(
                        asset.collection_uuid
                    )
                collection = collections[asset.collection_uuid]
                await uow.jobs.log(
                    job.uuid,
                    "info",
                    f"claimed by {self.policy.worker_id} (pid {self.pid}), attempt {job.attempt}",
                    now,
                )
                if (
                    collection is None
                    or self._stale(job, asset)
                    or asset.state == AssetState.RETIRED
                ):
                    await self._discard(uow, job, asset, now)
                    continue
                if asset.state == AssetState.NEW:
                    set_state(asset, AssetState.ENRICHING, now)
                    await uow.assets.update(asset)
                claimed.append(Claimed(job, asset, collection))
            await uow.commit()
        return claimed

    @staticmethod
    def _stale(job: Job, asset: Asset) -> bool:
        return (
            asset.is_deleted
            or asset.content_signature != job.content_signature
            or asset.enricher_checksum != job.enricher_checksum
        )

    async def _discard(self, uow: UnitOfWork, job: Job, asset: Asset | None, now: datetime) -> None:
        job.status, job.completed_at, job.error, job.lease_until = (
            JobStatus.COMPLETED,
            now,
            DISCARDED,
            None,
        )
        await uow.jobs.update(job)
        await uow.jobs.log(job.uuid, "info", f"{DISCARDED}: the result is not applied", now)
        if asset is not None and asset.state == AssetState.ENRICHING:
            set_state(asset, AssetState.NEW, now)
            await uow.assets.update(asset)

    # --- run ----------------------------------------------------------------------------------
    async def run(self, item: Claimed) -> Ran:
        ran = Ran()
        ids = ordered(item.collection)
        for enricher_id in ids:
            enricher = self.registry.get(enricher_id)
            if enricher is None:
                ran.unavailable = f"enricher {enricher_id!r} is not installed"
                break
            availability = enricher.available()
            if not availability.ok:
                ran.unavailable = f"enricher {enricher_id} unavailable: {availability.reason}"
                break
        if ran.unavailable is not None:
            return ran
        so_far: dict[str, Any] = {}
        for enricher_id in ids:
            enricher = self.registry[enricher_id]
            result = await enricher.enrich(
                EnrichmentInput(
                    asset_uuid=item.asset.uuid,
                    path=item.asset.path,
                    canonical_key=item.asset.canonical_key,
                    neighbors=tuple(item.asset.neighbors),
                    media_type=item.collection.media_type,
                    so_far=dict(so_far),
                )
            )
            ran.results.append((enricher, result))
            if isinstance(result, Enriched):
                so_far[enricher_id] = result.fields
                tool = f" ({result.tool} {result.tool_version})" if result.tool else ""
                ran.logs.append(("info", f"{enricher_id} {enricher.version}: ok{tool}"))
            else:
                ran.logs.append(("warning", f"{enricher_id} {enricher.version}: {result.reason}"))
        return ran

    # --- record -------------------------------------------------------------------------------
    async def record(self, item: Claimed, ran: Ran) -> JobOutcome:
        outcome = JobOutcome(
            item.job.uuid,
            item.asset.uuid,
            item.asset.canonical_key,
            item.collection.uuid,
            item.collection.name,
            "lost",
        )
        async with self.catalog.unit_of_work(label="enrichment result") as uow:
            now = self.clock()
            job = await uow.jobs.get(item.job.uuid)
            if (
                job is None
                or job.status != JobStatus.IN_PROGRESS
                or job.worker_id != self.policy.worker_id
                or job.started_at != item.job.started_at
            ):
                # Our lease ran out and another worker took the job: its result will count.
                log.warning("enrichment job lost its lease", job=item.job.uuid)
                return outcome
            for level, message in ran.logs:
                await uow.jobs.log(job.uuid, level, message, now)
            asset = await uow.assets.get_by_uuid(job.asset_uuid)
            if asset is None or self._stale(job, asset):
                await self._discard(uow, job, asset, now)
                await uow.commit()
                outcome.outcome = "discarded"
                return outcome
            if ran.unavailable is not None:
                await self._wait(uow, job, asset, ran.unavailable, now)
                await uow.commit()
                outcome.outcome = "waiting"
                outcome.failures = [Failure("-", ran.unavailable)]
                return outcome
            collection = await uow.collections.get(asset.collection_uuid) or item.collection
            outcome.failures = await self._apply(uow, job, asset, collection, ran, now)
            await uow.commit()
        if not outcome.failures:
            outcome.outcome = "ready"
        elif any(f.enricher != "qc" for f in outcome.failures):
            outcome.outcome = "failed"
        else:
            outcome.outcome = "qc_failed"
        return outcome

    async def _wait(
        self, uow: UnitOfWork, job: Job, asset: Asset, reason: str, now: datetime
    ) -> None:
        """Back to pending, no attempt burned: the enricher may come back (ffprobe installed)."""
        if reason not in self._reported_unavailable:
            self._reported_unavailable.add(reason)
            log.warning("enrichment waits: an enricher cannot run", reason=reason)
        job.status, job.error = JobStatus.PENDING, reason
        job.worker_id = job.pid = job.started_at = job.lease_until = None
        job.next_attempt_at = now + timedelta(seconds=self.policy.unavailable_delay)
        await uow.jobs.update(job)
        await uow.jobs.log(job.uuid, "warning", f"waiting: {reason}", now)
        if asset.state == AssetState.ENRICHING:
            set_state(asset, AssetState.NEW, now)
            await uow.assets.update(asset)

    async def _apply(
        self,
        uow: UnitOfWork,
        job: Job,
        asset: Asset,
        collection: Collection,
        ran: Ran,
        now: datetime,
    ) -> list[Failure]:
        await uow.results.add_enrichment(
            [
                {
                    "asset_uuid": asset.uuid,
                    "enricher_id": enricher.id,
                    "enricher_version": enricher.version,
                    "kind": enricher.kind,
                    "ok": isinstance(result, Enriched),
                    "fields": result.fields if isinstance(result, Enriched) else {},
                    "reason": result.reason if isinstance(result, EnrichmentFailed) else None,
                    "tool": result.tool if isinstance(result, Enriched) else None,
                    "tool_version": result.tool_version if isinstance(result, Enriched) else None,
                    "content_signature": job.content_signature,
                    "job_uuid": job.uuid,
                    "time": now,
                }
                for enricher, result in ran.results
            ]
        )
        failures = [
            Failure(enricher.id, result.reason)
            for enricher, result in ran.results
            if isinstance(result, EnrichmentFailed)
        ]
        technical, tail = technical_of(ran)
        report = check(technical, tail, audio_only=collection.audio_only)
        # Before the state changes: the database refuses `ready` without this row.
        await uow.results.add_qc(
            {
                "asset_uuid": asset.uuid,
                "job_uuid": job.uuid,
                "passed": report.passed and not failures,
                "failures": [
                    *({"rule": f"enricher:{f.enricher}", "reason": f.reason} for f in failures),
                    *report.as_dict()["failures"],
                ],
                "warnings": report.as_dict()["warnings"],
                "content_signature": job.content_signature,
                "time": now,
            }
        )
        await uow.results.promote(asset.uuid, promoted(technical, report))
        failures += [Failure("qc", f"{f.rule}: {f.reason}") for f in report.failures]
        job.completed_at, job.lease_until = now, None
        if not failures:
            set_state(asset, AssetState.READY, now)
            job.status, job.error = JobStatus.COMPLETED, None
            await uow.jobs.log(job.uuid, "info", "quality control passed: asset ready", now)
            reason = "enriched; quality control passed"
        else:
            words = "; ".join(f"{f.enricher}: {f.reason}" for f in failures)
            await self._auto_revoke(uow, asset, words, now)
            if asset.state in (AssetState.ENRICHING, AssetState.READY):
                set_state(asset, AssetState.NEW, now)
            enricher_failed = any(f.enricher != "qc" for f in failures)
            # An enricher failing may be passing trouble (a deadline, a busy NAS): retried.
            # Quality control failing is a verdict on this content: it stands until it changes.
            job.status = JobStatus.FAILED if enricher_failed else JobStatus.COMPLETED
            job.error = words
            await uow.jobs.log(job.uuid, "warning", f"not ready: {words}", now)
            if enricher_failed:
                await self._retry(uow, job, now)
            reason = f"enrichment: not ready ({words})"
        editorial = merge_editorial(
            [
                (enricher.id, result.fields)
                for enricher, result in ran.results
                if enricher.kind == "editorial" and isinstance(result, Enriched)
            ]
        )
        await reattach(uow, collection, asset, editorial, now)
        await uow.jobs.update(job)
        await uow.assets.update(asset)
        await uow.history.add_many([HistoryEntry(asset.uuid, "enrich", reason, now, None, None)])
        return failures

    @staticmethod
    async def _auto_revoke(uow: UnitOfWork, asset: Asset, words: str, now: datetime) -> None:
        """An approved asset re-enriched that fails: its approval goes, in the trail too."""
        reason = revocation_for_qc(asset.approved_for_broadcast, passed=False)
        if reason is None:
            return
        approved = await uow.approvals.last_approvals([asset.uuid])
        await uow.approvals.add_many(
            [auto_revocation(approved.get(asset.uuid), asset, reason, now, words)]
        )

    async def _retry(self, uow: UnitOfWork, job: Job, now: datetime) -> None:
        if job.attempt >= self.policy.max_attempts:
            await uow.jobs.log(
                job.uuid,
                "warning",
                f"attempt {job.attempt} of {self.policy.max_attempts}: waiting for an operator "
                "(apollonia job retry)",
                now,
            )
            return
        delay = self.policy.backoff.delay(job.attempt)
        follow = retry_of(job, now, delay)
        await uow.jobs.add_many([follow])
        await uow.jobs.log(
            job.uuid, "info", f"attempt {follow.attempt} queued, not before {delay:.0f} s", now
        )

    # --- the pool -----------------------------------------------------------------------------
    async def process(self, item: Claimed) -> JobOutcome:
        ran = await self.run(item)
        return await self.record(item, ran)

    async def _heartbeat(self) -> None:
        interval = max(0.1, self.policy.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            if not self._running:
                continue
            try:
                async with self.catalog.unit_of_work(label="enrichment lease") as uow:
                    await uow.jobs.extend_leases(
                        list(self._running),
                        self.policy.worker_id,
                        self.clock() + timedelta(seconds=self.policy.lease_seconds),
                    )
                    await uow.commit()
            except Exception as exc:  # a busy catalog: the next beat tries again
                log.warning("could not extend enrichment leases", error=str(exc))

    async def work(
        self,
        scope: Scope = Scope(),
        *,
        once: bool = False,
        stop: asyncio.Event | None = None,
        on_outcome: Callable[[JobOutcome], None] | None = None,
    ) -> list[JobOutcome]:
        """Claim and run jobs, at most `concurrency` at a time. `once`: until none is due, then
        return; else until `stop` is set. Stopping cancels what runs (their tools are killed)
        and hands those jobs back."""
        outcomes: list[JobOutcome] = []
        stop = stop or asyncio.Event()
        stopping = asyncio.create_task(stop.wait())
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not stop.is_set():
                free = self.policy.concurrency - len(self._running)
                try:
                    claimed = await self.claim(scope, free)
                except Exception as exc:
                    if once:
                        raise
                    log.warning("could not claim enrichment jobs", error=str(exc))
                    claimed = []
                for item in claimed:
                    self._running[item.job.uuid] = asyncio.create_task(self.process(item))
                if not self._running:
                    if once:
                        break
                    await asyncio.wait({stopping}, timeout=self.policy.poll_interval)
                    continue
                done, _ = await asyncio.wait(
                    {*self._running.values(), stopping},
                    timeout=None if once else self.policy.poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for uuid, task in list(self._running.items()):
                    if task in done:
                        del self._running[uuid]
                        try:
                            result = task.result()
                        except Exception as exc:
                            log.error("enrichment job crashed", job=uuid, error=repr(exc))
                            continue
                        outcomes.append(result)
                        if on_outcome is not None:
                            on_outcome(result)
        finally:
            heartbeat.cancel()
            stopping.cancel()
            await self._abandon()
        return outcomes

    async def _abandon(self) -> None:
        """Cancel running jobs (their tools die with them) and hand them back to pending."""
        if not self._running:
            return
        tasks = list(self._running.values())
        uuids = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        with contextlib.suppress(Exception):
            async with self.catalog.unit_of_work(label="enrichment stop") as uow:
                now = self.clock()
                for uuid in uuids:
                    job = await uow.jobs.get(uuid)
                    if job is None or job.status != JobStatus.IN_PROGRESS:
                        continue
                    if job.worker_id != self.policy.worker_id:
                        continue
                    job.status = JobStatus.PENDING
                    job.worker_id = job.pid = job.started_at = job.lease_until = None
                    await uow.jobs.update(job)
                    await uow.jobs.log(uuid, "info", "worker stopped: handed back", now)
                    asset = await uow.assets.get_by_uuid(job.asset_uuid)
                    if asset is not None and asset.state == AssetState.ENRICHING:
                        set_state(asset, AssetState.NEW, now)
                        await uow.assets.update(asset)
                await uow.commit()
