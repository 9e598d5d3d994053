"""The one apply path for file events (route → plan → unit of work → apply → run record →
commit), driven through the in-memory catalog with real `FileEvent`s."""

from __future__ import annotations

from datetime import timedelta

from consumer.domain.approvals import ApprovalAction, RevocationReason
from consumer.domain.assets import Asset, set_state
from consumer.domain.decisions import Action
from consumer.domain.lifecycle import AssetState
from consumer.service_layer import approval
from consumer.service_layer.events import EVENT_BATCH, EventsOutcome, RunSpec, apply_events
from consumer.service_layer.routing import RouterCache
from shared.schemas.file_event import FileEvent
from tests.unit.builders import ARCHIVE, FILMS, MEDIA, SHOWS, T0, catalog, file_event, sha
from tests.unit.fakes import FakeCatalog

EPISODE = "/media/shows/Show/S01E01.mkv"
KEY = "Show/S01E01.mkv"


def routers(fake: FakeCatalog, *, synced_only: bool = True) -> RouterCache:
    return RouterCache(fake, MEDIA, synced_only=synced_only)


async def apply(
    fake: FakeCatalog,
    *events: FileEvent,
    run: RunSpec | None = EVENT_BATCH,
    write: bool = True,
    synced_only: bool = True,
    only_collection: str | None = None,
) -> EventsOutcome:
    return await apply_events(
        fake,
        list(events),
        routers=routers(fake, synced_only=synced_only),
        run=run,
        write=write,
        only_collection=only_collection,
    )


def stored(fake: FakeCatalog, key: str = KEY, collection_uuid: str = SHOWS.uuid) -> Asset:
    asset = fake.asset(collection_uuid, key)
    assert asset is not None, f"no asset at {key}"
    return asset


async def make_ready_and_approved(fake: FakeCatalog, asset_uuid: str) -> None:
    async with fake.unit_of_work(label="approve") as uow:
        asset = await uow.assets.get_by_uuid(asset_uuid)
        assert asset is not None
        set_state(asset, AssetState.ENRICHING, T0)
        set_state(asset, AssetState.READY, T0)
        await uow.assets.update(asset)
        await uow.commit()
    # Approval only through the operator's command, which writes the trail.
    await approval.approve(fake, by="tester", asset_ids=[asset_uuid], now=T0)


def trail(fake: FakeCatalog, asset_uuid: str) -> list[tuple[str, str | None]]:
    return [
        (a.action.value, a.reason.value if a.reason else None) for a in fake.approvals(asset_uuid)
    ]


# --- created, repeated, modified, deleted ----------------------------------------------------


async def test_created_event_catalogs_a_new_unapproved_asset() -> None:
    fake = catalog()
    event = file_event("created", EPISODE)

    outcome = await apply(fake, event)

    asset = stored(fake)
    assert (asset.state, asset.approved_for_broadcast, asset.is_deleted) == (
        AssetState.NEW,
        False,
        False,
    )
    assert (asset.path, asset.sha256, asset.size) == (EPISODE, sha(1), 1000)
    assert asset.last_event_at == T0
    assert asset.tech_metadata["season"] == 1  # described by the media-info parser
    (result,) = outcome.results
    assert result.outcome is not None and result.outcome.created == 1
    (entry,) = fake.history(asset.uuid)
    assert (entry.decision, entry.event_id, entry.run_uuid) == (
        "create",
        str(event.event_id),
        result.run_uuid,
    )


async def test_the_same_event_twice_is_applied_once() -> None:
    fake = catalog()
    event = file_event("created", EPISODE)
    await apply(fake, event)
    before = stored(fake)

    outcome = await apply(fake, event)

    (result,) = outcome.results
    assert result.outcome is not None
    assert (result.outcome.created, result.outcome.updated, result.outcome.skipped) == (0, 0, 1)
    assert stored(fake) == before
    assert len(fake.assets()) == 1
    assert [h.decision for h in fake.history(before.uuid)] == ["create"]  # a skip is not recorded


async def test_an_unchanged_file_seen_by_another_event_is_skipped_without_history() -> None:
    fake = catalog()
    await apply(fake, file_event("created", EPISODE))
    later = T0 + timedelta(hours=1)
    rescan = file_event("created", EPISODE, at=later, mtime=T0 - timedelta(minutes=5))

    outcome = await apply(fake, rescan)

    (result,) = outcome.results
    assert result.outcome is not None and result.outcome.skipped == 1
    assert [h.decision for h in fake.history(stored(fake).uuid)] == [
        "create"
    ]  # rescans don't flood


async def test_modified_with_other_content_updates_the_asset_back_to_new() -> None:
    fake = catalog()
    await apply(fake, file_event("created", EPISODE))
    original = stored(fake)
    await make_ready_and_approved(fake, original.uuid)

    later = T0 + timedelta(hours=1)
    outcome = await apply(fake, file_event("modified", EPISODE, content=2, at=later))

    asset = stored(fake)
    assert asset.uuid == original.uuid
    assert (asset.sha256, asset.state, asset.approved_for_broadcast) == (
        sha(2),
        AssetState.NEW,
        False,
    )
    assert asset.last_event_at == later
    (result,) = outcome.results
    assert result.outcome is not None
    assert (result.outcome.updated, result.outcome.changed_content) == (1, 1)
    assert [h.decision for h in fake.history(asset.uuid)] == ["create", "update"]
    # The withdrawn approval is in the trail, about the content that was approved.
    assert trail(fake, asset.uuid) == [("approve", None), ("auto_revoke", "content_changed")]
    revoked = fake.approvals(asset.uuid)[-1]
    assert (revoked.action, revoked.reason, revoked.sha256) == (
        ApprovalAction.AUTO_REVOKE,
        RevocationReason.CONTENT_CHANGED,
        original.sha256,
    )
    assert revoked.actor == "apollonia"


async def test_deleted_event_soft_deletes_and_unapproves() -> None:
    fake = catalog()
    await apply(fake, file_event("created", EPISODE))
    await make_ready_and_approved(fake, stored(fake).uuid)
    later = T0 + timedelta(hours=1)

    outcome = await apply(fake, file_event("deleted", EPISODE, content=None, at=later))

    asset = stored(fake)
    assert asset.is_deleted and not asset.approved_for_broadcast
    assert asset.deleted_at is not None
    assert asset.last_event_at == later
    (result,) = outcome.results
    assert result.outcome is not None and result.outcome.deleted == 1
    assert [h.decision for h in fake.history(asset.uuid)] == ["create", "delete"]
    assert trail(fake, asset.uuid) == [("approve", None), ("auto_revoke", "file_deleted")]


async def test_several_events_for_one_key_in_a_batch_end_in_the_last_state() -> None:
    fake = catalog()
    outcome = await apply(
        fake,
        file_event("created", EPISODE),
        file_event("modified", EPISODE, content=2, at=T0 + timedelta(seconds=1)),
        file_event("deleted", EPISODE, content=None, at=T0 + timedelta(seconds=2)),
    )

    asset = stored(fake)
    assert asset.is_deleted and asset.sha256 == sha(2)
    (result,) = outcome.results
    assert result.outcome is not None
    assert (result.outcome.created, result.outcome.updated, result.outcome.deleted) == (1, 1, 1)


# --- moves -------------------------------------------------------------------------------------


async def test_move_inside_a_collection_keeps_the_asset_under_its_new_key() -> None:
    fake = catalog()
    await apply(fake, file_event("created", EPISODE))
    original = stored(fake)
    await make_ready_and_approved(fake, original.uuid)
    target = "/media/shows/Show/Season 1/S01E01.mkv"

    outcome = await apply(
        fake, file_event("moved", target, from_path=EPISODE, at=T0 + timedelta(hours=1))
    )

    (asset,) = fake.assets()
    assert asset.uuid == original.uuid
    assert (asset.canonical_key, asset.path) == ("Show/Season 1/S01E01.mkv", target)
    assert asset.approved_for_broadcast  # the approval follows the file
    assert trail(fake, asset.uuid) == [("approve", None)]  # nothing withdrawn
    assert fake.asset(SHOWS.uuid, KEY) is None
    (result,) = outcome.results
    assert result.outcome is not None and result.outcome.moved == 1


async def test_move_onto_a_soft_deleted_asset_splits_into_gone_and_restored() -> None:
    fake = catalog()
    occupied = "/media/shows/Show/S01E02.mkv"
    await apply(
        fake,
        file_event("created", EPISODE),
        file_event("created", occupied, content=2),
        file_event("deleted", occupied, content=None, at=T0 + timedelta(seconds=1)),
    )
    mover, resting = stored(fake), stored(fake, "Show/S01E02.mkv")

    await apply(fake, file_event("moved", occupied, from_path=EPISODE, at=T0 + timedelta(hours=1)))

    assert stored(fake).uuid == mover.uuid and stored(fake).is_deleted
    restored = stored(fake, "Show/S01E02.mkv")
    assert restored.uuid == resting.uuid
    assert not restored.is_deleted and restored.sha256 == sha(1)


async def test_move_to_another_collection_is_gone_here_and_created_there() -> None:
    fake = catalog()
    await apply(fake, file_event("created", EPISODE))
    original = stored(fake)
    target = "/media/films/Film (2001).mkv"

    outcome = await apply(
        fake, file_event("moved", target, from_path=EPISODE, at=T0 + timedelta(hours=1))
    )

    assert stored(fake).is_deleted and stored(fake).uuid == original.uuid
    arrived = stored(fake, "Film (2001).mkv", FILMS.uuid)
    assert arrived.uuid != original.uuid
    assert (arrived.state, arrived.is_deleted) == (AssetState.NEW, False)
    by_collection = {
        r.group.collection.uuid: r.outcome for r in outcome.results if r.outcome is not None
    }
    assert by_collection[SHOWS.uuid] is not None and by_collection[SHOWS.uuid].deleted == 1
    assert by_collection[FILMS.uuid] is not None and by_collection[FILMS.uuid].created == 1


# Moves in one batch that hand keys along a chain or a cycle: whatever order the rows are written
# in, UNIQUE(collection_uuid, canonical_key) must hold at every row (the fake checks it as SQLite
# does), so the apply path parks moved assets first.
async def test_a_swap_through_a_temporary_name_exchanges_the_keys() -> None:
    fake = catalog()
    a, b, tmp = "/media/shows/a.mkv", "/media/shows/b.mkv", "/media/shows/tmp.mkv"
    await apply(fake, file_event("created", a, content=1), file_event("created", b, content=2))
    first, second = stored(fake, "a.mkv"), stored(fake, "b.mkv")
    later = T0 + timedelta(hours=1)

    await apply(
        fake,
        file_event("moved", tmp, content=1, from_path=a, at=later),
        file_event("moved", a, content=2, from_path=b, at=later),
        file_event("moved", b, content=1, from_path=tmp, at=later),
    )

    assert stored(fake, "a.mkv").uuid == second.uuid
    assert stored(fake, "b.mkv").uuid == first.uuid


async def test_a_modified_file_moved_onto_a_key_vacated_earlier_in_the_batch() -> None:
    fake = catalog()
    a, b, c = "/media/shows/a.mkv", "/media/shows/b.mkv", "/media/shows/c.mkv"
    await apply(fake, file_event("created", a, content=1), file_event("created", b, content=2))
    first, second = stored(fake, "a.mkv"), stored(fake, "b.mkv")
    later = T0 + timedelta(hours=1)

    await apply(
        fake,
        file_event("modified", a, content=3, at=later),
        file_event("moved", c, content=2, from_path=b, at=later + timedelta(seconds=1)),
        file_event("moved", b, content=3, from_path=a, at=later + timedelta(seconds=2)),
    )

    assert stored(fake, "b.mkv").uuid == first.uuid
    assert stored(fake, "c.mkv").uuid == second.uuid


# --- stale events ------------------------------------------------------------------------------


async def test_an_older_event_is_skipped_as_stale_and_rolls_nothing_back() -> None:
    fake = catalog()
    later = T0 + timedelta(hours=1)
    await apply(fake, file_event("created", EPISODE, content=2, at=later))
    before = stored(fake)

    outcome = await apply(
        fake,
        file_event("modified", EPISODE, content=1, at=T0),
        file_event("deleted", EPISODE, content=None, at=T0),
    )

    assert stored(fake) == before
    (result,) = outcome.results
    assert result.outcome is not None
    assert (result.outcome.stale, result.outcome.skipped, result.outcome.updated) == (2, 2, 0)
    assert all(d.stale and d.action == Action.SKIP for d in result.outcome.decisions)


async def test_an_older_move_is_skipped_as_stale() -> None:
    fake = catalog()
    await apply(fake, file_event("created", EPISODE, at=T0 + timedelta(hours=1)))
    before = stored(fake)

    outcome = await apply(
        fake, file_event("moved", "/media/shows/Other.mkv", from_path=EPISODE, at=T0)
    )

    assert fake.assets() == [before]
    (result,) = outcome.results
    assert result.outcome is not None
    assert (result.outcome.stale, result.outcome.moved) == (1, 0)


# --- events that are not applied ----------------------------------------------------------------


async def test_a_path_under_no_collection_is_unmatched_and_writes_nothing() -> None:
    fake = catalog()
    event = file_event("created", "/elsewhere/Film.mkv")

    outcome = await apply(fake, event)

    assert [e for e, _ in outcome.plan.unmatched] == [event]
    assert outcome.results == [] and fake.assets() == [] and fake.runs() == []


async def test_a_file_that_is_not_media_is_ignored() -> None:
    fake = catalog()
    event = file_event("created", "/media/shows/Show/notes.txt")

    outcome = await apply(fake, event)

    assert [e for e, _ in outcome.plan.ignored] == [event]
    assert outcome.plan.groups == {} and fake.assets() == []


async def test_a_sync_disabled_collection_is_ignored_only_by_automatic_paths() -> None:
    fake = catalog()
    event = file_event("created", "/media/archive/Old.mkv")

    automatic = await apply(fake, event, synced_only=True)
    assert [e for e, _ in automatic.plan.ignored] == [event]
    assert fake.assets() == []

    explicit = await apply(fake, event, synced_only=False)
    assert explicit.plan.ignored == []
    assert stored(fake, "Old.mkv", ARCHIVE.uuid).state == AssetState.NEW


async def test_a_path_escaping_its_root_through_dotdot_is_rejected() -> None:
    fake = catalog()
    event = file_event("created", "/media/shows/../../etc/evil.mkv")
    fine = file_event("created", EPISODE)

    outcome = await apply(fake, event, fine)

    ((rejected, _, reason),) = outcome.plan.rejected
    assert rejected == event and "escapes collection root" in reason
    assert [a.canonical_key for a in fake.assets()] == [KEY]  # the rest of the batch goes on


async def test_only_collection_leaves_the_other_groups_out() -> None:
    fake = catalog()
    film = "/media/films/Film (2001).mkv"

    outcome = await apply(
        fake,
        file_event("created", EPISODE),
        file_event("created", film),
        only_collection=FILMS.uuid,
    )

    assert [g.collection.uuid for g in outcome.other_collection] == [SHOWS.uuid]
    assert [r.group.collection.uuid for r in outcome.results] == [FILMS.uuid]
    assert fake.assets(SHOWS.uuid) == []
    assert [a.canonical_key for a in fake.assets(FILMS.uuid)] == ["Film (2001).mkv"]
    assert [r.collection_uuid for r in fake.runs()] == [FILMS.uuid]


# --- the run record -------------------------------------------------------------------------------


async def test_each_committed_group_leaves_a_run_record_with_the_spec_stat_keys() -> None:
    fake = catalog()
    outcome = await apply(
        fake,
        file_event("created", EPISODE),
        file_event("created", EPISODE),  # the same file again: skipped
        file_event("created", "/media/films/Film (2001).mkv"),
    )

    runs = {r.uuid: r for r in fake.runs()}
    assert set(runs) == {r.run_uuid for r in outcome.results}
    shows = next(r for r in outcome.results if r.group.collection.uuid == SHOWS.uuid)
    run = runs[shows.run_uuid]
    assert (run.kind, run.scope, run.status, run.collection_uuid, run.source_uuid) == (
        "event_batch",
        {"kind": "events"},
        "success",
        SHOWS.uuid,
        SHOWS.source_uuid,
    )
    assert tuple(run.stats) == EVENT_BATCH.stat_keys
    assert run.stats == {
        "events": 2,
        "created": 1,
        "updated": 0,
        "skipped": 1,
        "deleted": 0,
        "moved": 0,
        "stale": 0,
    }
    assert run.finished_at is not None and run.finished_at >= run.started_at


async def test_the_run_record_keeps_only_the_keys_its_spec_names() -> None:
    fake = catalog()
    spec = RunSpec("custom", {"kind": "test"}, ("created", "events"))

    await apply(fake, file_event("created", EPISODE), run=spec)

    (run,) = fake.runs()
    assert (run.kind, run.stats) == ("custom", {"created": 1, "events": 1})


async def test_without_a_run_spec_no_run_is_recorded() -> None:
    fake = catalog()
    await apply(fake, file_event("created", EPISODE), run=None)
    assert fake.runs() == [] and len(fake.assets()) == 1


async def test_without_write_it_decides_and_counts_but_writes_nothing() -> None:
    fake = catalog()  # a catalog that could write: `write=False` alone keeps it untouched

    outcome = await apply(fake, file_event("created", EPISODE), write=False)

    (result,) = outcome.results
    assert result.outcome is not None and result.outcome.created == 1
    assert fake.assets() == [] and fake.runs() == [] and fake.history() == []


async def test_a_dry_run_catalog_discards_writes_even_when_asked_to_write() -> None:
    fake = catalog(dry_run=True)
    await apply(fake, file_event("created", EPISODE), write=True)
    assert fake.assets() == [] and fake.runs() == []
