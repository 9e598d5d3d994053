"""Approval for broadcast: who may decide what, and when an approval is withdrawn by itself.

Only an operator approves or revokes, and every decision is a row of an append-only trail
(`Approval`), with the content and the enrichment it was about. An approval no longer holds when
what was reviewed changes: new content, other enrichers, the file gone, or a re-enrichment that
fails quality control; each of those writes an `auto_revoke` in the same transaction.

Pure rules: the service layer (`consumer.service_layer.approval`, `apply`, `enrichment`) loads
and writes; the database enforces the same (approved ⇒ ready, the trail append-only, approval
only with its record).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from consumer.domain.assets import Asset
from consumer.domain.lifecycle import AssetState, may_be_approved

# Who writes an automatic revocation in the trail.
SYSTEM_ACTOR = "apollonia"


class ApprovalAction(StrEnum):
    APPROVE = "approve"
    REVOKE = "revoke"
    AUTO_REVOKE = "auto_revoke"


class RevocationReason(StrEnum):
    CONTENT_CHANGED = "content_changed"
    ENRICHERS_CHANGED = "enrichers_changed"
    FILE_DELETED = "file_deleted"
    QC_FAILED = "qc_failed"


@dataclass(frozen=True, slots=True)
class EnrichmentSnapshot:
    """The enrichment an asset has at one moment: its latest QC record's job and verdict, and the
    promoted fields (what a reviewer saw in `asset review`)."""

    job_uuid: str | None = None
    qc_passed: bool | None = None
    qc_time: datetime | None = None
    qc_failures: tuple[Mapping[str, Any], ...] = ()
    qc_warnings: tuple[Mapping[str, Any], ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_uuid,
            "qc_passed": self.qc_passed,
            "qc_time": self.qc_time.isoformat() if self.qc_time is not None else None,
            "qc_failures": [dict(f) for f in self.qc_failures],
            "qc_warnings": [dict(w) for w in self.qc_warnings],
            "fields": dict(self.fields),
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the snapshot, key-ordered: two rows describe the same enrichment exactly
        when their digests are equal."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Approval:
    """One row of the trail."""

    asset_uuid: str
    action: ApprovalAction
    actor: str
    time: datetime
    content_signature: str
    enricher_checksum: str
    sha256: str | None = None
    note: str | None = None
    reason: RevocationReason | None = None
    job_uuid: str | None = None
    enrichment: Mapping[str, Any] = field(default_factory=dict)
    enrichment_digest: str | None = None
    id: int | None = None  # given by the store


class RefusalKind(StrEnum):
    NOT_READY = "not_ready"
    DELETED = "deleted"
    ALREADY_APPROVED = "already_approved"
    NOT_APPROVED = "not_approved"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a decision cannot be taken for one asset."""

    asset_uuid: str
    canonical_key: str
    kind: RefusalKind
    state: str

    @property
    def reason(self) -> str:
        if self.kind == RefusalKind.DELETED:
            return "its file is deleted"
        if self.kind == RefusalKind.NOT_READY:
            return f"it is {self.state}, not ready"
        if self.kind == RefusalKind.ALREADY_APPROVED:
            return "it is already approved"
        return "it is not approved"

    def as_dict(self) -> dict[str, str]:
        return {
            "asset_id": self.asset_uuid,
            "canonical_key": self.canonical_key,
            "state": self.state,
            "reason": self.reason,
        }


def refuse_approval(asset: Asset) -> Refusal | None:
    """None when an operator may approve `asset`: ready, present, not approved yet."""
    kind: RefusalKind | None = None
    if asset.is_deleted:
        kind = RefusalKind.DELETED
    elif not may_be_approved(asset.state):
        kind = RefusalKind.NOT_READY
    elif asset.approved_for_broadcast:
        kind = RefusalKind.ALREADY_APPROVED
    if kind is None:
        return None
    return Refusal(asset.uuid, asset.canonical_key, kind, asset.state.value)


def refuse_revocation(asset: Asset) -> Refusal | None:
    """None when an operator may revoke `asset`'s approval: it has one."""
    if asset.approved_for_broadcast:
        return None
    return Refusal(asset.uuid, asset.canonical_key, RefusalKind.NOT_APPROVED, asset.state.value)


def awaits_review(asset: Asset) -> bool:
    """What `asset review` lists: ready, present, not approved."""
    return (
        asset.state == AssetState.READY
        and not asset.is_deleted
        and not asset.approved_for_broadcast
    )


def revocation_for_update(
    was_approved: bool, *, content_changed: bool, enricher_changed: bool
) -> RevocationReason | None:
    """An approved asset updated in place loses its approval: why, for the trail."""
    if not was_approved:
        return None
    if content_changed:
        return RevocationReason.CONTENT_CHANGED
    if enricher_changed:
        return RevocationReason.ENRICHERS_CHANGED
    # Any other update (a file come back) of an approved asset still withdraws it.
    return RevocationReason.CONTENT_CHANGED


def revocation_for_delete(was_approved: bool) -> RevocationReason | None:
    return RevocationReason.FILE_DELETED if was_approved else None


def revocation_for_qc(was_approved: bool, *, passed: bool) -> RevocationReason | None:
    return RevocationReason.QC_FAILED if was_approved and not passed else None


def record(
    asset: Asset,
    action: ApprovalAction,
    *,
    actor: str,
    now: datetime,
    snapshot: EnrichmentSnapshot | None = None,
    note: str | None = None,
    reason: RevocationReason | None = None,
) -> Approval:
    """The trail row for a decision on `asset` as it is now (its content, its enrichment)."""
    snap = snapshot or EnrichmentSnapshot()
    return Approval(
        asset_uuid=asset.uuid,
        action=action,
        actor=actor,
        time=now,
        content_signature=asset.content_signature,
        enricher_checksum=asset.enricher_checksum,
        sha256=asset.sha256,
        note=note,
        reason=reason,
        job_uuid=snap.job_uuid,
        enrichment=snap.as_dict(),
        enrichment_digest=snap.digest,
    )


def auto_revocation(
    approved: Approval | None,
    asset: Asset,
    reason: RevocationReason,
    now: datetime,
    note: str | None = None,
) -> Approval:
    """The `auto_revoke` row for an approval that no longer holds.

    It names what was approved (the content and enrichment of `approved`, the asset's approve
    row), not what replaced it; the note says what changed. Without that row (an approval from
    before the trail existed), the asset's fields as they were before the change stand in.
    """
    if approved is None:
        return Approval(
            asset_uuid=asset.uuid,
            action=ApprovalAction.AUTO_REVOKE,
            actor=SYSTEM_ACTOR,
            time=now,
            content_signature=asset.content_signature,
            enricher_checksum=asset.enricher_checksum,
            sha256=asset.sha256,
            note=note,
            reason=reason,
        )
    return Approval(
        asset_uuid=asset.uuid,
        action=ApprovalAction.AUTO_REVOKE,
        actor=SYSTEM_ACTOR,
        time=now,
        content_signature=approved.content_signature,
        enricher_checksum=approved.enricher_checksum,
        sha256=approved.sha256,
        note=note,
        reason=reason,
        job_uuid=approved.job_uuid,
        enrichment=dict(approved.enrichment),
        enrichment_digest=approved.enrichment_digest,
    )
