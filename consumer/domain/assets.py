"""The asset: one file of one collection, with its fingerprint and lifecycle.

These functions are the only way the catalog changes an asset; each one keeps the lifecycle
invariants (never created ready, an update never leaves it ready, approved implies ready).
"""

from __future__ import annotations

import os
import uuid as uuidlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from consumer.domain.lifecycle import (
    INITIAL_STATE,
    AssetState,
    IllegalTransitionError,
    check_initial,
    may_be_approved,
    state_after_update,
    transition,
)
from consumer.domain.signatures import content_signature


@dataclass(slots=True)
class FileFacts:
    """What an importer or a file event says about one file right now."""

    canonical_key: str
    path: str
    size: int
    mtime_ns: int
    sha256: str | None = None
    xxh128: str | None = None
    observed_at: datetime | None = None
    tech_metadata: dict[str, Any] = field(default_factory=dict)
    neighbors: list[str] = field(default_factory=list)

    @property
    def signature(self) -> str:
        return content_signature(self.sha256, self.size, self.mtime_ns)


@dataclass(slots=True)
class Asset:
    uuid: str
    collection_uuid: str
    canonical_key: str
    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    xxh128: str | None
    content_signature: str
    enricher_checksum: str
    state: AssetState
    approved_for_broadcast: bool
    is_deleted: bool
    deleted_at: datetime | None
    tech_metadata: dict[str, Any]
    neighbors: list[str]
    last_event_at: datetime | None
    discovered_at: datetime
    created_at: datetime
    updated_at: datetime
    # The media item (movie, TV season) it belongs to (consumer.domain.media_items).
    media_item_id: str | None = None


_UUID_BATCH = 256
_uuid_pool: deque[str] = deque()
# A forked child must not hand out the parent's pre-drawn UUIDs a second time.
os.register_at_fork(after_in_child=_uuid_pool.clear)


def new_uuid() -> str:
    """A random (version 4) UUID, drawn from the OS in batches.

    `uuid4()` asks the kernel once per call, and each call gives up the GIL, which the hashing
    threads then hold: a 100,000-file first ingest spent ~7% of its time getting it back
    (bench/rescan.py). One draw per 256 keeps the same randomness source and drops that wait.
    """
    try:
        return _uuid_pool.popleft()
    except IndexError:
        raw = os.urandom(16 * _UUID_BATCH)
        _uuid_pool.extend(
            str(uuidlib.UUID(bytes=raw[i : i + 16], version=4)) for i in range(0, len(raw), 16)
        )
        return _uuid_pool.popleft()


def create_asset(
    collection_uuid: str,
    obs: FileFacts,
    enricher_checksum: str,
    now: datetime,
    *,
    uuid_factory: Callable[[], str] = new_uuid,
) -> Asset:
    """A new asset always starts `new` and unapproved."""
    return Asset(
        uuid=uuid_factory(),
        collection_uuid=collection_uuid,
        canonical_key=obs.canonical_key,
        path=obs.path,
        size=obs.size,
        mtime_ns=obs.mtime_ns,
        sha256=obs.sha256,
        xxh128=obs.xxh128,
        content_signature=obs.signature,
        enricher_checksum=enricher_checksum,
        state=check_initial(INITIAL_STATE),
        approved_for_broadcast=False,
        is_deleted=False,
        deleted_at=None,
        tech_metadata=dict(obs.tech_metadata),
        neighbors=list(obs.neighbors),
        last_event_at=obs.observed_at,
        discovered_at=now,
        created_at=now,
        updated_at=now,
    )


def _take_content(asset: Asset, obs: FileFacts) -> None:
    asset.path = obs.path
    asset.size = obs.size
    asset.mtime_ns = obs.mtime_ns
    # A stat-only observation does not erase a hash we already had for the same content.
    if obs.sha256 is not None or asset.sha256 is None:
        asset.sha256 = obs.sha256
        asset.xxh128 = obs.xxh128
    asset.content_signature = content_signature(asset.sha256, asset.size, asset.mtime_ns)
    if obs.tech_metadata:
        asset.tech_metadata = dict(obs.tech_metadata)
    asset.neighbors = list(obs.neighbors)
    if obs.observed_at is not None:
        asset.last_event_at = obs.observed_at


def update_asset(asset: Asset, obs: FileFacts, enricher_checksum: str, now: datetime) -> None:
    """Content or enrichers changed: refresh in place, back to `new`, approval withdrawn."""
    _take_content(asset, obs)
    asset.enricher_checksum = enricher_checksum
    asset.state = state_after_update(asset.state)
    asset.approved_for_broadcast = False
    asset.is_deleted = False
    asset.deleted_at = None
    asset.updated_at = now


def refresh_stat(asset: Asset, obs: FileFacts) -> None:
    """Same content, new stat (a touch, a copy that kept the bytes): remember the new stat so the
    next scan skips it without reading, but it is not an update."""
    _take_content(asset, obs)


def mark_deleted(asset: Asset, now: datetime, observed_at: datetime | None = None) -> None:
    """The file is gone: soft delete, and nothing deleted stays approved for broadcast."""
    asset.is_deleted = True
    asset.deleted_at = now
    asset.approved_for_broadcast = False
    if observed_at is not None:
        asset.last_event_at = observed_at


def move_asset(asset: Asset, obs: FileFacts, now: datetime) -> None:
    """Same content under a new key: the asset (and its approval) follows the file."""
    asset.canonical_key = obs.canonical_key
    _take_content(asset, obs)
    asset.is_deleted = False
    asset.deleted_at = None
    asset.updated_at = now


def set_state(asset: Asset, target: AssetState, now: datetime) -> None:
    asset.state = transition(asset.state, target)
    if not may_be_approved(asset.state):
        asset.approved_for_broadcast = False
    asset.updated_at = now


def approve(asset: Asset, now: datetime) -> None:
    if not may_be_approved(asset.state) or asset.is_deleted:
        raise IllegalTransitionError(
            f"only a ready, present asset can be approved (state {asset.state})"
        )
    asset.approved_for_broadcast = True
    asset.updated_at = now
