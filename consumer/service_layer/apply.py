"""Deciding and writing changes inside one unit of work: the core every change goes through.

File events reach it through `consumer.service_layer.events` (the one apply path around it:
route, plan, unit of work, run record, commit); collection ingest calls it slice by slice inside
its own single unit of work. The decisions are pure domain code (`consumer.domain.decisions`:
`decide`, `decide_gone`, `decide_move`); this module loads what they need in bulk, applies the
domain functions, and writes in bulk.

Changes are applied in order, so several changes to one key in a batch (created, then modified,
then deleted) end in the state the last one describes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from consumer.domain.approvals import (
    RevocationReason,
    auto_revocation,
    revocation_for_delete,
    revocation_for_update,
)
from consumer.domain.assets import (
    Asset,
    FileFacts,
    create_asset,
    mark_deleted,
    move_asset,
    refresh_stat,
    update_asset,
)
from consumer.domain.catalog import Collection
from consumer.domain.decisions import (
    Action,
    Decision,
    MoveVerdict,
    Tombstone,
    decide,
    decide_gone,
    decide_move,
    is_stale,
    tombstone_for,
)
from consumer.domain.jobs import enriches, queue_for
from consumer.domain.media_items import ItemKey, key_of_asset
from consumer.domain.move_inference import deleted_since, infer_move, inferred_move_reason
from consumer.domain.records import AssetFingerprint, HistoryEntry
from consumer.service_layer.media_attach import attach_keys
from consumer.service_layer.unit_of_work import UnitOfWork
from shared.runtime.log import get_logger

log = get_logger(__name__)

# Moved assets wait under `<prefix><uuid>` within the transaction; no key starts with `/` (and
# PostgreSQL text cannot hold the NUL this once was).
PARKED_KEY_PREFIX = "//moving/"

# Per-item decisions are logged at DEBUG up to this many per apply, then summarised, so a
# 100,000-file ingest does not write 100,000 log lines.
ITEM_LOG_LIMIT = 200

Describe = Callable[[FileFacts], dict[str, Any]]


@dataclass(slots=True)
class FilePresent:
    """A file that exists, with what is known about its content."""

    obs: FileFacts
    event_id: str | None = None


@dataclass(slots=True)
class FileGone:
    """A file that no longer exists at `canonical_key`."""

    canonical_key: str
    reason: str
    observed_at: datetime | None = None
    event_id: str | None = None


@dataclass(slots=True)
class FileMoved:
    """A file that went from `from_key` to `obs.canonical_key` inside one collection."""

    from_key: str
    obs: FileFacts
    event_id: str | None = None


Change = FilePresent | FileGone | FileMoved


@dataclass(slots=True)
class AppliedDecision:
    canonical_key: str
    action: Action
    reason: str
    asset_uuid: str | None
    event_id: str | None = None
    stale: bool = False


@dataclass(slots=True)
class ApplyOutcome:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    deleted: int = 0
    moved: int = 0
    moved_inferred: int = 0  # of `moved`: a deletion and a creation taken for one move
    stale: int = 0
    refreshed: int = 0
    restored: int = 0
    changed_content: int = 0
    changed_enricher: int = 0
    decisions: list[AppliedDecision] = field(default_factory=list)
    # Live content hash per key after the apply (for duplicate counting), only for touched keys.
    touched: dict[str, str | None] = field(default_factory=dict)


Stored = Asset | AssetFingerprint


async def apply_changes(
    uow: UnitOfWork,
    collection: Collection,
    changes: Sequence[Change],
    *,
    now: datetime,
    run_uuid: str | None = None,
    known: Mapping[str, AssetFingerprint] | None = None,
    describe: Describe | None = None,
    write: bool = True,
    move_window: timedelta | None = None,
) -> ApplyOutcome:
    """Decide and apply `changes` to one collection's assets inside `uow` (not committed here).

    `known` may carry the collection's fingerprints when the caller already loaded them (a full
    ingest); otherwise the keys involved are fetched in bulk. With `write=False` (dry run)
    everything is decided and counted, nothing is written. With `move_window`, a file created
    at a new key with the content of an asset deleted within it is that asset moved
    (`consumer.domain.move_inference`).
    """
    decided = await decide_changes(
        uow,
        collection,
        changes,
        now=now,
        run_uuid=run_uuid,
        known=known,
        describe=describe,
        move_window=move_window,
    )
    return await decided.finish(write=write)


async def decide_changes(
    uow: UnitOfWork,
    collection: Collection,
    changes: Sequence[Change],
    *,
    now: datetime,
    run_uuid: str | None = None,
    known: Mapping[str, AssetFingerprint] | None = None,
    describe: Describe | None = None,
    move_window: timedelta | None = None,
) -> Decided:
    """The first half of `apply_changes`: read what is needed and decide, write nothing yet.

    A caller that pipelines (a big ingest) writes with `finish()` later. Reads happen only
    when `known` is missing or holds a key of `changes`; with `known` given and none of the
    keys in it (new files), deciding never touches the connection.
    """
    keys = list(_changes_by_key(changes))
    if known is None:
        state: dict[str, Stored] = dict(
            await uow.assets.fingerprints_for_keys(collection.uuid, keys)
        )
    else:
        state = {k: known[k] for k in keys if k in known}
    checksum = collection.enricher_checksum

    # Full rows are needed only for assets that may be rewritten; fetch them in one go.
    by_key = _changes_by_key(changes)
    needs_full = [
        fp.uuid for key, fp in state.items() if _may_write(fp, by_key.get(key, ()), checksum)
    ]
    if needs_full:
        full = await uow.assets.get_many_by_uuid(needs_full)
        for key, stored in list(state.items()):
            if stored.uuid in full:
                state[key] = full[stored.uuid]

    batch = Decided(uow, collection, checksum, state, now, run_uuid, describe)
    if known is None:
        # Events (a scan passing `known` pipelines its reads and must not touch the connection
        # here; it reads the disk, which no late event can contradict by reordering).
        batch.gone_at = await tombstones_for(uow, collection.uuid, changes, state)
    if move_window is not None and move_window > timedelta(0):
        await batch.load_move_origins(changes, move_window)
    for change in changes:
        if isinstance(change, FilePresent):
            await batch.present(change)
        elif isinstance(change, FileGone):
            await batch.gone(change)
        else:
            await batch.moved(change)
    return batch


async def tombstones_for(
    uow: UnitOfWork, collection_uuid: str, changes: Sequence[Change], state: Mapping[str, Stored]
) -> dict[str, datetime]:
    """The tombstones of the keys a present observation may create an asset at: keys with no
    asset, observed at a known time. One read, and none at all when every key has an asset
    or no observation carries a time."""
    wanted = [
        change.obs.canonical_key
        for change in changes
        if not isinstance(change, FileGone)
        and change.obs.observed_at is not None
        and change.obs.canonical_key not in state
    ]
    if not wanted:
        return {}
    return await uow.tombstones.for_keys(collection_uuid, wanted)


def _may_write(fp: Stored, changes: Sequence[Change], checksum: str) -> bool:
    """Cheap pre-check: anything but an unchanged, same-stat present file may be rewritten."""
    if fp.is_deleted or fp.enricher_checksum != checksum:
        return True
    for change in changes:
        if not isinstance(change, FilePresent):
            return True
        if (change.obs.size, change.obs.mtime_ns) != (fp.size, fp.mtime_ns):
            return True
    return False


def _changes_by_key(changes: Sequence[Change]) -> dict[str, list[Change]]:
    by_key: dict[str, list[Change]] = {}
    for change in changes:
        if isinstance(change, FilePresent):
            by_key.setdefault(change.obs.canonical_key, []).append(change)
        elif isinstance(change, FileGone):
            by_key.setdefault(change.canonical_key, []).append(change)
        else:
            by_key.setdefault(change.from_key, []).append(change)
            by_key.setdefault(change.obs.canonical_key, []).append(change)
    return by_key


class Decided:
    """The in-memory state of one apply: what each key holds now, and what to write
    (`finish` writes it and returns the outcome)."""

    def __init__(
        self,
        uow: UnitOfWork,
        collection: Collection,
        checksum: str,
        state: dict[str, Stored],
        now: datetime,
        run_uuid: str | None,
        describe: Describe | None,
    ) -> None:
        self.uow = uow
        self.collection = collection
        self.checksum = checksum
        self.state = state
        self.now = now
        self.run_uuid = run_uuid
        self.describe = describe
        self.outcome = ApplyOutcome()
        self.to_insert: dict[str, Asset] = {}
        self.to_update: dict[str, Asset] = {}
        self.history: list[HistoryEntry] = []
        self.vacated: set[str] = set()  # keys a move left empty
        self.rekeyed: set[str] = set()  # uuids of assets a move gave another key
        # Created or updated (content, enrichers, a file come back): each gets an enrich job.
        self.to_enrich: dict[str, Asset] = {}
        # Approved assets this apply withdraws (as they were before, why, what changed): an
        # `auto_revoke` row each, written with the change. Empty on the usual path.
        self.revoked: dict[str, tuple[Asset, RevocationReason, str]] = {}
        # Keys with no asset: when their file was last seen gone (read with the batch, and
        # what this batch buries), and the tombstones to write.
        self.gone_at: dict[str, datetime] = {}
        self.buried: list[Tombstone] = []
        # Move inference: soft-deleted assets by sha256 (loaded, and deleted in this batch).
        self.move_window: timedelta | None = None
        self.move_origins: dict[str, list[Asset]] = {}
        # structlog filters by level only at the end of its pipeline: skip the call entirely.
        self.debug = logging.getLogger(__name__).isEnabledFor(logging.DEBUG)

    async def full(self, stored: Stored) -> Asset:
        if isinstance(stored, Asset):
            return stored
        asset = await self.uow.assets.get_by_uuid(stored.uuid)
        if asset is None:  # pragma: no cover - the row was read in this transaction
            raise LookupError(f"asset {stored.uuid} vanished inside the transaction")
        return asset

    def described(self, obs: FileFacts) -> FileFacts:
        if self.describe is not None and not obs.tech_metadata:
            obs.tech_metadata = self.describe(obs)
        return obs

    def revoke(self, asset: Asset, reason: RevocationReason | None, note: str) -> None:
        if reason is not None and asset.uuid not in self.revoked:
            self.revoked[asset.uuid] = (replace(asset), reason, note)

    def keep(self, key: str, asset: Asset) -> None:
        self.state[key] = asset
        if asset.uuid not in self.to_insert:
            self.to_update[asset.uuid] = asset

    def record(
        self, key: str, decision: Decision, asset: Stored | None, event_id: str | None
    ) -> None:
        """Count the decision; a create, update, delete, move or stat refresh goes into the
        asset's history too (a plain skip does not: rescans would flood it)."""
        entry = AppliedDecision(
            key,
            decision.action,
            decision.reason,
            asset.uuid if asset is not None else None,
            event_id,
            decision.stale,
        )
        self.outcome.decisions.append(entry)
        if self.debug and len(self.outcome.decisions) <= ITEM_LOG_LIMIT:
            log.debug(
                "decision",
                collection=self.collection.name,
                canonical_key=key,
                decision=decision.action.value,
                reason=decision.reason,
                event_id=event_id,
            )
        writes = decision.action != Action.SKIP or decision.refresh_stat
        if asset is not None and writes:
            self.history.append(
                HistoryEntry(
                    asset.uuid,
                    decision.action.value,
                    decision.reason,
                    self.now,
                    event_id,
                    self.run_uuid,
                )
            )

    def skip(
        self,
        key: str,
        reason: str,
        event_id: str | None,
        *,
        stale: bool = False,
        asset: Stored | None = None,
    ) -> None:
        self.outcome.skipped += 1
        self.outcome.stale += stale
        self.record(key, Decision(Action.SKIP, reason, stale=stale), asset, event_id)

    async def load_move_origins(self, changes: Sequence[Change], window: timedelta) -> None:
        """The candidates of move inference for the whole batch, in one query: soft-deleted
        assets sharing the sha256 of a file observed at a key the catalog does not hold."""
        self.move_window = window
        wanted = {
            change.obs.sha256
            for change in changes
            if not isinstance(change, FileGone)
            and change.obs.sha256
            and change.obs.canonical_key not in self.state
        }
        if wanted:
            self.move_origins = await self.uow.assets.deleted_by_sha256(
                self.collection.uuid, wanted, deleted_since=deleted_since(self.now, window)
            )

    def move_origin(self, obs: FileFacts) -> Asset | None:
        """The soft-deleted asset a file observed at a new key was moved from, if the rule
        finds one (the same object as this batch's state holds, when it holds it)."""
        if self.move_window is None or not obs.sha256:
            return None
        candidates: list[Asset] = []
        for loaded in self.move_origins.get(obs.sha256, ()):
            held = self.state.get(loaded.canonical_key)
            if held is None and loaded.uuid in self.rekeyed:
                continue  # moved elsewhere earlier in this batch: this copy is out of date
            if held is not None and held.uuid != loaded.uuid:
                continue
            if isinstance(held, Asset):
                candidates.append(held)  # what this batch made of it (deleted here, restored)
            elif held is None or held.is_deleted:
                candidates.append(loaded)
        return infer_move(obs, candidates, now=self.now, window=self.move_window)

    async def moved_inferred(self, change: FilePresent, origin: Asset) -> None:
        """The asset deleted at `origin.canonical_key` follows its file to the new key, exactly
        as an explicit move: same uuid, history, trail and enrichment; the approval its deletion
        withdrew stays withdrawn (only an operator approves)."""
        obs = change.obs
        old_key = origin.canonical_key
        reason = inferred_move_reason(old_key, origin.deleted_at)
        enrichers_changed = origin.enricher_checksum != self.checksum
        gone_seen = origin.last_event_at  # when its deletion was observed
        move_asset(origin, self.described(obs), self.now)
        # The old key keeps the deletion's time, as a clean move's origin does: a late event
        # for it (an older create redelivered) stays stale.
        self.bury(tombstone_for(None, old_key, gone_seen, change.event_id))
        if enrichers_changed:
            # As any update: back to `new` and enriched again under the current enrichers.
            update_asset(origin, obs, self.checksum, self.now)
            self.to_enrich[origin.uuid] = origin
            self.outcome.changed_enricher += 1
            reason += "; enricher configuration changed"
        if self.state.get(old_key) is not None:
            self.state.pop(old_key)
        self.vacated.add(old_key)
        self.rekeyed.add(origin.uuid)
        self.keep(obs.canonical_key, origin)
        self.outcome.moved += 1
        self.outcome.moved_inferred += 1
        self.record(obs.canonical_key, Decision(Action.MOVE, reason), origin, change.event_id)

    async def present(self, change: FilePresent) -> None:
        obs = change.obs
        key = obs.canonical_key
        existing = self.state.get(key)
        gone_at = self.gone_at.get(key) if existing is None else None
        decision = decide(existing, obs, self.checksum, gone_at)
        if existing is None and not decision.stale:
            # Not stale against the key's tombstone: maybe a rename published as deleted +
            # created, whose asset follows the file.
            origin = self.move_origin(obs)
            if origin is not None:
                await self.moved_inferred(change, origin)
                return
        out = self.outcome
        if decision.action == Action.CREATE:
            asset = create_asset(self.collection.uuid, self.described(obs), self.checksum, self.now)
            self.to_insert[asset.uuid] = asset
            self.to_enrich[asset.uuid] = asset
            self.state[key] = asset
            out.created += 1
        elif decision.action == Action.UPDATE:
            assert existing is not None
            asset = await self.full(existing)
            self.revoke(
                asset,
                revocation_for_update(
                    asset.approved_for_broadcast,
                    content_changed=decision.content_changed,
                    enricher_changed=decision.enricher_changed,
                ),
                decision.reason,
            )
            update_asset(asset, self.described(obs), self.checksum, self.now)
            self.keep(key, asset)
            self.to_enrich[asset.uuid] = asset
            out.updated += 1
            out.changed_content += decision.content_changed
            out.changed_enricher += decision.enricher_changed
            out.restored += decision.restored
        elif decision.refresh_stat:
            assert existing is not None
            asset = await self.full(existing)
            refresh_stat(asset, obs)
            self.keep(key, asset)
            out.skipped += 1
            out.refreshed += 1
        else:
            out.skipped += 1
            out.stale += decision.stale
            self.record(key, decision, existing, change.event_id)
            return
        self.record(key, decision, asset, change.event_id)

    async def gone(self, change: FileGone) -> None:
        key = change.canonical_key
        existing = self.state.get(key)
        decision = decide_gone(existing, change.observed_at, change.reason)
        if decision.action == Action.SKIP:
            self.bury(tombstone_for(existing, key, change.observed_at, change.event_id))
            if existing is not None and existing.is_deleted and not decision.stale:
                await self.seen_gone_again(key, existing, change.observed_at)
            self.skip(
                key,
                decision.reason,
                change.event_id,
                stale=decision.stale,
                asset=existing,
            )
            return
        assert existing is not None
        asset = await self.full(existing)
        self.revoke(asset, revocation_for_delete(asset.approved_for_broadcast), decision.reason)
        mark_deleted(asset, self.now, change.observed_at)
        self.keep(key, asset)
        if self.move_window is not None and asset.sha256:
            # A file observed later in this batch with this content may be this one, moved.
            self.move_origins.setdefault(asset.sha256, []).append(asset)
        self.outcome.deleted += 1
        self.record(key, decision, asset, change.event_id)

    async def seen_gone_again(
        self, key: str, existing: Stored, observed_at: datetime | None
    ) -> None:
        """A deleted asset's file seen gone again, later (a move away applied after the
        deletion): the asset reflects that observation too, so an event for the key older than
        it (a creation from before the move, applied late by another consumer) is stale, here
        and wherever the asset goes next (an inferred move leaves this time as the tombstone)."""
        last = existing.last_event_at
        if observed_at is None or (last is not None and observed_at <= last):
            return
        asset = await self.full(existing)
        asset.last_event_at = observed_at
        self.keep(key, asset)

    async def moved(self, change: FileMoved) -> None:
        obs = change.obs
        source = self.state.get(change.from_key)
        verdict = decide_move(source, self.state.get(obs.canonical_key), obs)
        if verdict == MoveVerdict.SPLIT:
            # Unknown origin, other content, or some asset (even a soft-deleted one) already
            # holds the destination key: the origin is gone and the destination is present,
            # which creates, restores or updates the destination's asset.
            if source is not None and change.from_key != obs.canonical_key:
                await self.gone(
                    FileGone(change.from_key, "moved away", obs.observed_at, change.event_id)
                )
            elif source is None and change.from_key != obs.canonical_key:
                # The origin's create may come later (another consumer's batch): it is stale.
                self.bury(tombstone_for(None, change.from_key, obs.observed_at, change.event_id))
            await self.present(FilePresent(obs, change.event_id))
            return
        if verdict == MoveVerdict.STALE:
            self.skip(
                obs.canonical_key,
                "stale: move older than the asset's last event",
                change.event_id,
                stale=True,
            )
            return
        assert source is not None
        if is_stale(self.gone_at.get(obs.canonical_key), obs.observed_at):
            if not await self.moved_on_since(change, source):
                await self.moved_then_gone(change)
            return
        asset = await self.full(source)
        move_asset(asset, self.described(obs), self.now)
        self.state.pop(change.from_key, None)
        self.vacated.add(change.from_key)
        self.bury(tombstone_for(None, change.from_key, obs.observed_at, change.event_id))
        self.rekeyed.add(asset.uuid)
        self.keep(obs.canonical_key, asset)
        self.outcome.moved += 1
        self.record(
            obs.canonical_key,
            Decision(Action.MOVE, f"moved from {change.from_key}"),
            asset,
            change.event_id,
        )

    def bury(self, stone: Tombstone | None) -> None:
        """A key left with no asset remembers when its file went (see decisions.Tombstone)."""
        if stone is None:
            return
        held = self.gone_at.get(stone.canonical_key)
        if held is None or stone.observed_at > held:
            self.gone_at[stone.canonical_key] = stone.observed_at
        self.buried.append(stone)

    async def tombstone_event(self, key: str) -> str | None:
        """The event that left `key`'s newest tombstone (this batch's own first)."""
        mine = [t for t in self.buried if t.canonical_key == key]
        if mine:
            return max(mine, key=lambda t: t.observed_at).event_id
        return await self.uow.tombstones.event_of(self.collection.uuid, key)

    async def moved_on_since(self, change: FileMoved, source: Stored) -> bool:
        """A move (A to B) applied after the file's next move (B to C) had been: that one found
        no asset at B, so it made a new asset at C and left B a tombstone. When the asset at C
        is that very one (created by the event of B's tombstone, same content), it stands for
        this file: the asset at A follows the file to C, keeping its uuid, history and approval
        trail, and the stand-in is soft-deleted and parked on a key no file can have (its
        history says whose it was). True when done; False leaves the usual path (A's asset is
        soft-deleted: its file left B since)."""
        obs = change.obs
        if source.sha256 is None or source.is_deleted:
            return False
        event_id = await self.tombstone_event(obs.canonical_key)
        if event_id is None:
            return False
        made_here = {
            h.asset_uuid for h in self.history if h.event_id == event_id and h.decision == "create"
        }
        found = next((self.to_insert[u] for u in made_here if u in self.to_insert), None)
        if found is None:
            found = await self.uow.assets.created_by(self.collection.uuid, event_id, source.sha256)
        if found is None or found.uuid == source.uuid:
            return False
        held = self.state.get(found.canonical_key)
        if held is not None and held.uuid != found.uuid:
            return False
        stand_in = await self.full(held) if held is not None else found
        if stand_in.is_deleted or stand_in.sha256 != source.sha256:
            return False
        asset = await self.full(source)
        key = stand_in.canonical_key
        facts = FileFacts(
            key,
            stand_in.path,
            stand_in.size,
            stand_in.mtime_ns,
            sha256=stand_in.sha256,
            xxh128=stand_in.xxh128,
            observed_at=stand_in.last_event_at,
            tech_metadata=dict(stand_in.tech_metadata),
            neighbors=list(stand_in.neighbors),
        )
        note = f"moves applied out of order: {change.from_key} -> {obs.canonical_key} -> {key}"
        self.revoke(stand_in, revocation_for_delete(stand_in.approved_for_broadcast), note)
        mark_deleted(stand_in, self.now)
        stand_in.canonical_key = f"{PARKED_KEY_PREFIX}{stand_in.uuid}"
        self.state.pop(key, None)
        if stand_in.uuid not in self.to_insert:  # made by this batch: inserted parked
            self.rekeyed.add(stand_in.uuid)
            self.to_update[stand_in.uuid] = stand_in
        self.outcome.deleted += 1
        self.record(
            key,
            Decision(Action.DELETE, f"the same file as asset {asset.uuid} ({note}): merged"),
            stand_in,
            change.event_id,
        )
        move_asset(asset, facts, self.now)
        self.state.pop(change.from_key, None)
        self.vacated.add(change.from_key)
        self.bury(tombstone_for(None, change.from_key, obs.observed_at, change.event_id))
        self.rekeyed.add(asset.uuid)
        self.keep(key, asset)
        self.outcome.moved += 1
        self.record(key, Decision(Action.MOVE, f"moved from {change.from_key} ({note})"), asset,
                    change.event_id)  # fmt: skip
        return True

    async def moved_then_gone(self, change: FileMoved) -> None:
        """A move whose destination was deleted after it (that deletion applied first, by another
        consumer): the file is gone, so its asset is soft-deleted where it is."""
        await self.gone(
            FileGone(
                change.from_key,
                f"moved to {change.obs.canonical_key}, deleted there since",
                change.obs.observed_at,
                change.event_id,
            )
        )

    async def finish(self, *, write: bool) -> ApplyOutcome:
        out = self.outcome
        if len(out.decisions) > ITEM_LOG_LIMIT:
            log.debug(
                "further per-item decisions not logged",
                collection=self.collection.name,
                not_logged=len(out.decisions) - ITEM_LOG_LIMIT,
            )
        out.touched = dict.fromkeys(self.vacated - self.state.keys())
        for key, stored in self.state.items():
            out.touched[key] = None if stored.is_deleted else stored.sha256
        if write:
            await self.attach_items()
            updates = list(self.to_update.values())
            parked = [
                replace(a, canonical_key=f"{PARKED_KEY_PREFIX}{a.uuid}")
                for a in updates
                if a.uuid in self.rekeyed
            ]
            if parked:
                # Moves in one batch may hand keys along a chain or a cycle (a→tmp, b→a, tmp→b):
                # in whatever order the rows are written, one would take a key another still
                # holds. Parking every moved asset on a key no file can have first frees them all.
                await self.uow.assets.update_many(parked)
            # Updates before inserts: a move frees its old key before a new asset may take it.
            await self.uow.assets.update_many(updates)
            await self.uow.assets.add_many(list(self.to_insert.values()))
            await self.uow.history.add_many(self.history)
            if self.buried:
                await self.uow.tombstones.put_many(self.collection.uuid, self.buried, self.now)
            await self.write_revocations()
            await self.queue_jobs()
        return out

    async def attach_items(self) -> None:
        """Each created, updated or moved asset to the media item its folders point to (items
        made on demand, in bulk, before the assets that refer to them are written). An asset
        nothing describes keeps its item; a deleted one keeps it too (the item shows it gone)."""
        wanted: dict[str, ItemKey | None] = {}
        assets = {**self.to_update, **self.to_insert}
        for uuid in (*self.to_enrich, *self.rekeyed):
            asset = assets.get(uuid)
            if asset is None or asset.is_deleted or not asset.tech_metadata:
                continue
            wanted[uuid] = key_of_asset(
                asset.canonical_key,
                asset.tech_metadata,
                collection_media_type=self.collection.media_type,
                audio_only=self.collection.audio_only,
            )
        if not wanted:
            return
        for uuid, item_id in (
            await attach_keys(self.uow, self.collection, wanted, self.now)
        ).items():
            assets[uuid].media_item_id = item_id

    async def write_revocations(self) -> None:
        """The trail's `auto_revoke` rows, in bulk: one read of the approvals they withdraw."""
        if not self.revoked:
            return
        approved = await self.uow.approvals.last_approvals(list(self.revoked))
        await self.uow.approvals.add_many(
            [
                auto_revocation(approved.get(uuid), before, reason, self.now, note)
                for uuid, (before, reason, note) in self.revoked.items()
            ]
        )

    async def queue_jobs(self) -> None:
        """Enrich jobs in the same transaction as the assets they are for, so none is lost; in
        bulk, and not at all for a collection without enrichers (nothing could run)."""
        if not self.to_enrich or not enriches(self.collection):
            return
        live = [a for a in self.to_enrich.values() if not a.is_deleted]
        changed = [a.uuid for a in live if a.uuid not in self.to_insert]
        if changed:
            # A pending job of the old content would only be discarded: settle it now.
            await self.uow.jobs.supersede_pending(changed, self.now)
        await self.uow.jobs.add_many([queue_for(a, self.now) for a in live])
