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

The pool's slots never wait for the database: jobs are claimed ahead of them, several in one
transaction, so a slot that frees starts its next job at once; what finished is recorded beside
the running tools, every job that finished meanwhile in one transaction (`work`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from consumer.domain.approvals import auto_revocation, revocation_for_qc
from consumer.domain.assets import Asset, set_state
from consumer.domain.catalog import Collection, PathMapping, apply_mappings
from consumer.domain.enrichment import (
    Enriched,
    Enricher,
    EnrichmentFailed,
    EnrichmentInput,
    merge_editorial,
)
from consumer.domain.jobs import DISCARDED, Job, JobLog, JobStatus, retry_of
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
    # Where this worker finds the media when it is mounted elsewhere than where the ingestor
    # saw it (a worker on another machine): the longest matching prefix wins.
    path_mappings: tuple[PathMapping, ...] = ()

    def local_path(self, path: str) -> str:
        return apply_mappings(path, list(self.path_mappings)) if self.path_mappings else path


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
    discarded (content changed) | waiting (an enricher unavailable) | requeued (the file moved
    while it was read: run again at its new path) | lost (lease taken over)."""

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
class _Batch:
    """What one result transaction read up front for all its jobs, and the log lines it
    writes at the end (in order, in one statement)."""

    now: datetime
    jobs: dict[str, Job]
    assets: dict[str, Asset]
    collections: dict[str, Collection | None] = field(default_factory=dict)
    lines: list[JobLog] = field(default_factory=list)


@dataclass(slots=True)
class Step:
    """One turn of the pool's database step: the outcomes written, the jobs claimed (of
    `asked`), or why the claim failed."""

    outcomes: list[JobOutcome]
    asked: int = 0
    claimed: list[Claimed] = field(default_factory=list)
    error: Exception | None = None


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
        # Every job this worker holds a lease on, from its claim until its outcome is written:
        # waiting for a slot, running, or finished and waiting to be recorded.
        self._held: dict[str, Claimed] = {}
        self._running: dict[str, asyncio.Task[Ran]] = {}

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
            lines: list[JobLog] = []
            enriching: list[Asset] = []
            for job in jobs:
                asset = assets[job.asset_uuid]
                if asset.collection_uuid not in collections:
                    collections[asset.collection_uuid] = await uow.collections.get(
                        asset.collection_uuid
                    )
                collection = collections[asset.collection_uuid]
                lines.append(
                    JobLog(
                        job.uuid,
                        now,
                        "info",
                        f"claimed by {self.policy.worker_id} (pid {self.pid}), "
                        f"attempt {job.attempt}",
                    )
                )
                if (
                    collection is None
                    or self._stale(job, asset)
                    or asset.state == AssetState.RETIRED
                ):
                    await self._discard(uow, lines, job, asset, now)
                    continue
                if asset.state == AssetState.NEW:
                    set_state(asset, AssetState.ENRICHING, now)
                    enriching.append(asset)
                claimed.append(Claimed(job, asset, collection))
            await uow.assets.update_many(enriching)
            await uow.jobs.log_many(lines)
            await uow.commit()
        return claimed

    @staticmethod
    def _stale(job: Job, asset: Asset) -> bool:
        return (
            asset.is_deleted
            or asset.content_signature != job.content_signature
            or asset.enricher_checksum != job.enricher_checksum
        )

    async def _discard(
        self, uow: UnitOfWork, lines: list[JobLog], job: Job, asset: Asset | None, now: datetime
    ) -> None:
        job.status, job.completed_at, job.error, job.lease_until = (
            JobStatus.COMPLETED,
            now,
            DISCARDED,
            None,
        )
        await uow.jobs.update(job)
        lines.append(JobLog(job.uuid, now, "info", f"{DISCARDED}: the result is not applied"))
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
        path = self.policy.local_path(item.asset.path)
        if path != item.asset.path:
            ran.logs.append(("info", f"path mapped for this worker: {path}"))
        so_far: dict[str, Any] = {}
        for enricher_id in ids:
            enricher = self.registry[enricher_id]
            result = await enricher.enrich(
                EnrichmentInput(
                    asset_uuid=item.asset.uuid,
                    path=path,
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
        (outcome,) = await self.record_many([(item, ran)])
        return outcome

    async def record_many(self, finished: Sequence[tuple[Claimed, Ran]]) -> list[JobOutcome]:
        """What several jobs came to, written in one transaction."""
        async with self.catalog.unit_of_work(label="enrichment result") as uow:
            now = self.clock()
            batch = _Batch(
                now,
                await uow.jobs.get_many([item.job.uuid for item, _ in finished]),
                await uow.assets.get_many_by_uuid(item.asset.uuid for item, _ in finished),
            )
            outcomes = [await self._record(uow, batch, item, ran) for item, ran in finished]
            await uow.jobs.log_many(batch.lines)
            await uow.commit()
        return outcomes

    async def _record(self, uow: UnitOfWork, batch: _Batch, item: Claimed, ran: Ran) -> JobOutcome:
        outcome = JobOutcome(
            item.job.uuid,
            item.asset.uuid,
            item.asset.canonical_key,
            item.collection.uuid,
            item.collection.name,
            "lost",
        )
        now, lines = batch.now, batch.lines
        job = batch.jobs.get(item.job.uuid)
        if (
            job is None
            or job.status != JobStatus.IN_PROGRESS
            or job.worker_id != self.policy.worker_id
            or job.started_at != item.job.started_at
        ):
            # Our lease ran out and another worker took the job: its result will count.
            log.warning("enrichment job lost its lease", job=item.job.uuid)
            return outcome
        lines += (JobLog(job.uuid, now, level, message) for level, message in ran.logs)
        asset = batch.assets.get(job.asset_uuid)
        if asset is None or self._stale(job, asset):
            await self._discard(uow, lines, job, asset, now)
            outcome.outcome = "discarded"
            return outcome
        if ran.unavailable is not None:
            await self._wait(uow, lines, job, asset, ran.unavailable, now)
            outcome.outcome = "waiting"
            outcome.failures = [Failure("-", ran.unavailable)]
            return outcome
        if asset.path != item.asset.path:
            await self._moved_meanwhile(uow, lines, job, asset, item.asset.path, now)
            outcome.outcome = "requeued"
            return outcome
        if asset.collection_uuid not in batch.collections:
            batch.collections[asset.collection_uuid] = await uow.collections.get(
                asset.collection_uuid
            )
        collection = batch.collections[asset.collection_uuid] or item.collection
        outcome.failures = await self._apply(uow, lines, job, asset, collection, ran, now)
        if not outcome.failures:
            outcome.outcome = "ready"
        elif any(f.enricher != "qc" for f in outcome.failures):
            outcome.outcome = "failed"
        else:
            outcome.outcome = "qc_failed"
        return outcome

    async def _wait(
        self,
        uow: UnitOfWork,
        lines: list[JobLog],
        job: Job,
        asset: Asset,
        reason: str,
        now: datetime,
    ) -> None:
        """Back to pending, no attempt burned: the enricher may come back (ffprobe installed)."""
        if reason not in self._reported_unavailable:
            self._reported_unavailable.add(reason)
            log.warning("enrichment waits: an enricher cannot run", reason=reason)
        job.status, job.error = JobStatus.PENDING, reason
        job.worker_id = job.pid = job.started_at = job.lease_until = None
        job.next_attempt_at = now + timedelta(seconds=self.policy.unavailable_delay)
        await uow.jobs.update(job)
        lines.append(JobLog(job.uuid, now, "warning", f"waiting: {reason}"))
        if asset.state == AssetState.ENRICHING:
            set_state(asset, AssetState.NEW, now)
            await uow.assets.update(asset)

    async def _moved_meanwhile(
        self,
        uow: UnitOfWork,
        lines: list[JobLog],
        job: Job,
        asset: Asset,
        read: str,
        now: datetime,
    ) -> None:
        """The file moved while the tools read it (same content, or the job would be stale):
        what they said is about a path that may be gone ("No such file or directory"), so
        nothing is recorded and the job runs again at once at the new path, no attempt burned.
        Without this a move during a probe left the asset with a failed job and, its content
        unchanged, nothing to enrich it again."""
        job.status, job.error = JobStatus.PENDING, None
        job.worker_id = job.pid = job.started_at = job.lease_until = job.next_attempt_at = None
        await uow.jobs.update(job)
        lines.append(
            JobLog(job.uuid, now, "info", f"moved to {asset.path} while {read} was read: again")
        )
        if asset.state == AssetState.ENRICHING:
            set_state(asset, AssetState.NEW, now)
            await uow.assets.update(asset)

    async def _apply(
        self,
        uow: UnitOfWork,
        lines: list[JobLog],
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
        meta = asset.tech_metadata
        reported = meta.get("server_duration")
        report = check(
            technical,
            tail,
            audio_only=collection.audio_only,
            reported_duration=float(reported) if isinstance(reported, int | float) else None,
            unreachable=str(meta["unreachable"]) if meta.get("unreachable") else None,
        )
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
            lines.append(JobLog(job.uuid, now, "info", "quality control passed: asset ready"))
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
            lines.append(JobLog(job.uuid, now, "warning", f"not ready: {words}"))
            if enricher_failed:
                await self._retry(uow, lines, job, now)
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

    async def _retry(self, uow: UnitOfWork, lines: list[JobLog], job: Job, now: datetime) -> None:
        if job.attempt >= self.policy.max_attempts:
            lines.append(
                JobLog(
                    job.uuid,
                    now,
                    "warning",
                    f"attempt {job.attempt} of {self.policy.max_attempts}: waiting for an "
                    "operator (apollonia job retry)",
                )
            )
            return
        delay = self.policy.backoff.delay(job.attempt)
        follow = retry_of(job, now, delay)
        await uow.jobs.add_many([follow])
        queued = f"attempt {follow.attempt} queued, not before {delay:.0f} s"
        lines.append(JobLog(job.uuid, now, "info", queued))

    # --- the pool -----------------------------------------------------------------------------
    async def process(self, item: Claimed) -> JobOutcome:
        ran = await self.run(item)
        return await self.record(item, ran)

    async def _heartbeat(self) -> None:
        interval = max(0.1, self.policy.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            if not self._held:
                continue
            try:
                async with self.catalog.unit_of_work(label="enrichment lease") as uow:
                    await uow.jobs.extend_leases(
                        list(self._held),
                        self.policy.worker_id,
                        self.clock() + timedelta(seconds=self.policy.lease_seconds),
                    )
                    await uow.commit()
            except Exception as exc:  # a busy catalog: the next beat tries again
                log.warning("could not extend enrichment leases", error=str(exc))

    async def _write(self, finished: list[tuple[Claimed, Ran]]) -> list[JobOutcome]:
        """Record finished jobs together; when that fails, each on its own, so one job that
        cannot be written (it is logged, its lease runs out) does not hold back the others."""
        try:
            return await self.record_many(finished)
        except Exception as exc:
            if len(finished) == 1:
                log.error("enrichment job crashed", job=finished[0][0].job.uuid, error=repr(exc))
                return []
        outcomes: list[JobOutcome] = []
        for pair in finished:
            try:
                outcomes += await self.record_many([pair])
            except Exception as exc:
                log.error("enrichment job crashed", job=pair[0].job.uuid, error=repr(exc))
        return outcomes

    async def _step(self, scope: Scope, finished: list[tuple[Claimed, Ran]], want: int) -> Step:
        """One turn of the database: write what finished, then claim up to `want` jobs. A claim
        that fails is returned, not raised: what was written stands."""
        step = Step(await self._write(finished) if finished else [], asked=want)
        for item, _ in finished:
            self._held.pop(item.job.uuid, None)
        if want:
            try:
                step.claimed = await self.claim(scope, want)
            except Exception as exc:
                step.error = exc
            for item in step.claimed:
                self._held[item.job.uuid] = item
        return step

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
        and hands those jobs back, and those claimed ahead.

        Up to `concurrency` jobs wait claimed beside the running ones, so a slot that frees
        starts the next at once; when none waits, one transaction claims enough to fill the
        free slots and the waiting room again. The database does one step at a time beside the
        slots (`_step`): what finished meanwhile, in one transaction, then the claim. A job
        waiting for its slot holds its lease like a running one: the heartbeat renews it, and a
        worker killed leaves it to run out like the others."""
        outcomes: list[JobOutcome] = []
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        slots = self.policy.concurrency
        ahead: deque[Claimed] = deque()
        finished: list[tuple[Claimed, Ran]] = []
        step: asyncio.Task[Step] | None = None
        # When the last claim found fewer jobs than it asked for, if nothing was written since
        # (a write may queue a retry due at once): claim again only after the poll interval,
        # and `once` ends when nothing runs.
        dry_since: float | None = None

        def report(written: list[JobOutcome]) -> None:
            for outcome in written:
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)

        stopping = asyncio.create_task(stop.wait())
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not stop.is_set():
                while ahead and len(self._running) < slots:
                    item = ahead.popleft()
                    self._running[item.job.uuid] = asyncio.create_task(self.run(item))
                if step is None:
                    may_claim = dry_since is None or (
                        not once and loop.time() - dry_since >= self.policy.poll_interval
                    )
                    want = 2 * slots - len(self._running) if may_claim and not ahead else 0
                    if finished or want:
                        step = asyncio.create_task(self._step(scope, finished, want))
                        finished = []
                if step is None and not self._running:
                    if once:  # nothing runs, nothing waits, and nothing more is due
                        break
                    assert dry_since is not None
                    wait = dry_since + self.policy.poll_interval - loop.time()
                    await asyncio.wait({stopping}, timeout=max(0.0, wait))
                    continue
                pending = {*self._running.values(), stopping}
                if step is not None:
                    pending.add(step)
                timeout = None
                if dry_since is not None and not once and step is None and not ahead:
                    # Busy, but the queue was dry: look again once the poll interval is over.
                    timeout = max(0.0, dry_since + self.policy.poll_interval - loop.time())
                done, _ = await asyncio.wait(
                    pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for uuid, task in list(self._running.items()):
                    if task in done:
                        del self._running[uuid]
                        try:
                            finished.append((self._held[uuid], task.result()))
                        except Exception as exc:
                            # Its lease runs out and the job is taken again.
                            log.error("enrichment job crashed", job=uuid, error=repr(exc))
                            self._held.pop(uuid, None)
                if step is not None and step in done:
                    turn, step = step.result(), None
                    report(turn.outcomes)
                    ahead.extend(turn.claimed)
                    if turn.error is not None:
                        if once:
                            raise turn.error
                        log.warning("could not claim enrichment jobs", error=str(turn.error))
                        dry_since = loop.time()
                    elif turn.asked:
                        dry_since = loop.time() if len(turn.claimed) < turn.asked else None
                    elif turn.outcomes:
                        dry_since = None
        finally:
            heartbeat.cancel()
            stopping.cancel()
            report(await self._stop(step, finished))
        return outcomes

    async def _stop(
        self, step: asyncio.Task[Step] | None, finished: list[tuple[Claimed, Ran]]
    ) -> list[JobOutcome]:
        """Let the database step in flight end (cutting a transaction short helps nobody), write
        what finished, cancel what runs and hand back every job still held (running, or
        claimed ahead)."""
        written: list[JobOutcome] = []
        if step is not None:
            with contextlib.suppress(Exception):
                written += (await asyncio.shield(step)).outcomes
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        if finished:
            written += await self._write(finished)
            for item, _ in finished:
                self._held.pop(item.job.uuid, None)
        held, self._held = list(self._held), {}
        await self._abandon(held)
        return written

    async def _abandon(self, uuids: list[str]) -> None:
        """Hand jobs back to pending (their tools are dead)."""
        if not uuids:
            return
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
