"""Approval by an operator: approve, revoke, the review queue, and an asset's whole story.

These are the only functions that set `approved_for_broadcast` (the database refuses it without
the trail row they write first). A decision on several assets is all-or-nothing: if one of them
may not be decided (not ready, deleted, not approved), nothing is written and the refusal says
which and why. Bulk forms (`collection=..., every=True`) need `confirmed=True`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from consumer.domain.approvals import (
    Approval,
    ApprovalAction,
    EnrichmentSnapshot,
    Refusal,
    awaits_review,
    record,
    refuse_approval,
    refuse_revocation,
)
from consumer.domain.assets import Asset
from consumer.domain.errors import OperationError
from consumer.domain.lifecycle import AssetState
from consumer.service_layer.admin import resolve_collection
from consumer.service_layer.unit_of_work import Catalog, UnitOfWork


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Decisions:
    """What one approve or revoke wrote: a trail row per asset."""

    action: ApprovalAction
    assets: list[Asset] = field(default_factory=list)
    rows: list[Approval] = field(default_factory=list)
    collection: str | None = None


async def resolve_asset(uow: UnitOfWork, selector: str) -> Asset:
    """An asset by UUID or unique UUID prefix."""
    asset = await uow.assets.get_by_uuid(selector)
    if asset is not None:
        return asset
    found = await uow.assets.find_by_uuid_prefix(selector)
    if not found:
        raise OperationError("asset_not_found", asset_id=selector)
    if len(found) > 1:
        raise OperationError("ambiguous_id", prefix=selector)
    return found[0]


def _actor(by: str) -> str:
    actor = by.strip()
    if not actor:
        raise OperationError("invalid_argument", case="approval_actor_missing")
    return actor


async def _targets(
    uow: UnitOfWork,
    asset_ids: Sequence[str],
    collection_selector: str | None,
    every: bool,
    *,
    wanted: str,
) -> tuple[list[Asset], str | None]:
    """The assets a decision is about: the ids given, or every matching one of a collection."""
    bulk = collection_selector is not None
    if bulk != every or bool(asset_ids) == bulk:
        if wanted == "approval":
            raise OperationError("invalid_argument", case="approval_target")
        raise OperationError("invalid_argument", case="revocation_target")
    if asset_ids:
        chosen: dict[str, Asset] = {}
        for selector in asset_ids:
            asset = await resolve_asset(uow, selector)
            chosen.setdefault(asset.uuid, asset)
        return list(chosen.values()), None
    assert collection_selector is not None
    collection = await resolve_collection(uow, collection_selector)
    ready = await uow.assets.list_assets(
        collection_uuid=collection.uuid, state=AssetState.READY.value, include_deleted=False
    )
    if wanted == "approval":
        found = [a for a in ready if awaits_review(a)]
    else:
        found = [a for a in ready if a.approved_for_broadcast]
    return found, collection.name


def _refused(action: ApprovalAction, refusals: list[Refusal]) -> OperationError:
    details = "; ".join(f"{r.canonical_key} ({r.asset_uuid}): {r.reason}" for r in refusals)
    refused = [r.as_dict() for r in refusals]
    if action == ApprovalAction.APPROVE:
        return OperationError(
            "decision_refused",
            case="approve",
            count=len(refusals),
            details=details,
            refused=refused,
        )
    return OperationError(
        "decision_refused", case="revoke", count=len(refusals), details=details, refused=refused
    )


async def approve(
    catalog: Catalog,
    *,
    by: str,
    asset_ids: Sequence[str] = (),
    collection: str | None = None,
    all_ready: bool = False,
    note: str | None = None,
    confirmed: bool = False,
    now: datetime | None = None,
) -> Decisions:
    """Approve the given assets (all ready, present and unapproved, else nothing is written), or
    every asset of `collection` that waits for review (`all_ready`, needs `confirmed`)."""
    actor = _actor(by)
    async with catalog.unit_of_work(label="approve") as uow:
        targets, name = await _targets(uow, asset_ids, collection, all_ready, wanted="approval")
        refusals = [r for r in map(refuse_approval, targets) if r is not None]
        if refusals:
            raise _refused(ApprovalAction.APPROVE, refusals)
        if name is not None and targets and not confirmed:
            raise OperationError(
                "confirmation_required", case="approve", collection=name, assets=len(targets)
            )
        done = await _write(uow, ApprovalAction.APPROVE, targets, actor, note, now or utcnow())
        await uow.commit()
    done.collection = name
    return done


async def revoke(
    catalog: Catalog,
    *,
    by: str,
    note: str,
    asset_ids: Sequence[str] = (),
    collection: str | None = None,
    all_approved: bool = False,
    confirmed: bool = False,
    now: datetime | None = None,
) -> Decisions:
    """Withdraw the approval of the given assets (all approved, else nothing is written), or of
    every approved asset of `collection` (`all_approved`, needs `confirmed`). A note is required:
    the trail says why."""
    actor = _actor(by)
    if not note.strip():
        raise OperationError("invalid_argument", case="revocation_note_missing")
    async with catalog.unit_of_work(label="revoke") as uow:
        targets, name = await _targets(
            uow, asset_ids, collection, all_approved, wanted="revocation"
        )
        refusals = [r for r in map(refuse_revocation, targets) if r is not None]
        if refusals:
            raise _refused(ApprovalAction.REVOKE, refusals)
        if name is not None and targets and not confirmed:
            raise OperationError(
                "confirmation_required", case="revoke", collection=name, assets=len(targets)
            )
        done = await _write(uow, ApprovalAction.REVOKE, targets, actor, note, now or utcnow())
        await uow.commit()
    done.collection = name
    return done


async def _write(
    uow: UnitOfWork,
    action: ApprovalAction,
    targets: list[Asset],
    actor: str,
    note: str | None,
    now: datetime,
) -> Decisions:
    done = Decisions(action)
    if not targets:
        return done
    snapshots = await uow.approvals.snapshots(a.uuid for a in targets)
    done.rows = [
        record(a, action, actor=actor, now=now, snapshot=snapshots.get(a.uuid), note=note)
        for a in targets
    ]
    # The trail first: the database refuses an approval without its row.
    await uow.approvals.add_many(done.rows)
    for asset in targets:
        asset.approved_for_broadcast = action == ApprovalAction.APPROVE
        asset.updated_at = now
    await uow.assets.update_many(targets)
    done.assets = targets
    return done


# --- the review queue ------------------------------------------------------------------------
@dataclass(slots=True)
class ReviewItem:
    """An asset waiting for a decision, with what a reviewer looks at."""

    asset: Asset
    collection: str
    snapshot: EnrichmentSnapshot
    audio_codecs: list[str]

    @property
    def ready_since(self) -> datetime:
        return self.snapshot.qc_time or self.asset.updated_at


def _audio_codecs(results: list[dict[str, Any]]) -> list[str]:
    """Audio codecs from the latest successful technical result."""
    technical = [r for r in results if r.get("kind") == "technical" and r.get("ok")]
    if not technical:
        return []
    streams = (technical[-1].get("fields") or {}).get("streams") or []
    return sorted({str(s["codec"]) for s in streams if s.get("type") == "audio" and s.get("codec")})


async def review_queue(catalog: Catalog, *, collection: str | None = None) -> list[ReviewItem]:
    """What waits for a decision (ready, present, not approved), oldest first."""
    async with catalog.unit_of_work(read_only=True) as uow:
        collection_uuid = None
        if collection is not None:
            collection_uuid = (await resolve_collection(uow, collection)).uuid
        ready = await uow.assets.list_assets(
            collection_uuid=collection_uuid,
            state=AssetState.READY.value,
            include_deleted=False,
        )
        waiting = [a for a in ready if awaits_review(a)]
        snapshots = await uow.approvals.snapshots(a.uuid for a in waiting)
        names = {c.uuid: c.name for c in await uow.collections.all()}
        technical = await uow.results.technical_for_many([a.uuid for a in waiting])
        items = [
            ReviewItem(
                a,
                names.get(a.collection_uuid, a.collection_uuid),
                snapshots.get(a.uuid, EnrichmentSnapshot()),
                _audio_codecs(technical.get(a.uuid, [])),
            )
            for a in waiting
        ]
    return sorted(items, key=lambda i: (i.ready_since, i.asset.canonical_key))


# --- an asset's story ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TimelineEntry:
    time: datetime
    kind: str  # decision | job | approval
    event: str  # create, update, ..., job queued / completed / failed, approve, revoke, ...
    detail: str
    actor: str | None = None
    ref: str | None = None  # an event, job or approval id

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "kind": self.kind,
            "event": self.event,
            "detail": self.detail,
            "actor": self.actor,
            "ref": self.ref,
        }


@dataclass(slots=True)
class AssetStory:
    asset: Asset
    entries: list[TimelineEntry]
    approvals: list[Approval]


_KIND_ORDER = {"decision": 0, "job": 1, "approval": 2}


async def history(catalog: Catalog, asset_id: str) -> AssetStory:
    """Decisions, jobs and approvals of one asset, in time order."""
    async with catalog.unit_of_work(read_only=True) as uow:
        asset = await resolve_asset(uow, asset_id)
        decisions = await uow.history.for_asset(asset.uuid)
        jobs = await uow.jobs.list_jobs(asset_uuid=asset.uuid)
        trail = await uow.approvals.for_asset(asset.uuid)
    entries = [
        TimelineEntry(h.time, "decision", h.decision, h.reason, ref=h.event_id) for h in decisions
    ]
    for job in jobs:
        entries.append(
            TimelineEntry(
                job.queued_at, "job", f"{job.stage} queued", f"attempt {job.attempt}", ref=job.uuid
            )
        )
        if job.completed_at is not None:
            entries.append(
                TimelineEntry(
                    job.completed_at,
                    "job",
                    f"{job.stage} {job.status.value}",
                    job.error or "ok",
                    actor=job.worker_id,
                    ref=job.uuid,
                )
            )
    for row in trail:
        detail = row.reason.value if row.reason is not None else ""
        if row.note:
            detail = f"{detail}: {row.note}" if detail else row.note
        entries.append(
            TimelineEntry(
                row.time,
                "approval",
                row.action.value,
                detail,
                actor=row.actor,
                ref=str(row.id) if row.id is not None else None,
            )
        )
    entries.sort(key=lambda e: (e.time, _KIND_ORDER[e.kind]))
    return AssetStory(asset, entries, trail)
