"""Approval: the pure rules (who may be approved or revoked, when an approval is withdrawn by
itself, what the trail row says) and the service on the in-memory catalog (all-or-nothing,
bulk confirmation, the review queue, an asset's story, enrichers changed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from consumer.domain.approvals import (
    ApprovalAction,
    EnrichmentSnapshot,
    RefusalKind,
    RevocationReason,
    auto_revocation,
    awaits_review,
    record,
    refuse_approval,
    refuse_revocation,
    revocation_for_delete,
    revocation_for_qc,
    revocation_for_update,
)
from consumer.domain.assets import Asset, FileFacts, create_asset, set_state
from consumer.domain.errors import OperationError
from consumer.domain.lifecycle import AssetState
from consumer.domain.signatures import EnricherRef
from consumer.service_layer import approval
from consumer.service_layer.apply import FilePresent, apply_changes
from tests.unit.builders import SHOWS, T0, catalog, sha
from tests.unit.fakes import FakeCatalog


def asset(key: str = "Show/e01.mkv", *, state: AssetState = AssetState.READY) -> Asset:
    made = create_asset(
        SHOWS.uuid, FileFacts(key, f"/media/shows/{key}", 10, 1, sha256=sha(1)), "sum", T0
    )
    if state != AssetState.NEW:
        set_state(made, AssetState.ENRICHING, T0)
    if state == AssetState.READY:
        set_state(made, AssetState.READY, T0)
    return made


# --- the rules ---------------------------------------------------------------------------------


def test_only_a_ready_present_unapproved_asset_may_be_approved() -> None:
    assert refuse_approval(asset()) is None
    new = refuse_approval(asset(state=AssetState.NEW))
    assert new is not None and new.kind == RefusalKind.NOT_READY
    assert new.reason == "it is new, not ready"
    gone = replace(asset(), is_deleted=True)
    deleted = refuse_approval(gone)
    assert deleted is not None and deleted.reason == "its file is deleted"
    twice = refuse_approval(replace(asset(), approved_for_broadcast=True))
    assert twice is not None and twice.kind == RefusalKind.ALREADY_APPROVED


def test_only_an_approved_asset_may_be_revoked() -> None:
    refused = refuse_revocation(asset())
    assert refused is not None and refused.reason == "it is not approved"
    assert refuse_revocation(replace(asset(), approved_for_broadcast=True)) is None


def test_what_waits_for_review() -> None:
    assert awaits_review(asset())
    assert not awaits_review(asset(state=AssetState.ENRICHING))
    assert not awaits_review(replace(asset(), approved_for_broadcast=True))
    assert not awaits_review(replace(asset(), is_deleted=True))


def test_an_approval_goes_when_what_was_reviewed_changes() -> None:
    content = revocation_for_update(True, content_changed=True, enricher_changed=True)
    assert content == RevocationReason.CONTENT_CHANGED
    enrichers = revocation_for_update(True, content_changed=False, enricher_changed=True)
    assert enrichers == RevocationReason.ENRICHERS_CHANGED
    assert revocation_for_update(False, content_changed=True, enricher_changed=False) is None
    assert revocation_for_delete(True) == RevocationReason.FILE_DELETED
    assert revocation_for_delete(False) is None
    assert revocation_for_qc(True, passed=False) == RevocationReason.QC_FAILED
    assert revocation_for_qc(True, passed=True) is None


def test_the_trail_row_names_the_content_and_the_enrichment() -> None:
    a = asset()
    snap = EnrichmentSnapshot(job_uuid="job-1", qc_passed=True, fields={"video_codec": "h264"})
    row = record(a, ApprovalAction.APPROVE, actor="alice", now=T0, snapshot=snap, note="ok")
    assert (row.sha256, row.content_signature, row.enricher_checksum) == (
        a.sha256,
        a.content_signature,
        "sum",
    )
    assert row.job_uuid == "job-1" and row.enrichment["fields"] == {"video_codec": "h264"}
    assert row.enrichment_digest == snap.digest
    other = EnrichmentSnapshot(job_uuid="job-1", qc_passed=True, fields={"video_codec": "hevc"})
    assert other.digest != snap.digest

    # An automatic revocation names what had been approved, not what replaced it.
    changed = replace(a, sha256=sha(2), content_signature="sha256:" + sha(2))
    revoked = auto_revocation(row, changed, RevocationReason.CONTENT_CHANGED, T0, "new cut")
    assert (revoked.action, revoked.actor, revoked.sha256) == (
        ApprovalAction.AUTO_REVOKE,
        "apollonia",
        a.sha256,
    )
    assert revoked.enrichment_digest == row.enrichment_digest and revoked.note == "new cut"
    without = auto_revocation(None, a, RevocationReason.FILE_DELETED, T0)
    assert without.sha256 == a.sha256 and without.reason == RevocationReason.FILE_DELETED


# --- the service ---------------------------------------------------------------------------------


async def seeded(*assets: Asset) -> FakeCatalog:
    fake = catalog()
    async with fake.unit_of_work() as uow:
        await uow.assets.add_many([replace(a, state=AssetState.NEW) for a in assets])
        await uow.assets.update_many(list(assets))
        await uow.commit()
    return fake


async def test_approve_writes_the_trail_first_then_the_flag() -> None:
    a = asset()
    fake = await seeded(a)
    done = await approval.approve(fake, by=" alice ", asset_ids=[a.uuid[:8]], note="fine", now=T0)
    assert [x.uuid for x in done.assets] == [a.uuid]
    (row,) = fake.approvals(a.uuid)
    assert (row.action, row.actor, row.note, row.id) == (ApprovalAction.APPROVE, "alice", "fine", 1)
    assert fake.assets()[0].approved_for_broadcast


async def test_a_list_is_all_or_nothing() -> None:
    ready, new = asset("a.mkv"), asset("b.mkv", state=AssetState.NEW)
    fake = await seeded(ready, new)
    with pytest.raises(OperationError) as refused:
        await approval.approve(fake, by="alice", asset_ids=[ready.uuid, new.uuid])
    assert (refused.value.error_code, refused.value.case) == ("decision_refused", "approve")
    assert refused.value.facts["count"] == 1 and "b.mkv" in refused.value.facts["details"]
    assert fake.approvals() == [] and not any(x.approved_for_broadcast for x in fake.assets())


@pytest.mark.parametrize(
    ("ids", "collection", "every"),
    [((), None, False), ((), "Shows", False), (("x",), "Shows", True), ((), None, True)],
)
async def test_a_decision_needs_ids_or_a_whole_collection(
    ids: tuple[str, ...], collection: str | None, every: bool
) -> None:
    fake = await seeded(asset())
    with pytest.raises(OperationError) as refused:
        await approval.approve(
            fake, by="alice", asset_ids=ids, collection=collection, all_ready=every
        )
    assert refused.value.case == "approval_target"


async def test_who_and_why_are_required() -> None:
    a = asset()
    fake = await seeded(a)
    with pytest.raises(OperationError) as no_actor:
        await approval.approve(fake, by="  ", asset_ids=[a.uuid])
    assert no_actor.value.case == "approval_actor_missing"
    with pytest.raises(OperationError) as no_note:
        await approval.revoke(fake, by="bob", note=" ", asset_ids=[a.uuid])
    assert no_note.value.case == "revocation_note_missing"
    with pytest.raises(OperationError) as unknown:
        await approval.approve(fake, by="bob", asset_ids=["nope"])
    assert unknown.value.error_code == "asset_not_found"
    assert fake.approvals() == []


async def test_bulk_needs_confirmation_and_takes_only_what_waits() -> None:
    first, second, waiting = asset("a.mkv"), asset("b.mkv"), asset("c.mkv", state=AssetState.NEW)
    fake = await seeded(first, second, waiting)
    with pytest.raises(OperationError) as unconfirmed:
        await approval.approve(fake, by="alice", collection="Shows", all_ready=True)
    assert unconfirmed.value.error_code == "confirmation_required"
    assert unconfirmed.value.facts == {"collection": "Shows", "assets": 2}
    assert fake.approvals() == []
    done = await approval.approve(
        fake, by="alice", collection="Shows", all_ready=True, confirmed=True
    )
    assert sorted(x.canonical_key for x in done.assets) == ["a.mkv", "b.mkv"]
    assert done.collection == "Shows"
    revoked = await approval.revoke(
        fake, by="bob", note="recall", collection="Shows", all_approved=True, confirmed=True
    )
    assert len(revoked.rows) == 2
    assert [r.action for r in fake.approvals(first.uuid)] == [
        ApprovalAction.APPROVE,
        ApprovalAction.REVOKE,
    ]


async def test_the_review_queue_is_oldest_first_with_its_summary() -> None:
    older, newer = asset("b-older.mkv"), asset("a-newer.mkv")
    fake = await seeded(older, newer)
    fake.state.qc_results = [
        {"asset_uuid": older.uuid, "job_uuid": "j1", "passed": True, "time": T0},
        {"asset_uuid": newer.uuid, "job_uuid": "j2", "passed": True, "time": T0 + timedelta(1)},
    ]
    fake.state.promoted[older.uuid] = {"video_codec": "h264", "width": 1920, "height": 1080}
    fake.state.enrichment_results = [
        {
            "asset_uuid": older.uuid,
            "kind": "technical",
            "ok": True,
            "fields": {"streams": [{"type": "audio", "codec": "aac"}]},
        }
    ]
    items = await approval.review_queue(fake, collection="Shows")
    assert [i.asset.canonical_key for i in items] == ["b-older.mkv", "a-newer.mkv"]
    assert items[0].snapshot.fields["width"] == 1920 and items[0].audio_codecs == ["aac"]
    assert items[0].snapshot.job_uuid == "j1" and items[0].snapshot.qc_passed is True
    await approval.approve(fake, by="alice", asset_ids=[older.uuid])
    assert [i.asset.uuid for i in await approval.review_queue(fake)] == [newer.uuid]


async def test_changed_enrichers_withdraw_an_approval_and_the_story_tells_it() -> None:
    fake = catalog()
    key = "Show/S01E01.mkv"
    obs = FileFacts(key, f"/media/shows/{key}", 10, 1, sha256=sha(1), observed_at=T0)
    async with fake.unit_of_work() as uow:
        await apply_changes(uow, SHOWS, [FilePresent(obs)], now=T0)
        await uow.commit()
    (stored,) = fake.assets()
    async with fake.unit_of_work() as uow:
        got = await uow.assets.get_by_uuid(stored.uuid)
        assert got is not None
        set_state(got, AssetState.ENRICHING, T0)
        set_state(got, AssetState.READY, T0)
        await uow.assets.update(got)
        await uow.commit()
    await approval.approve(fake, by="alice", asset_ids=[stored.uuid], now=T0 + timedelta(1))

    probed = replace(SHOWS, enrichers=[EnricherRef("ffprobe", 1)])
    later = T0 + timedelta(2)
    async with fake.unit_of_work() as uow:
        await apply_changes(uow, probed, [FilePresent(replace(obs, observed_at=later))], now=later)
        await uow.commit()
    (after,) = fake.assets()
    assert (after.state, after.approved_for_broadcast) == (AssetState.NEW, False)
    assert [(r.action, r.reason) for r in fake.approvals(after.uuid)] == [
        (ApprovalAction.APPROVE, None),
        (ApprovalAction.AUTO_REVOKE, RevocationReason.ENRICHERS_CHANGED),
    ]
    story = await approval.history(fake, after.uuid)
    assert [(e.kind, e.event) for e in story.entries if e.kind != "job"] == [
        ("decision", "create"),
        ("approval", "approve"),
        ("decision", "update"),
        ("approval", "auto_revoke"),
    ]
    assert ("job", "enrich queued") in [(e.kind, e.event) for e in story.entries]
