"""A move the producer could not see: a file deleted at one key and created at another.

The ingestor publishes `moved` when inotify pairs the two halves of a rename. Some renames reach
the catalog as `deleted` + `created` instead (a file moved into a folder not watched yet, a rename
while the ingestor was down, ...). DESIGN says a move inside a collection keeps the asset, so the
catalog infers it: a file observed at a key the catalog does not hold, whose sha256 is that of an
asset of the same collection soft-deleted a moment ago, is that asset, moved.

Only this order is inferred (the deletion applied first). The other order (the new key created,
then the old one deleted) would need two assets merged into one, and duplicates are never merged
automatically: that stays a new asset beside a deleted one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from consumer.domain.assets import FileFacts
from consumer.domain.decisions import is_stale

# The producer's splits happen within seconds (a pairing window of 0.5 s, a restart's reconcile
# publishing both halves at once); ten minutes covers a consumer that applies the two halves in
# different batches after a backlog, while a file deleted and put back elsewhere much later is
# plainly a new file. 0 turns the inference off.
DEFAULT_MOVE_WINDOW = timedelta(minutes=10)


class DeletedCandidate(Protocol):
    """What the rule needs to know about a soft-deleted asset (an Asset)."""

    @property
    def uuid(self) -> str: ...
    @property
    def canonical_key(self) -> str: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def is_deleted(self) -> bool: ...
    @property
    def deleted_at(self) -> datetime | None: ...
    @property
    def last_event_at(self) -> datetime | None: ...


def deleted_since(now: datetime, window: timedelta) -> datetime:
    """The oldest deletion (catalog clock) a candidate may have."""
    return now - window


def is_candidate(
    candidate: DeletedCandidate, obs: FileFacts, *, now: datetime, window: timedelta
) -> bool:
    """Whether `candidate` may be the asset of the file observed at `obs.canonical_key`.

    Same content (sha256 on both sides), still deleted, deleted within `window` by the catalog's
    clock (when it was applied) and by the producer's (when each half was observed), and not
    newer than the observation: the stale guard holds here too, so a replayed creation cannot
    pull an asset away from what it reflects since.
    """
    if window <= timedelta(0) or not obs.sha256 or candidate.sha256 != obs.sha256:
        return False
    if not candidate.is_deleted or candidate.deleted_at is None:
        return False
    if candidate.canonical_key == obs.canonical_key:
        return False  # the same key is the "file returned" path, not a move
    if now - candidate.deleted_at > window:
        return False
    if is_stale(candidate.last_event_at, obs.observed_at):
        return False
    gone_at = candidate.last_event_at
    return gone_at is None or obs.observed_at is None or obs.observed_at - gone_at <= window


C = TypeVar("C", bound=DeletedCandidate)


def infer_move(
    obs: FileFacts, candidates: Iterable[C], *, now: datetime, window: timedelta
) -> C | None:
    """The soft-deleted asset the file at `obs.canonical_key` was moved from, if any: the most
    recently deleted of the candidates. Live assets with the same sha256 are duplicates, not
    origins, and are never considered."""
    eligible = [c for c in candidates if is_candidate(c, obs, now=now, window=window)]
    if not eligible:
        return None
    return max(eligible, key=lambda c: (c.deleted_at, c.last_event_at or c.deleted_at, c.uuid))


def inferred_move_reason(old_key: str, deleted_at: datetime | None) -> str:
    """The history line of an inferred move."""
    when = f" {deleted_at:%Y-%m-%dT%H:%M:%SZ}" if deleted_at is not None else ""
    return f"moved (inferred): deleted at {old_key}{when}, same sha256"
