"""Ingest runs, their log lines, and asset history: why the catalog looks the way it does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from consumer.adapters.db import bulk
from consumer.adapters.db.tables import asset_history, ingest_runs, run_logs
from consumer.domain.records import HistoryEntry, IngestRun


class RunRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, run: IngestRun) -> None:
        await self._conn.execute(
            ingest_runs.insert().values(
                uuid=run.uuid,
                kind=run.kind,
                source_uuid=run.source_uuid,
                collection_uuid=run.collection_uuid,
                scope=run.scope,
                status=run.status,
                dry_run=run.dry_run,
                started_at=run.started_at,
                finished_at=run.finished_at,
                stats=run.stats,
                error=run.error,
            )
        )

    async def finish(
        self,
        run_uuid: str,
        *,
        status: str,
        finished_at: datetime,
        stats: dict[str, Any],
        error: str | None = None,
    ) -> None:
        await self._conn.execute(
            update(ingest_runs)
            .where(ingest_runs.c.uuid == run_uuid)
            .values(status=status, finished_at=finished_at, stats=stats, error=error)
        )

    async def get(self, run_uuid: str) -> IngestRun | None:
        row = (
            await self._conn.execute(select(ingest_runs).where(ingest_runs.c.uuid == run_uuid))
        ).first()
        if row is None:
            return None
        m = row._mapping
        return IngestRun(
            uuid=m["uuid"],
            kind=m["kind"],
            started_at=m["started_at"],
            status=m["status"],
            source_uuid=m["source_uuid"],
            collection_uuid=m["collection_uuid"],
            scope=dict(m["scope"] or {}),
            dry_run=bool(m["dry_run"]),
            finished_at=m["finished_at"],
            stats=dict(m["stats"] or {}),
            error=m["error"],
        )

    async def recent(
        self, *, collection_uuid: str | None = None, limit: int = 10
    ) -> list[IngestRun]:
        query = select(ingest_runs.c.uuid).order_by(ingest_runs.c.started_at.desc()).limit(limit)
        if collection_uuid is not None:
            query = query.where(ingest_runs.c.collection_uuid == collection_uuid)
        runs = []
        for (run_uuid,) in await self._conn.execute(query):
            run = await self.get(run_uuid)
            if run is not None:
                runs.append(run)
        return runs

    async def log(
        self, run_uuid: str, level: str, message: str, time: datetime, asset_uuid: str | None = None
    ) -> None:
        await self._conn.execute(
            run_logs.insert().values(
                run_uuid=run_uuid, level=level, message=message, time=time, asset_uuid=asset_uuid
            )
        )

    async def logs(self, run_uuid: str) -> list[dict[str, Any]]:
        rows = await self._conn.execute(
            select(run_logs).where(run_logs.c.run_uuid == run_uuid).order_by(run_logs.c.id)
        )
        return [dict(r._mapping) for r in rows]


class HistoryRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_many(self, entries: Sequence[HistoryEntry]) -> None:
        """Record decisions; an (asset, event) pair already recorded is not written twice."""
        # OR IGNORE: the only constraint that can fire is UNIQUE(asset_uuid, event_id).
        await bulk.insert_many(
            self._conn,
            asset_history,
            [
                {
                    "asset_uuid": e.asset_uuid,
                    "decision": e.decision,
                    "reason": e.reason,
                    "time": e.time,
                    "event_id": e.event_id,
                    "run_uuid": e.run_uuid,
                }
                for e in entries
            ],
            or_ignore=True,
        )

    async def for_asset(self, asset_uuid: str) -> list[HistoryEntry]:
        rows = await self._conn.execute(
            select(asset_history)
            .where(asset_history.c.asset_uuid == asset_uuid)
            .order_by(asset_history.c.id)
        )
        return [
            HistoryEntry(
                asset_uuid=r.asset_uuid,
                decision=r.decision,
                reason=r.reason,
                time=r.time,
                event_id=r.event_id,
                run_uuid=r.run_uuid,
            )
            for r in rows
        ]

    async def has_event(self, event_id: str) -> bool:
        row = (
            await self._conn.execute(
                select(asset_history.c.id).where(asset_history.c.event_id == event_id).limit(1)
            )
        ).first()
        return row is not None
