"""The approvals trail in the catalog database: append (in bulk), read; never update or delete
(the database refuses both, migration 0007)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from consumer.adapters.db import bulk
from consumer.adapters.db.repository import chunked
from consumer.adapters.db.tables import approvals, assets, qc_results
from consumer.domain.approvals import (
    Approval,
    ApprovalAction,
    EnrichmentSnapshot,
    RevocationReason,
)
from consumer.domain.probe import summary

# The promoted columns a snapshot carries (what `asset review` shows).
PROMOTED = (*summary({}), "qc_failed_rules")


def approval_to_row(approval: Approval) -> dict[str, Any]:
    return {
        "asset_uuid": approval.asset_uuid,
        "action": approval.action.value,
        "actor": approval.actor,
        "time": approval.time,
        "note": approval.note,
        "reason": approval.reason.value if approval.reason is not None else None,
        "sha256": approval.sha256,
        "content_signature": approval.content_signature,
        "enricher_checksum": approval.enricher_checksum,
        "job_uuid": approval.job_uuid,
        "enrichment": dict(approval.enrichment),
        "enrichment_digest": approval.enrichment_digest,
    }


def approval_from_row(row: Row[Any]) -> Approval:
    m = row._mapping
    return Approval(
        id=m["id"],
        asset_uuid=m["asset_uuid"],
        action=ApprovalAction(m["action"]),
        actor=m["actor"],
        time=m["time"],
        note=m["note"],
        reason=RevocationReason(m["reason"]) if m["reason"] is not None else None,
        sha256=m["sha256"],
        content_signature=m["content_signature"],
        enricher_checksum=m["enricher_checksum"],
        job_uuid=m["job_uuid"],
        enrichment=m["enrichment"] or {},
        enrichment_digest=m["enrichment_digest"],
    )


class ApprovalRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_many(self, rows: Sequence[Approval]) -> None:
        if rows:
            await bulk.insert_many(self._conn, approvals, [approval_to_row(a) for a in rows])

    async def for_asset(self, asset_uuid: str) -> list[Approval]:
        result = await self._conn.execute(
            select(approvals).where(approvals.c.asset_uuid == asset_uuid).order_by(approvals.c.id)
        )
        return [approval_from_row(r) for r in result]

    async def last_approvals(self, asset_uuids: Iterable[str]) -> dict[str, Approval]:
        """Each asset's latest `approve` row (what an automatic revocation withdraws)."""
        found: dict[str, Approval] = {}
        for chunk in chunked(list(dict.fromkeys(asset_uuids))):
            latest = (
                select(func.max(approvals.c.id))
                .where(
                    approvals.c.asset_uuid.in_(chunk),
                    approvals.c.action == ApprovalAction.APPROVE.value,
                )
                .group_by(approvals.c.asset_uuid)
            )
            result = await self._conn.execute(select(approvals).where(approvals.c.id.in_(latest)))
            for row in result:
                approval = approval_from_row(row)
                found[approval.asset_uuid] = approval
        return found

    async def snapshots(self, asset_uuids: Iterable[str]) -> dict[str, EnrichmentSnapshot]:
        """Each asset's enrichment now: promoted columns and its latest QC record."""
        found: dict[str, EnrichmentSnapshot] = {}
        for chunk in chunked(list(dict.fromkeys(asset_uuids))):
            latest_qc = (
                select(func.max(qc_results.c.id))
                .where(qc_results.c.asset_uuid.in_(chunk))
                .group_by(qc_results.c.asset_uuid)
            )
            qc = {
                r.asset_uuid: r
                for r in await self._conn.execute(
                    select(qc_results).where(qc_results.c.id.in_(latest_qc))
                )
            }
            result = await self._conn.execute(
                select(assets.c.uuid, *(assets.c[name] for name in PROMOTED)).where(
                    assets.c.uuid.in_(chunk)
                )
            )
            for row in result:
                m = row._mapping
                check = qc.get(m["uuid"])
                found[m["uuid"]] = EnrichmentSnapshot(
                    job_uuid=check.job_uuid if check is not None else None,
                    qc_passed=bool(check.passed) if check is not None else None,
                    qc_time=check.time if check is not None else None,
                    qc_failures=tuple(check.failures or ()) if check is not None else (),
                    qc_warnings=tuple(check.warnings or ()) if check is not None else (),
                    fields={name: m[name] for name in PROMOTED},
                )
        return found
