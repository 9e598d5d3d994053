"""Value records the catalog keeps beside assets: what change detection reads of an asset, a
decision in an asset's history, and an ingest run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class AssetFingerprint:
    """The columns change detection needs, without the JSON columns (cheap for 100k rows)."""

    uuid: str
    canonical_key: str
    size: int
    mtime_ns: int
    sha256: str | None
    enricher_checksum: str
    is_deleted: bool
    last_event_at: datetime | None


class StatEntry(NamedTuple):
    """What a rescan compares without reading a file (a tuple: 100,000 of them are built)."""

    size: int
    mtime_ns: int
    is_deleted: bool
    enrichers_same: bool


@dataclass(slots=True)
class IngestRun:
    uuid: str
    kind: str
    started_at: datetime
    status: str = "running"
    source_uuid: str | None = None
    collection_uuid: str | None = None
    scope: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    finished_at: datetime | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    asset_uuid: str
    decision: str
    reason: str
    time: datetime
    event_id: str | None = None
    run_uuid: str | None = None
