"""Jobs, their logs, and enrichment / quality-control results in the catalog database.

Claiming is one `UPDATE ... WHERE uuid IN (SELECT ... LIMIT n) RETURNING ...` inside the unit of
work's `BEGIN IMMEDIATE` transaction: SQLite holds its write lock from the start, so two workers
(threads or processes) never claim the same job. On PostgreSQL the subquery takes its rows
`FOR UPDATE SKIP LOCKED`: concurrent workers each get other jobs, none waits for another's claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from consumer.adapters.db import bulk
from consumer.adapters.db.repository import chunked
from consumer.adapters.db.tables import (
    assets,
    collections,
    enrichment_results,
    job_logs,
    jobs,
    qc_results,
)
from consumer.domain.jobs import ENRICH, SUPERSEDED, Job, JobLog, JobStatus


def job_from_row(row: Row[Any]) -> Job:
    m = row._mapping
    return Job(
        uuid=m["uuid"],
        asset_uuid=m["asset_uuid"],
        stage=m["stage"],
        status=JobStatus(m["status"]),
        attempt=m["attempt"],
        queued_at=m["queued_at"],
        content_signature=m["content_signature"],
        enricher_checksum=m["enricher_checksum"],
        worker_id=m["worker_id"],
        pid=m["pid"],
        started_at=m["started_at"],
        completed_at=m["completed_at"],
        lease_until=m["lease_until"],
        next_attempt_at=m["next_attempt_at"],
        error=m["error"],
    )


def job_to_row(job: Job) -> dict[str, Any]:
    return {
        "uuid": job.uuid,
        "asset_uuid": job.asset_uuid,
        "stage": job.stage,
        "status": job.status.value,
        "attempt": job.attempt,
        "worker_id": job.worker_id,
        "pid": job.pid,
        "queued_at": job.queued_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "lease_until": job.lease_until,
        "next_attempt_at": job.next_attempt_at,
        "error": job.error,
        "content_signature": job.content_signature,
        "enricher_checksum": job.enricher_checksum,
    }


def _chunks(items: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class JobRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_many(self, new_jobs: Sequence[Job]) -> None:
        await bulk.insert_many(self._conn, jobs, [job_to_row(j) for j in new_jobs])

    async def supersede_pending(self, asset_uuids: Sequence[str], now: datetime) -> None:
        """Pending jobs of assets that changed again are settled: their replacements follow.

        On PostgreSQL the rows are taken in uuid order and a job a worker is claiming right now
        (locked) is skipped: waiting for it while holding the asset rows the worker's claim
        wants next is a deadlock, and the worker discards that job anyway (its content
        signature is no longer the asset's)."""
        postgres = self._conn.dialect.name == "postgresql"
        for chunk in _chunks(sorted(asset_uuids)):
            condition = and_(jobs.c.asset_uuid.in_(chunk), jobs.c.status == JobStatus.PENDING.value)
            if postgres:
                locked = (
                    select(jobs.c.uuid)
                    .where(condition)
                    .order_by(jobs.c.uuid)
                    .with_for_update(skip_locked=True)
                )
                condition = jobs.c.uuid.in_(locked.scalar_subquery())
            await self._conn.execute(
                update(jobs)
                .where(condition)
                .values(status=JobStatus.COMPLETED.value, completed_at=now, error=SUPERSEDED)
            )

    def _claimable(
        self,
        now: datetime,
        *,
        manual: bool,
        collection_uuid: str | None,
        asset_uuid: str | None,
    ) -> Any:
        due = or_(
            and_(
                jobs.c.status == JobStatus.PENDING.value,
                or_(jobs.c.next_attempt_at.is_(None), jobs.c.next_attempt_at <= now),
            ),
            # A worker killed mid-job leaves it in progress: its lease runs out, another takes it.
            and_(jobs.c.status == JobStatus.IN_PROGRESS.value, jobs.c.lease_until < now),
        )
        query = (
            select(jobs.c.uuid)
            .join(assets, assets.c.uuid == jobs.c.asset_uuid)
            .join(collections, collections.c.uuid == assets.c.collection_uuid)
            .where(jobs.c.stage == ENRICH, due)
        )
        if not manual:
            query = query.where(collections.c.auto_enrich.is_(True))
        if collection_uuid is not None:
            query = query.where(collections.c.uuid == collection_uuid)
        if asset_uuid is not None:
            query = query.where(jobs.c.asset_uuid == asset_uuid)
        return query.order_by(jobs.c.queued_at, jobs.c.uuid)

    async def claim(
        self,
        *,
        worker_id: str,
        pid: int,
        now: datetime,
        lease_until: datetime,
        limit: int,
        manual: bool = False,
        collection_uuid: str | None = None,
        asset_uuid: str | None = None,
    ) -> list[Job]:
        wanted = self._claimable(
            now, manual=manual, collection_uuid=collection_uuid, asset_uuid=asset_uuid
        ).limit(limit)
        # Ignored by SQLite, whose BEGIN IMMEDIATE already excludes every other writer.
        wanted = wanted.with_for_update(skip_locked=True, of=jobs)
        rows = await self._conn.execute(
            update(jobs)
            .where(jobs.c.uuid.in_(wanted.scalar_subquery()))
            .values(
                status=JobStatus.IN_PROGRESS.value,
                worker_id=worker_id,
                pid=pid,
                started_at=now,
                lease_until=lease_until,
            )
            .returning(*jobs.c)
        )
        return sorted((job_from_row(r) for r in rows), key=lambda j: (j.queued_at, j.uuid))

    async def claimable(
        self,
        *,
        now: datetime,
        manual: bool = False,
        collection_uuid: str | None = None,
        asset_uuid: str | None = None,
        limit: int | None = None,
    ) -> list[Job]:
        wanted = self._claimable(
            now, manual=manual, collection_uuid=collection_uuid, asset_uuid=asset_uuid
        )
        if limit is not None:
            wanted = wanted.limit(limit)
        uuids = [r[0] for r in await self._conn.execute(wanted)]
        found = {j.uuid: j for j in await self._by_uuids(uuids)}
        return [found[u] for u in uuids if u in found]

    async def _by_uuids(self, uuids: Sequence[str]) -> list[Job]:
        out: list[Job] = []
        for chunk in _chunks(list(uuids)):
            out += [
                job_from_row(r)
                for r in await self._conn.execute(select(jobs).where(jobs.c.uuid.in_(chunk)))
            ]
        return out

    async def get_many(self, job_uuids: Sequence[str]) -> dict[str, Job]:
        return {j.uuid: j for j in await self._by_uuids(job_uuids)}

    async def get(self, job_uuid: str) -> Job | None:
        row = (await self._conn.execute(select(jobs).where(jobs.c.uuid == job_uuid))).first()
        return None if row is None else job_from_row(row)

    async def find_by_uuid_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        rows = await self._conn.execute(
            select(jobs).where(jobs.c.uuid.startswith(prefix, autoescape=True)).limit(limit)
        )
        return [job_from_row(r) for r in rows]

    async def list_jobs(
        self,
        *,
        status: str | None = None,
        collection_uuid: str | None = None,
        asset_uuid: str | None = None,
        limit: int | None = None,
    ) -> list[Job]:
        query = select(jobs).order_by(jobs.c.queued_at, jobs.c.uuid)
        if status is not None:
            query = query.where(jobs.c.status == status)
        if collection_uuid is not None:
            query = query.join(assets, assets.c.uuid == jobs.c.asset_uuid).where(
                assets.c.collection_uuid == collection_uuid
            )
        if asset_uuid is not None:
            query = query.where(jobs.c.asset_uuid == asset_uuid)
        if limit is not None:
            query = query.limit(limit)
        return [job_from_row(r) for r in await self._conn.execute(query)]

    async def waiting_for_operator(
        self, *, collection_uuid: str | None = None, asset_uuid: str | None = None
    ) -> list[Job]:
        """Failed jobs nothing followed: their retries are spent (or they were the last)."""
        later = jobs.alias("later")
        query = (
            select(jobs)
            .where(
                jobs.c.status == JobStatus.FAILED.value,
                ~exists().where(
                    later.c.asset_uuid == jobs.c.asset_uuid,
                    later.c.stage == jobs.c.stage,
                    later.c.queued_at > jobs.c.queued_at,
                ),
            )
            .order_by(jobs.c.queued_at, jobs.c.uuid)
        )
        if collection_uuid is not None:
            query = query.join(assets, assets.c.uuid == jobs.c.asset_uuid).where(
                assets.c.collection_uuid == collection_uuid
            )
        if asset_uuid is not None:
            query = query.where(jobs.c.asset_uuid == asset_uuid)
        return [job_from_row(r) for r in await self._conn.execute(query)]

    async def update(self, job: Job) -> None:
        row = job_to_row(job)
        row.pop("uuid")
        await self._conn.execute(update(jobs).where(jobs.c.uuid == job.uuid).values(row))

    async def extend_leases(
        self, job_uuids: Sequence[str], worker_id: str, lease_until: datetime
    ) -> None:
        for chunk in _chunks(list(job_uuids)):
            await self._conn.execute(
                update(jobs)
                .where(
                    jobs.c.uuid.in_(chunk),
                    jobs.c.worker_id == worker_id,
                    jobs.c.status == JobStatus.IN_PROGRESS.value,
                )
                .values(lease_until=lease_until)
            )

    async def log(self, job_uuid: str, level: str, message: str, time: datetime) -> None:
        await self._conn.execute(
            job_logs.insert().values(job_uuid=job_uuid, level=level, message=message, time=time)
        )

    async def log_many(self, lines: Sequence[JobLog]) -> None:
        """Several log lines (of one job or many) in one statement."""
        if lines:
            await self._conn.execute(
                job_logs.insert(),
                [
                    {"job_uuid": j.job_uuid, "level": j.level, "message": j.message, "time": j.time}
                    for j in lines
                ],
            )

    async def logs(self, job_uuid: str) -> list[JobLog]:
        rows = await self._conn.execute(
            select(job_logs).where(job_logs.c.job_uuid == job_uuid).order_by(job_logs.c.id)
        )
        return [JobLog(r.job_uuid, r.time, r.level, r.message) for r in rows]

    async def counts(self, collection_uuid: str | None = None) -> dict[str, int]:
        query = select(jobs.c.status, func.count()).group_by(jobs.c.status)
        if collection_uuid is not None:
            query = query.join(assets, assets.c.uuid == jobs.c.asset_uuid).where(
                assets.c.collection_uuid == collection_uuid
            )
        rows = await self._conn.execute(query)
        return {r[0]: int(r[1]) for r in rows}


class ResultRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_enrichment(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._conn.execute(enrichment_results.insert(), list(rows))

    async def add_qc(self, row: dict[str, Any]) -> None:
        await self._conn.execute(qc_results.insert().values(row))

    async def promote(self, asset_uuid: str, columns: dict[str, Any]) -> None:
        await self._conn.execute(update(assets).where(assets.c.uuid == asset_uuid).values(columns))

    async def enrichment_for(self, asset_uuid: str) -> list[dict[str, Any]]:
        rows = await self._conn.execute(
            select(enrichment_results)
            .where(enrichment_results.c.asset_uuid == asset_uuid)
            .order_by(enrichment_results.c.id)
        )
        return [dict(r._mapping) for r in rows]

    async def technical_for_many(
        self, asset_uuids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The successful technical results of many assets, oldest first per asset: one query
        per chunk of ids, not one per asset (the review queue reads thousands)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for chunk in chunked(list(dict.fromkeys(asset_uuids))):
            rows = await self._conn.execute(
                select(enrichment_results)
                .where(
                    enrichment_results.c.asset_uuid.in_(chunk),
                    enrichment_results.c.kind == "technical",
                    enrichment_results.c.ok.is_(True),
                )
                .order_by(enrichment_results.c.id)
            )
            for r in rows:
                found.setdefault(r.asset_uuid, []).append(dict(r._mapping))
        return found

    async def qc_for(self, asset_uuid: str) -> list[dict[str, Any]]:
        rows = await self._conn.execute(
            select(qc_results)
            .where(qc_results.c.asset_uuid == asset_uuid)
            .order_by(qc_results.c.id)
        )
        return [dict(r._mapping) for r in rows]
