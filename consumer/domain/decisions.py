"""The one decision: given what the catalog holds and what was observed, what happens.

Seed 001's matrix, for an observation of a present file:

| catalog holds            | content   | enrichers | action | note                               |
|--------------------------|-----------|-----------|--------|------------------------------------|
| nothing                  | -         | -         | create | starts `new`, unapproved           |
| a deleted asset          | any       | any       | update | the file came back                 |
| the asset                | same      | same      | skip   | stat refreshed if only mtime moved |
| the asset                | changed   | same      | update | back to `new`, unapproved          |
| the asset                | same      | changed   | update | back to `new`, unapproved          |
| the asset                | changed   | changed   | update | back to `new`, unapproved          |

Whatever the row, an observation older than the asset's `last_event_at` is skipped as stale.
For a key that holds no asset the guard compares with the key's *tombstone* instead: the time
its file was last seen gone (a deletion or a move away, applied before the creation it follows
when competing consumers commit one file's events out of order). A present observation older
than the tombstone is stale; a newer one creates the asset and the tombstone no longer matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from consumer.domain.assets import FileFacts
from consumer.domain.signatures import content_changed, stat_matches


class StoredContent(Protocol):
    """What the decision needs to know about a cataloged asset (an Asset, or a light row)."""

    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def enricher_checksum(self) -> str: ...
    @property
    def is_deleted(self) -> bool: ...
    @property
    def last_event_at(self) -> datetime | None: ...


UNCHANGED_REASON = "unchanged: same size and mtime"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    DELETE = "delete"
    MOVE = "move"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str
    content_changed: bool = False
    enricher_changed: bool = False
    refresh_stat: bool = False
    restored: bool = False
    stale: bool = False


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A key that holds no asset was seen gone at `observed_at` (by event `event_id`)."""

    canonical_key: str
    observed_at: datetime
    event_id: str | None = None


def is_stale(last_event_at: datetime | None, observed_at: datetime | None) -> bool:
    """An observation older than what the asset already reflects must not win: a replay or a
    late redelivery cannot roll the catalog back."""
    return last_event_at is not None and observed_at is not None and observed_at < last_event_at


def unchanged(
    stored_size: int,
    stored_mtime_ns: int,
    size: int,
    mtime_ns: int,
    *,
    is_deleted: bool,
    enrichers_same: bool,
) -> bool:
    """The common case, decided without reading the file: a present asset whose stat and
    enricher configuration are what the catalog holds is skipped."""
    return (
        not is_deleted
        and enrichers_same
        and stat_matches(stored_size, stored_mtime_ns, size, mtime_ns)
    )


def decide(
    existing: StoredContent | None,
    obs: FileFacts,
    enricher_checksum: str,
    gone_at: datetime | None = None,
) -> Decision:
    """Create, update or skip, with the reason an operator will read in the asset's history.

    `gone_at` is the key's tombstone time, read only when the key holds no asset."""
    if existing is None:
        if is_stale(gone_at, obs.observed_at):
            return stale_against_tombstone(obs.observed_at, gone_at)
        return Decision(Action.CREATE, "new file: not in the catalog")
    if is_stale(existing.last_event_at, obs.observed_at):
        return Decision(
            Action.SKIP,
            f"stale: observed {obs.observed_at:%Y-%m-%dT%H:%M:%S.%fZ}, the asset already "
            f"reflects {existing.last_event_at:%Y-%m-%dT%H:%M:%S.%fZ}",
            stale=True,
        )

    enrichers_changed = existing.enricher_checksum != enricher_checksum
    # A hash, when both sides have one, outranks the stat: same size and mtime with other bytes
    # (a rewrite within the mtime granularity) is still a change.
    hashes_differ = bool(obs.sha256 and existing.sha256 and obs.sha256 != existing.sha256)
    if not hashes_differ and unchanged(
        existing.size,
        existing.mtime_ns,
        obs.size,
        obs.mtime_ns,
        is_deleted=existing.is_deleted,
        enrichers_same=not enrichers_changed,
    ):
        return Decision(Action.SKIP, UNCHANGED_REASON)
    changed = content_changed(
        stored_sha256=existing.sha256,
        stored_size=existing.size,
        stored_mtime_ns=existing.mtime_ns,
        sha256=obs.sha256,
        size=obs.size,
        mtime_ns=obs.mtime_ns,
    )

    if existing.is_deleted:
        what = "with changed content" if changed else "with the same content"
        return Decision(
            Action.UPDATE,
            f"file returned after deletion {what}",
            content_changed=changed,
            enricher_changed=enrichers_changed,
            restored=True,
        )
    if not changed and not enrichers_changed:
        return Decision(
            Action.SKIP,
            "unchanged: same sha256 under a new mtime (stat refreshed)",
            refresh_stat=True,
        )
    reasons: list[str] = []
    if changed:
        if existing.sha256 and obs.sha256:
            reasons.append("content changed (sha256 differs)")
        else:
            reasons.append("content changed (size or mtime differs)")
    if enrichers_changed:
        reasons.append("enricher configuration changed")
    return Decision(
        Action.UPDATE,
        " and ".join(reasons),
        content_changed=changed,
        enricher_changed=enrichers_changed,
    )


def stale_against_tombstone(observed_at: datetime | None, gone_at: datetime | None) -> Decision:
    return Decision(
        Action.SKIP,
        f"stale: observed {observed_at:%Y-%m-%dT%H:%M:%S.%fZ}, the file was already gone at "
        f"{gone_at:%Y-%m-%dT%H:%M:%S.%fZ}",
        stale=True,
    )


def tombstone_for(
    existing: StoredContent | None, key: str, observed_at: datetime | None, event_id: str | None
) -> Tombstone | None:
    """What a file gone from `key` leaves when no asset records it: a tombstone (unless the
    observation has no time to compare with)."""
    if existing is not None or observed_at is None:
        return None
    return Tombstone(key, observed_at, event_id)


def decide_gone(
    existing: StoredContent | None, observed_at: datetime | None, reason: str
) -> Decision:
    """A file no longer at its key: soft-delete its asset, unless there is nothing to delete or
    the deletion is older than what the asset already reflects."""
    if existing is None:
        return Decision(Action.SKIP, "deleted file was never cataloged")
    if is_stale(existing.last_event_at, observed_at):
        return Decision(
            Action.SKIP, "stale: deletion older than the asset's last event", stale=True
        )
    if existing.is_deleted:
        return Decision(Action.SKIP, "already deleted")
    return Decision(Action.DELETE, reason)


class MoveVerdict(StrEnum):
    MOVE = "move"  # the asset follows the file to its new key
    STALE = "stale"  # older than the asset's last event: nothing happens
    SPLIT = "split"  # not a clean move: the origin is gone and the destination is present


def decide_move(
    source: StoredContent | None, target: StoredContent | None, obs: FileFacts
) -> MoveVerdict:
    """A file moved inside one collection keeps its asset when the move is clean: the origin
    holds a live asset, nothing (not even a soft-deleted asset) holds the destination, and the
    content is the same as far as both sides know."""
    clean = (
        source is not None
        and not source.is_deleted
        and target is None
        and (source.sha256 is None or obs.sha256 is None or source.sha256 == obs.sha256)
    )
    if not clean:
        return MoveVerdict.SPLIT
    assert source is not None
    if is_stale(source.last_event_at, obs.observed_at):
        return MoveVerdict.STALE
    return MoveVerdict.MOVE
