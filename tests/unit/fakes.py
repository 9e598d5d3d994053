"""An in-memory catalog for unit tests of the service layer: the ports of
`consumer.service_layer.unit_of_work`, without SQLite.

It mirrors the SQL adapter (`consumer.adapters.db`) where the service layer can tell:

- a unit of work is a transaction: it works on a private copy of the catalog, taken when it
  begins (on enter, or at `begin_write()` when `deferred`); `commit()` publishes the copy and
  leaving without it throws the copy away, so a test can assert that a failure wrote nothing. In
  a dry run, and for a read-only unit of work, `commit()` is a rollback;
- reads return copies and writes store copies, as rows do: mutating an `Asset` changes nothing
  until it goes through `update`/`update_many`;
- the schema's constraints hold: primary keys, UNIQUE(collection_uuid, canonical_key), the
  case-insensitive name rules, NOT NULL timestamps, the foreign keys (with their cascades on
  remove), the run status and hash mode CHECKs, and history's UNIQUE(asset_uuid, event_id),
  which `add_many` ignores (INSERT OR IGNORE; NULL event ids never collide, as in SQL). A
  violation raises `FakeIntegrityError`;
- orderings the SQL queries define (names case-insensitively, assets by collection then key,
  runs newest first, history and run logs in insertion order) are kept.

SQLite serialises writers, so two writers can never overlap there; here an overlap would lose an
update silently, so committing a writer whose catalog changed since it began raises
`FakeConflictError`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from consumer.domain.approvals import Approval, ApprovalAction, EnrichmentSnapshot
from consumer.domain.assets import Asset
from consumer.domain.catalog import HASH_MODES, Collection, Source
from consumer.domain.decisions import Tombstone
from consumer.domain.jobs import ENRICH, SUPERSEDED, Job, JobLog, JobStatus
from consumer.domain.media_items import (
    ItemAssetRow,
    ItemTally,
    MediaItem,
    asset_category,
    progress_of,
)
from consumer.domain.records import AssetFingerprint, HistoryEntry, IngestRun, StatEntry
from consumer.service_layer.unit_of_work import (
    AssetStore,
    Catalog,
    CollectionStore,
    HistoryStore,
    RunStore,
    SourceStore,
    UnitOfWork,
)

# The CHECK constraint on ingest_runs.status (consumer/adapters/db/tables.py; a unit test keeps
# the two equal).
RUN_STATUSES = ("running", "success", "error")

T = TypeVar("T")
Named = TypeVar("Named", Source, Collection)


class FakeIntegrityError(Exception):
    """A write the SQL schema would refuse (what SQLAlchemy raises as IntegrityError)."""


class FakeConflictError(RuntimeError):
    """Two writers overlapped: SQLite would have serialised them, this fake cannot."""


def _copy(value: T) -> T:
    return copy.deepcopy(value)


@dataclass(slots=True)
class FakeState:
    """Every table of the catalog, as plain dictionaries (insertion order = row id order)."""

    sources: dict[str, Source] = field(default_factory=dict)
    collections: dict[str, Collection] = field(default_factory=dict)
    assets: dict[str, Asset] = field(default_factory=dict)
    runs: dict[str, IngestRun] = field(default_factory=dict)
    run_logs: list[dict[str, Any]] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    next_log_id: int = 1
    jobs: dict[str, Job] = field(default_factory=dict)
    job_logs: list[JobLog] = field(default_factory=list)
    enrichment_results: list[dict[str, Any]] = field(default_factory=list)
    qc_results: list[dict[str, Any]] = field(default_factory=list)
    promoted: dict[str, dict[str, Any]] = field(default_factory=dict)
    approvals: list[Approval] = field(default_factory=list)
    media_items: dict[str, MediaItem] = field(default_factory=dict)
    tombstones: dict[tuple[str, str], tuple[Tombstone, datetime]] = field(default_factory=dict)

    def snapshot(self) -> FakeState:
        return _copy(self)

    # --- constraint helpers shared by the stores ------------------------------------------

    def asset_at(self, collection_uuid: str, canonical_key: str) -> Asset | None:
        for asset in self.assets.values():
            if asset.collection_uuid == collection_uuid and asset.canonical_key == canonical_key:
                return asset
        return None

    def check_source(self, source: Source) -> None:
        _require_timestamps("sources", source.created_at, source.updated_at)
        for other in self.sources.values():
            if other.uuid == source.uuid:
                continue
            if other.name.lower() == source.name.lower():
                raise FakeIntegrityError(f"UNIQUE constraint failed: sources.name {source.name}")
            if source.external_id is not None and other.external_id == source.external_id:
                raise FakeIntegrityError("UNIQUE constraint failed: sources.external_id")

    def insert_source(self, source: Source) -> None:
        if source.uuid in self.sources:
            raise FakeIntegrityError(f"UNIQUE constraint failed: sources.uuid {source.uuid}")
        self.check_source(source)
        self.sources[source.uuid] = _copy(source)

    def check_collection(self, collection: Collection) -> None:
        _require_timestamps("collections", collection.created_at, collection.updated_at)
        if collection.hash_mode not in HASH_MODES:
            raise FakeIntegrityError(f"CHECK constraint failed: hash_mode {collection.hash_mode}")
        if collection.source_uuid not in self.sources:
            raise FakeIntegrityError(
                f"FOREIGN KEY constraint failed: source {collection.source_uuid}"
            )
        for other in self.collections.values():
            if other.uuid == collection.uuid:
                continue
            if (
                other.source_uuid == collection.source_uuid
                and other.name.lower() == collection.name.lower()
            ):
                raise FakeIntegrityError(
                    "UNIQUE constraint failed: collections.source_uuid, collections.name"
                )
            if collection.external_id is not None and other.external_id == collection.external_id:
                raise FakeIntegrityError("UNIQUE constraint failed: collections.external_id")

    def insert_collection(self, collection: Collection) -> None:
        if collection.uuid in self.collections:
            raise FakeIntegrityError(
                f"UNIQUE constraint failed: collections.uuid {collection.uuid}"
            )
        self.check_collection(collection)
        self.collections[collection.uuid] = _copy(collection)

    def check_approval_record(self, asset: Asset) -> None:
        """Migration 0007's trigger: approval only with an `approve` row of this content, the
        asset's latest in the trail."""
        rows = [a for a in self.approvals if a.asset_uuid == asset.uuid]
        last = rows[-1] if rows else None
        if (
            last is None
            or last.action != ApprovalAction.APPROVE
            or last.content_signature != asset.content_signature
        ):
            raise FakeIntegrityError("an asset cannot be approved without an approval record")

    def remove_assets(self, doomed: set[str]) -> None:
        """ON DELETE CASCADE from assets to asset_history."""
        for asset_uuid in doomed:
            del self.assets[asset_uuid]
        self.history = [h for h in self.history if h.asset_uuid not in doomed]
        self.jobs = {u: j for u, j in self.jobs.items() if j.asset_uuid not in doomed}

    def remove_collections(self, doomed: set[str]) -> None:
        """ON DELETE CASCADE from collections to assets (and on to history)."""
        for collection_uuid in doomed:
            del self.collections[collection_uuid]
        self.media_items = {
            k: v for k, v in self.media_items.items() if v.collection_uuid not in doomed
        }
        self.remove_assets({a.uuid for a in self.assets.values() if a.collection_uuid in doomed})


def _require_timestamps(table: str, *values: datetime | None) -> None:
    if any(v is None for v in values):
        raise FakeIntegrityError(f"NOT NULL constraint failed: {table}.created_at/updated_at")


def _fingerprint(asset: Asset) -> AssetFingerprint:
    return AssetFingerprint(
        asset.uuid,
        asset.canonical_key,
        asset.size,
        asset.mtime_ns,
        asset.sha256,
        asset.enricher_checksum,
        asset.is_deleted,
        asset.last_event_at,
    )


def _signature(asset: Asset) -> str:
    """The line GNU find prints with `%s %T@ %P` (see AssetRepository.stat_signatures)."""
    seconds, nanos = divmod(asset.mtime_ns, 1_000_000_000)
    return f"{asset.size} {seconds}.{nanos:09d}0 {asset.canonical_key}"


class FakeAssetStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def _of(self, collection_uuid: str) -> list[Asset]:
        return [a for a in self._uow.read().assets.values() if a.collection_uuid == collection_uuid]

    async def get(self, collection_uuid: str, canonical_key: str) -> Asset | None:
        return _copy(self._uow.read().asset_at(collection_uuid, canonical_key))

    async def get_by_uuid(self, asset_uuid: str) -> Asset | None:
        return _copy(self._uow.read().assets.get(asset_uuid))

    async def find_by_uuid_prefix(self, prefix: str, limit: int = 2) -> list[Asset]:
        found = sorted(
            (a for a in self._uow.read().assets.values() if a.uuid.startswith(prefix)),
            key=lambda a: a.uuid,
        )
        return _copy(found[:limit])

    async def get_many(self, collection_uuid: str, keys: Iterable[str]) -> dict[str, Asset]:
        wanted = set(keys)
        return {
            a.canonical_key: _copy(a)
            for a in self._of(collection_uuid)
            if a.canonical_key in wanted
        }

    async def get_many_by_uuid(self, uuids: Iterable[str]) -> dict[str, Asset]:
        assets = self._uow.read().assets
        return {u: _copy(assets[u]) for u in dict.fromkeys(uuids) if u in assets}

    async def fingerprints(self, collection_uuid: str) -> dict[str, AssetFingerprint]:
        return {a.canonical_key: _fingerprint(a) for a in self._of(collection_uuid)}

    async def stat_index(
        self, collection_uuid: str, enricher_checksum: str
    ) -> dict[str, StatEntry]:
        return {
            a.canonical_key: StatEntry(
                a.size,
                a.mtime_ns,
                a.is_deleted,
                a.enricher_checksum == enricher_checksum,
            )
            for a in self._of(collection_uuid)
        }

    async def has_live(self, collection_uuid: str) -> bool:
        return any(not a.is_deleted for a in self._of(collection_uuid))

    async def stat_signatures(
        self, collection_uuid: str, enricher_checksum: str
    ) -> tuple[int, set[str]]:
        live = [a for a in self._of(collection_uuid) if not a.is_deleted]
        return len(live), {
            _signature(a)
            for a in live
            if a.enricher_checksum == enricher_checksum and a.mtime_ns >= 0
        }

    async def live_hashes(self, collection_uuid: str) -> dict[str, str | None]:
        return {a.canonical_key: a.sha256 for a in self._of(collection_uuid) if not a.is_deleted}

    async def fingerprints_for_keys(
        self, collection_uuid: str, keys: Iterable[str]
    ) -> dict[str, AssetFingerprint]:
        wanted = set(keys)
        return {
            a.canonical_key: _fingerprint(a)
            for a in self._of(collection_uuid)
            if a.canonical_key in wanted
        }

    async def keys_by_path(self, collection_uuid: str, paths: Iterable[str]) -> dict[str, str]:
        wanted = set(paths)
        return {
            a.path: a.canonical_key
            for a in self._of(collection_uuid)
            if a.path in wanted and not a.is_deleted
        }

    async def list_assets(
        self,
        *,
        collection_uuid: str | None = None,
        state: str | None = None,
        include_deleted: bool = True,
        limit: int | None = None,
        qc_failed: bool = False,
        qc_rule: str | None = None,
        video_codec: str | None = None,
        min_height: int | None = None,
    ) -> list[Asset]:
        promoted = self._uow.read().promoted

        def matches(a: Asset) -> bool:
            columns = promoted.get(a.uuid, {})
            failed = columns.get("qc_failed_rules") or []
            codec = columns.get("video_codec")
            height = columns.get("height")
            return (
                (not (qc_failed or qc_rule is not None) or bool(failed))
                and (qc_rule is None or qc_rule in failed)
                and (video_codec is None or (codec or "").lower() == video_codec.lower())
                and (min_height is None or (height is not None and height >= min_height))
            )

        found = sorted(
            (
                a
                for a in self._uow.read().assets.values()
                if (collection_uuid is None or a.collection_uuid == collection_uuid)
                and (state is None or a.state.value == state)
                and (include_deleted or not a.is_deleted)
                and matches(a)
            ),
            key=lambda a: (a.collection_uuid, a.canonical_key),
        )
        return _copy(found if limit is None else found[:limit])

    async def count(self, collection_uuid: str | None = None, *, live_only: bool = False) -> int:
        return sum(
            1
            for a in self._uow.read().assets.values()
            if (collection_uuid is None or a.collection_uuid == collection_uuid)
            and (not live_only or not a.is_deleted)
        )

    async def find_by_hash(
        self, collection_uuid: str, sha256: str, *, live_only: bool = True
    ) -> list[Asset]:
        found = [
            a
            for a in self._of(collection_uuid)
            if a.sha256 == sha256 and (not live_only or not a.is_deleted)
        ]
        return _copy(sorted(found, key=lambda a: a.canonical_key))

    async def deleted_by_sha256(
        self, collection_uuid: str, sha256s: Iterable[str], *, deleted_since: datetime
    ) -> dict[str, list[Asset]]:
        wanted = set(sha256s)
        found: dict[str, list[Asset]] = {}
        for a in self._of(collection_uuid):
            if (
                a.sha256 in wanted
                and a.is_deleted
                and a.deleted_at is not None
                and a.deleted_at >= deleted_since
            ):
                found.setdefault(a.sha256, []).extend(_copy([a]))
        return found

    async def created_by(self, collection_uuid: str, event_id: str, sha256: str) -> Asset | None:
        created = {
            h.asset_uuid
            for h in self._uow.read().history
            if h.event_id == event_id and h.decision == "create"
        }
        for a in self._of(collection_uuid):
            if a.uuid in created and a.sha256 == sha256 and not a.is_deleted:
                return _copy([a])[0]
        return None

    def _duplicates(self, collection_uuid: str) -> dict[str, list[Asset]]:
        by_hash: dict[str, list[Asset]] = {}
        for asset in sorted(self._of(collection_uuid), key=lambda a: a.canonical_key):
            if asset.sha256 is not None and not asset.is_deleted:
                by_hash.setdefault(asset.sha256, []).append(asset)
        return {sha: group for sha, group in sorted(by_hash.items()) if len(group) > 1}

    async def duplicate_groups(self, collection_uuid: str) -> dict[str, list[Asset]]:
        return _copy(self._duplicates(collection_uuid))

    async def duplicate_groups_everywhere(
        self, collection_uuid: str | None = None
    ) -> dict[str, list[Asset]]:
        by_hash: dict[str, list[Asset]] = {}
        everything = self._uow.read().assets.values()
        for asset in sorted(everything, key=lambda a: (a.collection_uuid, a.canonical_key)):
            if asset.sha256 is not None and not asset.is_deleted:
                by_hash.setdefault(asset.sha256, []).append(asset)
        return _copy(
            {
                sha: group
                for sha, group in sorted(by_hash.items())
                if len(group) > 1
                and (
                    collection_uuid is None
                    or any(a.collection_uuid == collection_uuid for a in group)
                )
            }
        )

    async def count_duplicate_candidates(self, collection_uuid: str) -> int:
        return sum(len(group) for group in self._duplicates(collection_uuid).values())

    async def add(self, asset: Asset) -> None:
        await self.add_many([asset])

    async def add_many(self, new_assets: Sequence[Asset]) -> None:
        state = self._uow.write()
        for asset in new_assets:
            if asset.uuid in state.assets:
                raise FakeIntegrityError(f"UNIQUE constraint failed: assets.uuid {asset.uuid}")
            if asset.collection_uuid not in state.collections:
                raise FakeIntegrityError(
                    f"FOREIGN KEY constraint failed: collection {asset.collection_uuid}"
                )
            if state.asset_at(asset.collection_uuid, asset.canonical_key) is not None:
                raise FakeIntegrityError(
                    "UNIQUE constraint failed: assets.collection_uuid, assets.canonical_key "
                    f"{asset.canonical_key!r}"
                )
            state.assets[asset.uuid] = _copy(asset)

    async def update(self, asset: Asset) -> None:
        await self.update_many([asset])

    async def update_many(self, changed: Sequence[Asset]) -> None:
        state = self._uow.write()
        for asset in changed:  # one UPDATE per row, in order, as executemany runs them
            stored = state.assets.get(asset.uuid)
            if stored is None:
                continue  # UPDATE ... WHERE uuid = ? matches nothing
            holder = state.asset_at(stored.collection_uuid, asset.canonical_key)
            if holder is not None and holder.uuid != asset.uuid:
                raise FakeIntegrityError(
                    "UNIQUE constraint failed: assets.collection_uuid, assets.canonical_key "
                    f"{asset.canonical_key!r}"
                )
            if asset.approved_for_broadcast and not stored.approved_for_broadcast:
                state.check_approval_record(asset)
            row = _copy(asset)
            # Never changed after creation (AssetRepository.update_many leaves them out).
            row.collection_uuid = stored.collection_uuid
            row.created_at = stored.created_at
            state.assets[asset.uuid] = row

    async def mark_deleted(self, asset_uuids: Sequence[str], now: datetime) -> int:
        state = self._uow.write()
        count = 0
        for asset_uuid in dict.fromkeys(asset_uuids):
            asset = state.assets.get(asset_uuid)
            if asset is not None and not asset.is_deleted:
                asset.is_deleted = True
                asset.deleted_at = now
                asset.approved_for_broadcast = False
                count += 1
        return count


def _find(items: Iterable[Named], selector: str) -> list[Named]:
    """By UUID, else by external id, else by name (case-insensitive), as the SQL `find`s do."""
    rows = list(items)
    for found in (
        [r for r in rows if r.uuid == selector],
        [r for r in rows if r.external_id == selector],
        [r for r in rows if r.name.lower() == selector.lower()],
    ):
        if found:
            return found
    return []


class FakeSourceStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def all(self) -> list[Source]:
        return _copy(sorted(self._uow.read().sources.values(), key=lambda s: s.name.lower()))

    async def get(self, source_uuid: str) -> Source | None:
        return _copy(self._uow.read().sources.get(source_uuid))

    async def find(self, selector: str) -> list[Source]:
        return _copy(_find(self._uow.read().sources.values(), selector))

    async def add(self, source: Source) -> None:
        self._uow.write().insert_source(source)

    async def update(self, source: Source) -> None:
        state = self._uow.write()
        stored = state.sources.get(source.uuid)
        if stored is None:
            return
        state.check_source(source)
        row = _copy(source)
        row.created_at = stored.created_at
        state.sources[source.uuid] = row

    async def remove(self, source_uuid: str) -> None:
        state = self._uow.write()
        if state.sources.pop(source_uuid, None) is not None:
            state.remove_collections(
                {c.uuid for c in state.collections.values() if c.source_uuid == source_uuid}
            )


class FakeCollectionStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def all(self, source_uuid: str | None = None) -> list[Collection]:
        found = [
            c
            for c in self._uow.read().collections.values()
            if source_uuid is None or c.source_uuid == source_uuid
        ]
        return _copy(sorted(found, key=lambda c: (c.name.lower(), c.uuid)))

    async def get(self, collection_uuid: str) -> Collection | None:
        return _copy(self._uow.read().collections.get(collection_uuid))

    async def find(self, selector: str) -> list[Collection]:
        return _copy(_find(self._uow.read().collections.values(), selector))

    async def add(self, collection: Collection) -> None:
        self._uow.write().insert_collection(collection)

    async def update(self, collection: Collection) -> None:
        state = self._uow.write()
        stored = state.collections.get(collection.uuid)
        if stored is None:
            return
        state.check_collection(collection)
        row = _copy(collection)
        row.created_at = stored.created_at
        state.collections[collection.uuid] = row

    async def set_last_ingest_time(self, collection_uuid: str, when: datetime) -> None:
        stored = self._uow.write().collections.get(collection_uuid)
        if stored is not None:
            stored.last_ingest_time = when

    async def remove(self, collection_uuid: str) -> None:
        state = self._uow.write()
        if collection_uuid in state.collections:
            state.remove_collections({collection_uuid})

    async def asset_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for asset in self._uow.read().assets.values():
            if not asset.is_deleted:
                counts[asset.collection_uuid] = counts.get(asset.collection_uuid, 0) + 1
        return counts


class FakeRunStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, run: IngestRun) -> None:
        state = self._uow.write()
        if run.uuid in state.runs:
            raise FakeIntegrityError(f"UNIQUE constraint failed: ingest_runs.uuid {run.uuid}")
        if run.status not in RUN_STATUSES:
            raise FakeIntegrityError(f"CHECK constraint failed: status {run.status!r}")
        state.runs[run.uuid] = _copy(run)

    async def finish(
        self,
        run_uuid: str,
        *,
        status: str,
        finished_at: datetime,
        stats: dict[str, Any],
        error: str | None = None,
    ) -> None:
        run = self._uow.write().runs.get(run_uuid)
        if run is None:
            return
        if status not in RUN_STATUSES:
            raise FakeIntegrityError(f"CHECK constraint failed: status {status!r}")
        run.status = status
        run.finished_at = finished_at
        run.stats = _copy(stats)
        run.error = error

    async def get(self, run_uuid: str) -> IngestRun | None:
        return _copy(self._uow.read().runs.get(run_uuid))

    async def recent(
        self, *, collection_uuid: str | None = None, limit: int = 10
    ) -> list[IngestRun]:
        found = [
            r
            for r in self._uow.read().runs.values()
            if collection_uuid is None or r.collection_uuid == collection_uuid
        ]
        return _copy(sorted(found, key=lambda r: r.started_at, reverse=True)[:limit])

    async def log(
        self, run_uuid: str, level: str, message: str, time: datetime, asset_uuid: str | None = None
    ) -> None:
        state = self._uow.write()
        if run_uuid not in state.runs:
            raise FakeIntegrityError(f"FOREIGN KEY constraint failed: run {run_uuid}")
        state.run_logs.append(
            {
                "id": state.next_log_id,
                "run_uuid": run_uuid,
                "time": time,
                "level": level,
                "message": message,
                "asset_uuid": asset_uuid,
            }
        )
        state.next_log_id += 1

    async def logs(self, run_uuid: str) -> list[dict[str, Any]]:
        return _copy([r for r in self._uow.read().run_logs if r["run_uuid"] == run_uuid])


class FakeHistoryStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add_many(self, entries: Sequence[HistoryEntry]) -> None:
        state = self._uow.write()
        for entry in entries:
            # OR IGNORE does not cover foreign keys: an unknown asset is an error in SQL too.
            if entry.asset_uuid not in state.assets:
                raise FakeIntegrityError(f"FOREIGN KEY constraint failed: asset {entry.asset_uuid}")
            duplicate = entry.event_id is not None and any(
                h.asset_uuid == entry.asset_uuid and h.event_id == entry.event_id
                for h in state.history
            )
            if not duplicate:
                state.history.append(entry)  # frozen: no copy needed

    async def for_asset(self, asset_uuid: str) -> list[HistoryEntry]:
        return [h for h in self._uow.read().history if h.asset_uuid == asset_uuid]

    async def has_event(self, event_id: str) -> bool:
        return any(h.event_id == event_id for h in self._uow.read().history)


class FakeTombstoneStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def for_keys(self, collection_uuid: str, keys: Iterable[str]) -> dict[str, datetime]:
        held = self._uow.read().tombstones
        return {
            k: held[(collection_uuid, k)][0].observed_at
            for k in keys
            if (collection_uuid, k) in held
        }

    async def event_of(self, collection_uuid: str, key: str) -> str | None:
        held = self._uow.read().tombstones.get((collection_uuid, key))
        return None if held is None else held[0].event_id

    async def put_many(
        self, collection_uuid: str, stones: Sequence[Tombstone], now: datetime
    ) -> None:
        held = self._uow.write().tombstones
        for stone in stones:
            old = held.get((collection_uuid, stone.canonical_key))
            if old is None or stone.observed_at > old[0].observed_at:
                held[(collection_uuid, stone.canonical_key)] = (stone, now)

    async def prune(self, before: datetime) -> int:
        held = self._uow.write().tombstones
        old = [k for k, (_, recorded_at) in held.items() if recorded_at < before]
        for k in old:
            del held[k]
        return len(old)


class FakeJobStore:
    """Jobs in memory; claiming is trivially atomic (one event loop, one copy per transaction)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add_many(self, jobs: Sequence[Job]) -> None:
        state = self._uow.write()
        for job in jobs:
            if job.asset_uuid not in state.assets:
                raise FakeIntegrityError(f"FOREIGN KEY constraint failed: asset {job.asset_uuid}")
            state.jobs[job.uuid] = _copy(job)

    async def supersede_pending(self, asset_uuids: Sequence[str], now: datetime) -> None:
        wanted = set(asset_uuids)
        for job in self._uow.write().jobs.values():
            if job.asset_uuid in wanted and job.status == JobStatus.PENDING:
                job.status, job.completed_at, job.error = JobStatus.COMPLETED, now, SUPERSEDED

    def _due(
        self,
        state: FakeState,
        now: datetime,
        manual: bool,
        collection_uuid: str | None,
        asset_uuid: str | None,
    ) -> list[Job]:
        out = []
        for job in state.jobs.values():
            asset = state.assets.get(job.asset_uuid)
            collection = state.collections.get(asset.collection_uuid) if asset else None
            if job.stage != ENRICH or asset is None or collection is None:
                continue
            pending = job.status == JobStatus.PENDING and (
                job.next_attempt_at is None or job.next_attempt_at <= now
            )
            expired = (
                job.status == JobStatus.IN_PROGRESS
                and job.lease_until is not None
                and job.lease_until < now
            )
            if not (pending or expired) or (not manual and not collection.auto_enrich):
                continue
            if collection_uuid is not None and collection.uuid != collection_uuid:
                continue
            if asset_uuid is not None and job.asset_uuid != asset_uuid:
                continue
            out.append(job)
        return sorted(out, key=lambda j: (j.queued_at, j.uuid))

    async def claim(
        self,
        *,
        worker_id: str,
        pid: int,
        now: datetime,
        lease_until: datetime,
        limit: int,
        manual: bool = False,
        collection_uuid: str | None = None,
        asset_uuid: str | None = None,
    ) -> list[Job]:
        state = self._uow.write()
        claimed = self._due(state, now, manual, collection_uuid, asset_uuid)[:limit]
        for job in claimed:
            job.status, job.worker_id, job.pid = JobStatus.IN_PROGRESS, worker_id, pid
            job.started_at, job.lease_until = now, lease_until
        return _copy(claimed)

    async def claimable(
        self,
        *,
        now: datetime,
        manual: bool = False,
        collection_uuid: str | None = None,
        asset_uuid: str | None = None,
        limit: int | None = None,
    ) -> list[Job]:
        due = self._due(self._uow.read(), now, manual, collection_uuid, asset_uuid)
        return _copy(due if limit is None else due[:limit])

    async def get(self, job_uuid: str) -> Job | None:
        return _copy(self._uow.read().jobs.get(job_uuid))

    async def get_many(self, job_uuids: Sequence[str]) -> dict[str, Job]:
        found = self._uow.read().jobs
        return {u: _copy(found[u]) for u in job_uuids if u in found}

    async def find_by_uuid_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        return _copy([j for u, j in self._uow.read().jobs.items() if u.startswith(prefix)][:limit])

    async def list_jobs(
        self,
        *,
        status: str | None = None,
        collection_uuid: str | None = None,
        asset_uuid: str | None = None,
        limit: int | None = None,
    ) -> list[Job]:
        state = self._uow.read()
        found = [
            j
            for j in state.jobs.values()
            if (status is None or j.status == status)
            and (asset_uuid is None or j.asset_uuid == asset_uuid)
            and (
                collection_uuid is None
                or (
                    j.asset_uuid in state.assets
                    and state.assets[j.asset_uuid].collection_uuid == collection_uuid
                )
            )
        ]
        found.sort(key=lambda j: (j.queued_at, j.uuid))
        return _copy(found if limit is None else found[:limit])

    async def waiting_for_operator(
        self, *, collection_uuid: str | None = None, asset_uuid: str | None = None
    ) -> list[Job]:
        every = await self.list_jobs(collection_uuid=collection_uuid, asset_uuid=asset_uuid)
        return [
            j
            for j in every
            if j.status == JobStatus.FAILED
            and not any(
                o.asset_uuid == j.asset_uuid and o.queued_at > j.queued_at
                for o in self._uow.read().jobs.values()
            )
        ]

    async def update(self, job: Job) -> None:
        state = self._uow.write()
        if job.uuid in state.jobs:
            state.jobs[job.uuid] = _copy(job)

    async def extend_leases(
        self, job_uuids: Sequence[str], worker_id: str, lease_until: datetime
    ) -> None:
        for uuid in job_uuids:
            job = self._uow.write().jobs.get(uuid)
            if job and job.worker_id == worker_id and job.status == JobStatus.IN_PROGRESS:
                job.lease_until = lease_until

    async def log(self, job_uuid: str, level: str, message: str, time: datetime) -> None:
        self._uow.write().job_logs.append(JobLog(job_uuid, time, level, message))

    async def log_many(self, lines: Sequence[JobLog]) -> None:
        self._uow.write().job_logs.extend(lines)

    async def logs(self, job_uuid: str) -> list[JobLog]:
        return [entry for entry in self._uow.read().job_logs if entry.job_uuid == job_uuid]

    async def counts(self, collection_uuid: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for job in await self.list_jobs(collection_uuid=collection_uuid):
            counts[job.status.value] = counts.get(job.status.value, 0) + 1
        return counts


class FakeResultStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add_enrichment(self, rows: Sequence[dict[str, Any]]) -> None:
        self._uow.write().enrichment_results.extend(_copy(list(rows)))

    async def add_qc(self, row: dict[str, Any]) -> None:
        self._uow.write().qc_results.append(_copy(row))

    async def promote(self, asset_uuid: str, columns: dict[str, Any]) -> None:
        self._uow.write().promoted.setdefault(asset_uuid, {}).update(_copy(columns))

    async def enrichment_for(self, asset_uuid: str) -> list[dict[str, Any]]:
        rows = self._uow.read().enrichment_results
        return _copy([r for r in rows if r["asset_uuid"] == asset_uuid])

    async def technical_for_many(
        self, asset_uuids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        wanted = set(asset_uuids)
        found: dict[str, list[dict[str, Any]]] = {}
        for r in self._uow.read().enrichment_results:
            if r["asset_uuid"] in wanted and r.get("kind") == "technical" and r.get("ok"):
                found.setdefault(r["asset_uuid"], []).append(_copy(r))
        return found

    async def qc_for(self, asset_uuid: str) -> list[dict[str, Any]]:
        return _copy([r for r in self._uow.read().qc_results if r["asset_uuid"] == asset_uuid])


class FakeApprovalStore:
    """The trail, append-only like the database's (there is no way to change a row)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add_many(self, rows: Sequence[Approval]) -> None:
        state = self._uow.write()
        for row in rows:
            if (row.action == ApprovalAction.AUTO_REVOKE) != (row.reason is not None):
                raise FakeIntegrityError("CHECK constraint failed: reason_for_auto_revoke")
            state.approvals.append(replace(row, id=len(state.approvals) + 1))

    async def for_asset(self, asset_uuid: str) -> list[Approval]:
        return [a for a in self._uow.read().approvals if a.asset_uuid == asset_uuid]

    async def last_approvals(self, asset_uuids: Iterable[str]) -> dict[str, Approval]:
        wanted = set(asset_uuids)
        found: dict[str, Approval] = {}
        for row in self._uow.read().approvals:
            if row.asset_uuid in wanted and row.action == ApprovalAction.APPROVE:
                found[row.asset_uuid] = row
        return found

    async def snapshots(self, asset_uuids: Iterable[str]) -> dict[str, EnrichmentSnapshot]:
        state = self._uow.read()
        found: dict[str, EnrichmentSnapshot] = {}
        for uuid in dict.fromkeys(asset_uuids):
            if uuid not in state.assets:
                continue
            checks = [r for r in state.qc_results if r["asset_uuid"] == uuid]
            check = checks[-1] if checks else None
            found[uuid] = EnrichmentSnapshot(
                job_uuid=check.get("job_uuid") if check else None,
                qc_passed=bool(check["passed"]) if check else None,
                qc_time=check.get("time") if check else None,
                qc_failures=tuple(check.get("failures") or ()) if check else (),
                qc_warnings=tuple(check.get("warnings") or ()) if check else (),
                fields=_copy(state.promoted.get(uuid, {})),
            )
        return found


class FakeMediaStore:
    """Media items; progress computed in Python with the domain's own `asset_category` (the
    SQL adapter computes it in one statement)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(self, item_id: str) -> MediaItem | None:
        return _copy(self._uow.read().media_items.get(item_id))

    async def find_by_id_prefix(self, prefix: str, limit: int = 2) -> list[MediaItem]:
        found = [i for i in self._uow.read().media_items.values() if i.id.startswith(prefix)]
        return _copy(found[:limit])

    async def by_names(self, collection_uuid: str, safe_names: Iterable[str]) -> list[MediaItem]:
        wanted = set(safe_names)
        return _copy(
            [
                i
                for i in self._uow.read().media_items.values()
                if i.collection_uuid == collection_uuid and i.safe_name in wanted
            ]
        )

    async def add_many(self, items: Sequence[MediaItem]) -> None:
        state = self._uow.write()
        for item in items:
            if item.id in state.media_items:
                raise FakeIntegrityError(f"UNIQUE constraint failed: media_items.uuid {item.id}")
            if item.collection_uuid not in state.collections:
                raise FakeIntegrityError(f"FOREIGN KEY constraint failed: {item.collection_uuid}")
            for other in state.media_items.values():
                if (other.collection_uuid, other.identity) == (item.collection_uuid, item.identity):
                    raise FakeIntegrityError(
                        f"UNIQUE constraint failed: media_items.item_key {item.identity}"
                    )
            state.media_items[item.id] = _copy(item)

    async def update_many(self, items: Sequence[MediaItem]) -> None:
        state = self._uow.write()
        for item in items:
            if item.id in state.media_items:
                state.media_items[item.id] = _copy(item)

    async def attach(self, item_id: str | None, asset_uuids: Sequence[str]) -> None:
        state = self._uow.write()
        for uuid in asset_uuids:
            if uuid in state.assets:
                state.assets[uuid].media_item_id = item_id

    def _latest_job(self, state: FakeState, asset_uuid: str) -> Job | None:
        mine = [j for j in state.jobs.values() if j.asset_uuid == asset_uuid]
        return max(mine, key=lambda j: (j.queued_at, j.uuid)) if mine else None

    async def tallies(
        self,
        *,
        collection_uuid: str | None = None,
        media_type: str | None = None,
        name: str | None = None,
        item_id: str | None = None,
    ) -> list[ItemTally]:
        state = self._uow.read()
        out = []
        for item in state.media_items.values():
            if collection_uuid is not None and item.collection_uuid != collection_uuid:
                continue
            if media_type is not None and item.media_type != media_type:
                continue
            if name and name not in item.safe_name:
                continue
            if item_id is not None and item.id != item_id:
                continue
            mine = [a for a in state.assets.values() if a.media_item_id == item.id]
            jobs = {a.uuid: self._latest_job(state, a.uuid) for a in mine}
            categories = [
                asset_category(
                    a.state.value,
                    a.approved_for_broadcast,
                    a.is_deleted,
                    j.status.value if (j := jobs[a.uuid]) is not None else None,
                )
                for a in mine
            ]
            open_jobs = sum(
                1
                for a in mine
                if (j := jobs[a.uuid]) is not None
                and j.status in (JobStatus.PENDING, JobStatus.IN_PROGRESS)
                and a.state.value in ("new", "enriching")
                and not a.is_deleted
            )
            changes = [item.updated_at, *(a.updated_at for a in mine)]
            out.append(
                ItemTally(
                    _copy(item),
                    state.collections[item.collection_uuid].name,
                    progress_of(categories),
                    open_jobs,
                    max(changes),
                )
            )
        out.sort(key=lambda t: (t.item.media_type, t.item.safe_name, t.item.year or 0))
        return out

    async def assets_of(self, item_id: str) -> list[ItemAssetRow]:
        state = self._uow.read()
        rows = []
        for a in sorted(state.assets.values(), key=lambda a: a.canonical_key):
            if a.media_item_id != item_id:
                continue
            job = self._latest_job(state, a.uuid)
            checks = [q for q in state.qc_results if q["asset_uuid"] == a.uuid]
            last = checks[-1] if checks else None
            current = last is not None and last["content_signature"] == a.content_signature
            rows.append(
                ItemAssetRow(
                    a.uuid,
                    a.canonical_key,
                    dict(a.tech_metadata),
                    a.state.value,
                    a.approved_for_broadcast,
                    a.is_deleted,
                    a.updated_at,
                    job.uuid if job else None,
                    job.status.value if job else None,
                    bool(last["passed"]) if current and last else None,
                    [str(f.get("rule")) for f in last["failures"]] if current and last else [],
                )
            )
        return rows


class FakeUnitOfWork:
    """One transaction on a `FakeCatalog`: a private copy of its state until `commit()`."""

    def __init__(
        self, catalog: FakeCatalog, *, read_only: bool, dry_run: bool, label: str, deferred: bool
    ) -> None:
        self._catalog = catalog
        self.read_only = read_only
        self._dry_run = dry_run
        self.label = label
        self.deferred = deferred
        self._open = False
        self._working: FakeState | None = None  # None: no transaction
        self._base_version = 0
        self._dirty = False
        self.committed = False
        self._assets = FakeAssetStore(self)
        self._sources = FakeSourceStore(self)
        self._collections = FakeCollectionStore(self)
        self._runs = FakeRunStore(self)
        self._history = FakeHistoryStore(self)
        self._jobs = FakeJobStore(self)
        self._results = FakeResultStore(self)
        self._approvals = FakeApprovalStore(self)
        self._media = FakeMediaStore(self)
        self._tombstones = FakeTombstoneStore(self)

    @property
    def assets(self) -> FakeAssetStore:
        return self._assets

    @property
    def sources(self) -> FakeSourceStore:
        return self._sources

    @property
    def collections(self) -> FakeCollectionStore:
        return self._collections

    @property
    def runs(self) -> FakeRunStore:
        return self._runs

    @property
    def history(self) -> FakeHistoryStore:
        return self._history

    @property
    def jobs(self) -> FakeJobStore:
        return self._jobs

    @property
    def results(self) -> FakeResultStore:
        return self._results

    @property
    def approvals(self) -> FakeApprovalStore:
        return self._approvals

    @property
    def media(self) -> FakeMediaStore:
        return self._media

    @property
    def tombstones(self) -> FakeTombstoneStore:
        return self._tombstones

    @property
    def dry_run(self) -> bool:
        return self._dry_run

    @property
    def in_transaction(self) -> bool:
        return self._working is not None

    # --- what the stores work on ------------------------------------------------------------

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("the unit of work is not open (use `async with`)")

    def read(self) -> FakeState:
        """This transaction's state; outside one (a deferred unit of work before
        `begin_write()`, or after `commit()`), what is committed."""
        self._require_open()
        return self._catalog.state if self._working is None else self._working

    def write(self) -> FakeState:
        """This transaction's state, beginning one if none is open (SQLAlchemy autobegins)."""
        self._require_open()
        if self._working is None:
            self._begin()
        assert self._working is not None
        self._dirty = True
        return self._working

    def _begin(self) -> None:
        self._working = self._catalog.state.snapshot()
        self._base_version = self._catalog.version
        self._dirty = False

    # --- the UnitOfWork protocol ------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._open:
            raise RuntimeError("a unit of work is entered once")
        self._open = True
        self._catalog.opened.append(self)
        if not self.deferred:
            self._begin()
        return self

    async def begin_write(self) -> None:
        self._require_open()
        if self._working is not None:
            raise RuntimeError("the unit of work has already begun")
        self._begin()

    async def commit(self) -> None:
        self._require_open()
        working, dirty = self._working, self._dirty
        self._working = None
        if working is None or self._dry_run or self.read_only:
            return  # a rollback: nothing to write
        if dirty:
            if self._catalog.version != self._base_version:
                raise FakeConflictError(
                    f"unit of work {self.label!r} overlapped another writer's commit"
                )
            self._catalog.publish(working)
        self.committed = True
        self._catalog.commits.append(self.label)

    async def rollback(self) -> None:
        self._require_open()
        self._working = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None  # whatever was not committed is gone
        self._open = False


class FakeCatalog:
    """Where fake units of work come from; `state` is what has been committed.

    `seed()` puts sources and collections in place without a unit of work (test setup);
    `opened` and `commits` record the units of work opened and the labels of those committed.
    """

    def __init__(self, *, dry_run: bool = False) -> None:
        self._dry_run = dry_run
        self.state = FakeState()
        self.version = 0  # bumped by every commit that wrote
        self.opened: list[FakeUnitOfWork] = []
        self.commits: list[str] = []

    @property
    def dry_run(self) -> bool:
        return self._dry_run

    def unit_of_work(
        self, *, read_only: bool = False, label: str = "", deferred: bool = False
    ) -> FakeUnitOfWork:
        return FakeUnitOfWork(
            self, read_only=read_only, dry_run=self._dry_run, label=label, deferred=deferred
        )

    def publish(self, state: FakeState) -> None:
        self.state = state
        self.version += 1

    def seed(self, *items: Source | Collection) -> None:
        """Sources and collections, committed at once, under the same constraints as `add`."""
        state = self.state.snapshot()
        for item in items:
            if isinstance(item, Source):
                state.insert_source(item)
            else:
                state.insert_collection(item)
        self.publish(state)

    # --- committed state, for assertions ---------------------------------------------------

    def assets(self, collection_uuid: str | None = None) -> list[Asset]:
        return _copy(
            sorted(
                (
                    a
                    for a in self.state.assets.values()
                    if collection_uuid is None or a.collection_uuid == collection_uuid
                ),
                key=lambda a: (a.collection_uuid, a.canonical_key),
            )
        )

    def asset(self, collection_uuid: str, canonical_key: str) -> Asset | None:
        return _copy(self.state.asset_at(collection_uuid, canonical_key))

    def runs(self) -> list[IngestRun]:
        return _copy(list(self.state.runs.values()))

    def approvals(self, asset_uuid: str | None = None) -> list[Approval]:
        return [a for a in self.state.approvals if asset_uuid is None or a.asset_uuid == asset_uuid]

    def history(self, asset_uuid: str | None = None) -> list[HistoryEntry]:
        return [h for h in self.state.history if asset_uuid is None or h.asset_uuid == asset_uuid]


# The fakes are checked against the ports by mypy --strict, here and not only where used.
_CATALOG: Catalog = FakeCatalog()


def _as_ports(
    uow: FakeUnitOfWork,
) -> tuple[UnitOfWork, AssetStore, SourceStore, CollectionStore, RunStore, HistoryStore]:
    return uow, uow.assets, uow.sources, uow.collections, uow.runs, uow.history
