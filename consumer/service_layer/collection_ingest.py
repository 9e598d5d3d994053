"""Collection ingest: enumerate a collection with its importer, detect changes in stages, and
apply them through the one apply path, all in one unit of work (D-1).

Order of the gates (B-15/D-4a): the caller resolves the collection (exit 1), then here the
prerequisites are checked — importer compliance (B-10/B-12), sync enabled for a full ingest
(B-11), ingestible right now (B-12/B-13/B-14a/D-5/D-6), all exit 1 — and only then is the scope
enumerated (title/season/episode not found: exit 2).

Change detection is staged: a file whose size and mtime match the catalog is skipped without
reading a byte; a new or changed file is hashed (SHA-256 + xxh128, worker threads) and compared,
so a touched-but-identical file is skipped and only its stored stat refreshed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Collection as Collection_
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from consumer.domain.assets import FileFacts
from consumer.domain.catalog import Collection, Source
from consumer.domain.decisions import unchanged
from consumer.domain.errors import OperationError
from consumer.domain.importing import (
    DiscoveredItem,
    ImporterInterface,
    ImporterNotCompliantError,
    IncrementalImporter,
    IngestScope,
    ScopeNotFoundError,
    ServerItem,
    StatListing,
    StatListingImporter,
    bind_source,
    ensure_compliant,
)
from consumer.domain.media_info import media_metadata
from consumer.domain.records import AssetFingerprint, IngestRun, StatEntry
from consumer.domain.signatures import content_signature, needs_hash
from consumer.domain.stat_lines import key_of
from consumer.service_layer.apply import (
    ApplyOutcome,
    FileGone,
    FileMoved,
    FilePresent,
    apply_changes,
    decide_changes,
)
from consumer.service_layer.unit_of_work import Catalog, UnitOfWork
from shared.hashing import Fingerprint, Hasher
from shared.records import to_dict
from shared.runtime.log import get_logger

log = get_logger(__name__)

# Items decided and written per slice: bounds memory on huge collections; still one transaction.
SLICE = 5000
ERRORS_KEPT = 1000
RUN_LOG_ERRORS = 100


def utcnow() -> datetime:
    return datetime.now(UTC)


class IngestFailure(OperationError):  # noqa: N818 - an outcome the CLI reports, not a bug
    """An ingest that cannot go on (gate refused, scope not found, rolled back): an error code
    and its facts (`apollonia.cli.errors` words them)."""


def carried(exc: OperationError) -> IngestFailure:
    """An error from below (a media server unreachable, its secret missing) as the ingest's
    failure: the same code, case and facts, so it is worded and exits as it would itself."""
    code = exc.error_code
    return IngestFailure(code, case=exc.case, **exc.facts)


class Progress(Protocol):
    """What an ingest tells a progress display, in this order: `listing` (no total yet: a
    spinner), `planned` once (files found, bytes to read: the totals, fixed before the first
    `advance`), `advance` as files are settled and bytes read, `finished`. `advance` is called
    from the hasher's worker threads too: it must be thread-safe and quick."""

    def listing(self) -> None: ...
    def planned(self, files: int, total_bytes: int) -> None: ...
    def advance(self, files: int = 0, nbytes: int = 0) -> None: ...
    def finished(self) -> None: ...


class NoProgress:
    def listing(self) -> None:
        pass

    def planned(self, files: int, total_bytes: int) -> None:
        pass

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        pass

    def finished(self) -> None:
        pass


class _PartProgress:
    """Bytes the hasher reported for one part, so what it did not read (a file that shrank or
    failed) is still advanced and the bar ends exactly at its total."""

    __slots__ = ("_lock", "_progress", "read")

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self.read = 0

    def __call__(self, nbytes: int, files: int) -> None:
        if nbytes:
            with self._lock:
                self.read += nbytes
        self._progress.advance(files, nbytes)


NeighborLookup = Callable[[Sequence[DiscoveredItem]], Mapping[str, list[str]]]


@runtime_checkable
class NeighborImporter(Protocol):
    """An importer that can say which files sit beside an item (the shared neighbour rule)."""

    def neighbor_finder(self) -> NeighborLookup: ...


@dataclass(slots=True)
class IngestStats:
    assets_discovered: int = 0
    assets_ingested: int = 0
    assets_updated: int = 0
    assets_skipped: int = 0
    assets_missing: int = 0
    # None: unknown (a dry run without --hash left new or changed files unread).
    duplicates: int | None = 0
    assets_changed_content: int = 0
    assets_changed_enricher: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    errors_total: int = 0
    files_hashed: int = 0
    bytes_hashed: int = 0
    stats_refreshed: int = 0
    # Files a dry run decided by their stat alone, without reading them (not in the report).
    content_unread: int = 0

    def error(self, path: str, message: str) -> None:
        self.errors_total += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"path": path, "message": message})

    def as_dict(self) -> dict[str, Any]:
        doc = to_dict(self)
        del doc["content_unread"]
        return doc


@dataclass(slots=True)
class CollectionIngestResult:
    collection: Collection
    scope: IngestScope
    dry_run: bool
    stats: IngestStats
    last_ingest_time: datetime | None
    run_id: str | None
    duration_seconds: float


ImporterFactory = Callable[[str], object]


class CollectionIngestor:
    """Runs collection ingests. Dependencies are passed in: the catalog, how to get an importer
    for a source type, the hasher, a clock and a progress reporter."""

    def __init__(
        self,
        catalog: Catalog,
        importer_for: ImporterFactory,
        hasher: Hasher,
        *,
        clock: Callable[[], datetime] = utcnow,
        progress: Progress | None = None,
    ) -> None:
        self.catalog = catalog
        self.importer_for = importer_for
        self.hasher = hasher
        self.clock = clock
        self.progress: Progress = progress or NoProgress()

    @property
    def dry_run(self) -> bool:
        return self.catalog.dry_run

    # --- gates ------------------------------------------------------------------------------
    def importer(self, source: Source) -> ImporterInterface:
        """The source's importer, verified compliant before any work (B-10/B-12, D-10)."""
        try:
            return ensure_compliant(bind_source(self.importer_for(source.type), source))
        except (ImporterNotCompliantError, KeyError, LookupError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            raise IngestFailure(
                "importer_not_compliant",
                source=source.name,
                source_type=source.type,
                reason=message,
            ) from exc

    def check_prerequisites(
        self, importer: ImporterInterface, collection: Collection, scope: IngestScope
    ) -> str:
        ref = collection.external_id or collection.uuid
        if scope.is_full and not collection.sync_enabled:
            raise IngestFailure("not_sync_enabled", collection=collection.name, ref=ref)
        verdict = importer.validate_ingestible(collection)
        log.info(
            "validation gate",
            gate="ingestible",
            collection=collection.name,
            passed=verdict.ok,
            reason=verdict.reason,
        )
        if not verdict.ok and verdict.unreachable is not None:
            # A server refusing, timing out: exit 3, saying which.
            raise carried(verdict.unreachable)
        if not verdict.ok:
            raise IngestFailure(
                "not_ingestible", collection=collection.name, ref=ref, reason=verdict.reason
            )
        return verdict.reason

    # --- the run ----------------------------------------------------------------------------
    async def ingest(
        self,
        collection: Collection,
        source: Source,
        scope: IngestScope,
        *,
        allow_empty: bool = False,
        kind: str = "collection_ingest",
        hash_in_dry_run: bool = False,
        full: bool = False,
    ) -> CollectionIngestResult:
        """Ingest `scope` of `collection`. A dry run reads no file content unless
        `hash_in_dry_run`: new and changed files are then judged by their stat alone. An
        importer that can list only what changed (a media server) does so unless `full`."""
        started = self.clock()
        t0 = time.perf_counter()
        run_id = None if self.dry_run else str(uuid.uuid4())
        gates: list[str] = []
        try:
            importer = self.importer(source)
            gates.append("importer compliant")
            self.check_prerequisites(importer, collection, scope)
            gates.append("ingestible")
        except IngestFailure as gate_failure:
            await self._record_failure(
                run_id, kind, collection, scope, started, gate_failure, gates
            )
            raise

        stats = IngestStats()

        try:
            async with self.catalog.unit_of_work(
                label=f"ingest {collection.name}", deferred=True
            ) as uow:
                # The listing runs before the write lock is taken: on a NAS it may take minutes,
                # and the consumer must be able to commit meanwhile.
                self.progress.listing()
                listing = await self._list(uow, importer, collection, scope, full=full)
                log.info(
                    scope.describe(collection.name),
                    collection=collection.name,
                    scope=scope.kind,
                    discovered=listing.discovered,
                    dry_run=self.dry_run,
                )
                stats.assets_discovered = listing.discovered
                for path, message in listing.walk_errors:
                    stats.error(path, message)
                await uow.begin_write()
                last_ingest_time = await self._apply(
                    uow,
                    collection,
                    scope,
                    listing,
                    stats,
                    started,
                    allow_empty=allow_empty,
                    run_id=run_id,
                    kind=kind,
                    gates=gates,
                    t0=t0,
                    read_content=not self.dry_run or hash_in_dry_run,
                    neighbors=(
                        importer.neighbor_finder()
                        if isinstance(importer, NeighborImporter)
                        else None
                    ),
                )
                await uow.commit()
        except ScopeNotFoundError as exc:
            failure = IngestFailure(f"{exc.level}_not_found", detail=exc.message)
            await self._record_failure(run_id, kind, collection, scope, started, failure, gates)
            raise failure from exc
        except IngestFailure as known_failure:
            await self._record_failure(
                run_id, kind, collection, scope, started, known_failure, gates
            )
            raise
        except Exception as exc:
            log.exception("ingest rolled back", collection=collection.name)
            crash = IngestFailure(
                "ingest_failed", collection=collection.name, error=f"{type(exc).__name__}: {exc}"
            )
            await self._record_failure(run_id, kind, collection, scope, started, crash, gates)
            raise crash from exc
        finally:
            self.progress.finished()

        duration = time.perf_counter() - t0
        log.info(
            "ingest complete",
            collection=collection.name,
            scope=scope.kind,
            dry_run=self.dry_run,
            duration_seconds=round(duration, 3),
            **{k: v for k, v in stats.as_dict().items() if k != "errors"},
        )
        return CollectionIngestResult(
            collection=collection,
            scope=scope,
            dry_run=self.dry_run,
            stats=stats,
            last_ingest_time=None if self.dry_run else last_ingest_time,
            run_id=run_id,
            duration_seconds=duration,
        )

    async def _list(
        self,
        uow: UnitOfWork,
        importer: ImporterInterface,
        collection: Collection,
        scope: IngestScope,
        *,
        full: bool = False,
    ) -> _Listing:
        """What is on disk, and (fast path) which of it the catalog already holds unchanged."""
        if scope.is_full and isinstance(importer, IncrementalImporter):
            return await _server_listing(importer, collection, full=full)
        # A first ingest has nothing to compare with: the plain walk builds its items directly.
        if (
            scope.is_full
            and isinstance(importer, StatListingImporter)
            and await uow.assets.has_live(collection.uuid)
        ):
            # Both reads at once: find in its own process, the catalog's signatures built by
            # SQLite (neither holds the GIL for long). Outside the write transaction: stage 2
            # re-reads what it decides on under the lock, so a stale signature can only make
            # an unchanged file look changed, never the reverse.
            fast, (live, known) = await asyncio.gather(
                importer.stat_listing(collection),
                uow.assets.stat_signatures(collection.uuid, collection.enricher_checksum),
            )
            if fast is not None and live:
                unchanged = fast.signatures & known
                fast.signatures -= unchanged
                items = await asyncio.to_thread(_describe_all, importer, collection, fast)
                return _Listing(items, _walk_errors(importer), unchanged, live)
        items, walk_errors = await _enumerate(importer, collection, scope)
        if isinstance(importer, IncrementalImporter):  # a media server's --title/--season
            servers = [item for item in items if type(item) is ServerItem]
            return _Listing(items, walk_errors, complete=False, servers=servers)
        return _Listing(items, walk_errors)

    async def _apply(
        self,
        uow: UnitOfWork,
        collection: Collection,
        scope: IngestScope,
        listing: _Listing,
        stats: IngestStats,
        started: datetime,
        *,
        allow_empty: bool,
        run_id: str | None,
        kind: str,
        gates: list[str],
        t0: float,
        read_content: bool,
        neighbors: NeighborLookup | None,
    ) -> datetime:
        """The write half of an ingest, inside its one unit of work, in stages: skip what the
        stat says is unchanged, hash and decide the rest, soft-delete what went missing, count
        duplicates, record the run."""
        run = _Pass(uow, collection, scope, stats, started, run_id, write=not self.dry_run)
        run.state = listing.state
        index: dict[str, StatEntry] | None = None
        if listing.unchanged is None:
            index = await uow.assets.stat_index(collection.uuid, collection.enricher_checksum)
            live = sum(1 for entry in index.values() if not entry.is_deleted)
        else:
            live = listing.live
        if (
            scope.is_full
            and listing.complete
            and not listing.discovered
            and live
            and not allow_empty
        ):
            raise IngestFailure(
                "empty_root", collection=collection.name, root_path=collection.root_path, live=live
            )
        if listing.servers and index is not None:
            await _follow_reidentified(run, listing, index)
        candidates, seen_live = _unchanged_skipped(listing, index, stats)
        stats.assets_skipped += listing.discovered - len(candidates)
        seen_live += await self._decide_and_write(
            run,
            _unique_keys(candidates, stats),
            discovered=listing.discovered,
            count_live=index is None,
            read=collection.hash_mode == "full" and read_content,
            neighbors=neighbors,
        )
        if listing.servers:
            await _record_editorial(run, listing, {item.canonical_key for item in candidates})
        # Only a complete listing says what is gone (a media server's incremental one does not).
        if scope.is_full and listing.complete and seen_live < live:
            if index is None:
                index = await uow.assets.stat_index(collection.uuid, collection.enricher_checksum)
            await _soft_delete_missing(
                run, _missing_keys(index, listing.keys(), listing.walk_errors, collection.root_path)
            )
        await _count_duplicates(run)
        finished = self.clock()
        if run.write:
            await _record_success(run, finished, kind=kind, gates=gates, t0=t0)
        return finished

    async def _decide_and_write(
        self,
        run: _Pass,
        candidates: list[DiscoveredItem],
        *,
        discovered: int,
        count_live: bool,
        read: bool,
        neighbors: NeighborLookup | None,
    ) -> int:
        """Stage 2, for what the stat could not settle: hash what is new or changed and decide
        through the one path. Returns how many of these items were live assets already (when
        the stat listing did not count them)."""
        uow, collection, stats = run.uow, run.collection, run.stats
        hash_content = collection.hash_mode == "full"
        # The totals, before anything advances: every file found, the bytes of every file that
        # may be read (a candidate the catalog turns out to know is advanced unread).
        self.progress.planned(discovered, sum(item.size for item in candidates) if read else 0)
        self.progress.advance(files=discovered - len(candidates))
        chunks = [candidates[start : start + SLICE] for start in range(0, len(candidates), SLICE)]
        seen_live = 0

        async def read_and_hash(
            chunk: list[DiscoveredItem],
        ) -> tuple[dict[str, AssetFingerprint], asyncio.Task[list[FileFacts]]]:
            known = await uow.assets.fingerprints_for_keys(
                collection.uuid, [item.canonical_key for item in chunk]
            )
            return known, asyncio.create_task(
                self._observe(chunk, known, hash_content, read, stats, run.started, neighbors)
            )

        # Pipelined, three slices in flight: the next one hashed (worker threads), this one
        # decided (here), the previous one written (SQLite's thread). The connection serves one
        # step at a time: the next slice's rows are read after the previous write finished, and
        # a slice with keys already in the catalog (updates read full rows) waits for it before
        # deciding. Reading a slice before the previous one is written is safe because no two
        # slices share a key (_unique_keys).
        ahead = await read_and_hash(chunks[0]) if chunks else None
        writing: asyncio.Task[ApplyOutcome] | None = None
        try:
            for number, chunk in enumerate(chunks):
                assert ahead is not None
                known, hashing = ahead
                ahead = None
                observations = await hashing
                if count_live:
                    seen_live += sum(
                        1
                        for item in chunk
                        if (fp := known.get(item.canonical_key)) is not None and not fp.is_deleted
                    )
                if writing is not None and known:
                    run.account(await writing)
                    writing = None
                decided = await decide_changes(
                    uow,
                    collection,
                    [FilePresent(o) for o in observations],
                    now=run.started,
                    run_uuid=run.run_id,
                    known=known,
                    describe=media_metadata,
                )
                if writing is not None:
                    run.account(await writing)
                    writing = None
                if number + 1 < len(chunks):
                    ahead = await read_and_hash(chunks[number + 1])
                writing = asyncio.create_task(decided.finish(write=run.write))
            if writing is not None:
                run.account(await writing)
                writing = None
        finally:  # a failure above: let the write in flight end, stop the hashing
            if ahead is not None:
                ahead[1].cancel()
            for task in (writing, ahead[1] if ahead is not None else None):
                if task is not None:
                    with contextlib.suppress(BaseException):
                        await task
        return seen_live

    async def _observe(
        self,
        chunk: Sequence[DiscoveredItem],
        known: Mapping[str, AssetFingerprint],
        hash_content: bool,
        read: bool,
        stats: IngestStats,
        observed_at: datetime,
        neighbors: NeighborLookup | None = None,
    ) -> list[FileFacts]:
        """Stat-only observations, hashed where the stat says the file is new or changed (and
        `read` allows it: a dry run without --hash reads nothing)."""
        to_hash = [
            item
            for item in chunk
            if hash_content
            and _needs_hash(known.get(item.canonical_key), item)
            and not (type(item) is ServerItem and item.unreachable)  # nothing here to read
        ]
        if not read:
            stats.content_unread += len(to_hash)
            to_hash = []
        hashed = {item.canonical_key for item in to_hash}
        shown = not isinstance(self.progress, NoProgress)  # no per-chunk calls for nobody
        self.progress.advance(
            files=len(chunk) - len(to_hash),
            nbytes=sum(i.size for i in chunk if i.canonical_key not in hashed) if read else 0,
        )
        # The folders are listed (in a thread) while the files are read.
        beside = asyncio.create_task(
            asyncio.to_thread(neighbors, chunk) if neighbors is not None else _no_neighbors()
        )
        hashes: dict[str, Fingerprint] = {}
        try:
            for start in range(0, len(to_hash), 256):
                part = to_hash[start : start + 256]
                part_progress = _PartProgress(self.progress) if shown else None
                results = await self.hasher.hash_many(
                    [i.fs_path for i in part], on_read=part_progress
                )
                nbytes = 0
                for item, result in zip(part, results, strict=True):
                    if isinstance(result, OSError):
                        stats.error(item.path, f"cannot read: {result.strerror or result}")
                    else:
                        hashes[item.canonical_key] = result
                        nbytes += result.size
                stats.files_hashed += len(part)
                stats.bytes_hashed += nbytes
                unread = sum(i.size for i in part) - part_progress.read if part_progress else 0
                if unread > 0:  # shrank or unreadable: its planned bytes are done all the same
                    self.progress.advance(nbytes=unread)
            found_beside = await beside
        finally:
            if not beside.done():
                beside.cancel()
        observations = []
        for item in chunk:
            fp = hashes.get(item.canonical_key)
            if fp is None and item.canonical_key in hashed:
                continue  # unreadable: reported as an error, decided next time
            observations.append(
                FileFacts(
                    canonical_key=item.canonical_key,
                    path=item.path,
                    size=fp.size if fp else item.size,
                    mtime_ns=item.mtime_ns,
                    sha256=fp.sha256 if fp else None,
                    xxh128=fp.xxh128 if fp else None,
                    observed_at=observed_at,
                    neighbors=list(found_beside.get(item.canonical_key, ())),
                    tech_metadata=dict(item.metadata) if type(item) is ServerItem else {},
                )
            )
        return observations

    async def _record_failure(
        self,
        run_id: str | None,
        kind: str,
        collection: Collection,
        scope: IngestScope,
        started: datetime,
        failure: IngestFailure,
        gates: list[str],
    ) -> None:
        """A failed ingest persists nothing but its own audit record (not in a dry run)."""
        # Gate refusals are reported by the caller; the log keeps them for the audit trail.
        log.info(
            "ingest refused or failed",
            collection=collection.name,
            error_code=failure.error_code,
            error=failure.message,
        )
        if run_id is None:
            return
        try:
            async with self.catalog.unit_of_work(label="record failed run") as uow:
                await uow.runs.add(
                    _run_record(
                        run_id,
                        kind,
                        collection,
                        scope,
                        started,
                        self.clock(),
                        "error",
                        {"error_code": failure.error_code},
                        error=failure.message,
                    )
                )
                for gate in gates:
                    await uow.runs.log(run_id, "INFO", f"validation gate passed: {gate}", started)
                await uow.runs.log(run_id, "ERROR", failure.message, self.clock())
                await uow.commit()
        except Exception:  # the audit record must never hide the original failure
            log.exception("could not record the failed run", collection=collection.name)


@dataclass(slots=True)
class _Listing:
    """What an ingest found: items to decide on, and the files known unchanged by signature."""

    items: list[DiscoveredItem]
    walk_errors: list[tuple[str, str]]
    unchanged: set[str] | None = None  # signatures (fast path only)
    live: int = 0  # live assets when the signatures were read (fast path only)
    # False for a media server's incremental listing: what it does not list is not gone.
    complete: bool = True
    # A media server's listing: the importer state to keep once applied, and its items.
    state: dict[str, Any] | None = None
    servers: list[ServerItem] = field(default_factory=list)

    @property
    def discovered(self) -> int:
        return len(self.items) + len(self.unchanged or ())

    def keys(self) -> set[str]:
        """Every key found on disk (only the missing-file pass needs them all)."""
        keys = {item.canonical_key for item in self.items}
        keys.update(key_of(sig) for sig in self.unchanged or ())
        return keys


@dataclass(slots=True)
class _Pass:
    """One ingest's write half: where it writes, what it counts, what it touched."""

    uow: UnitOfWork
    collection: Collection
    scope: IngestScope
    stats: IngestStats
    started: datetime
    run_id: str | None
    write: bool
    # Live content hash per key touched (for counting duplicates in a dry run).
    touched: dict[str, str | None] = field(default_factory=dict)
    state: dict[str, Any] | None = None  # the importer state to keep (media servers)

    def account(self, outcome: ApplyOutcome) -> None:
        stats = self.stats
        stats.assets_ingested += outcome.created
        stats.assets_updated += outcome.updated
        stats.assets_skipped += outcome.skipped
        stats.assets_changed_content += outcome.changed_content
        stats.assets_changed_enricher += outcome.changed_enricher
        stats.stats_refreshed += outcome.refreshed
        self.touched.update(outcome.touched)


def _unchanged_skipped(
    listing: _Listing, index: Mapping[str, StatEntry] | None, stats: IngestStats
) -> tuple[list[DiscoveredItem], int]:
    """Stage 1, for every file: same stat and enrichers as the catalog -> skipped, unread.
    The items left, and how many live assets were seen on disk doing so.

    A media server's item whose file cannot be reached here while its asset is live is left
    as it was (skipped, reported): an unmounted share must not rewrite, nor un-approve, what
    was cataloged from the file itself."""
    if index is None:  # the stat listing already did it, by signature
        return listing.items, len(listing.unchanged or ())
    candidates = []
    seen_live = 0
    for item in listing.items:
        entry = index.get(item.canonical_key)
        if entry is not None and not entry.is_deleted:
            seen_live += 1
        if entry is None or not unchanged(
            entry.size,
            entry.mtime_ns,
            item.size,
            item.mtime_ns,
            is_deleted=entry.is_deleted,
            enrichers_same=entry.enrichers_same,
        ):
            if (
                entry is not None
                and not entry.is_deleted
                and type(item) is ServerItem
                and item.unreachable
            ):
                stats.error(item.path, f"left as it was: {item.unreachable}")
                continue
            candidates.append(item)
    return candidates, seen_live


async def _soft_delete_missing(run: _Pass, missing: list[str]) -> None:
    """Live assets whose files were not found: soft-deleted, slice by slice."""
    for start in range(0, len(missing), SLICE):
        outcome = await apply_changes(
            run.uow,
            run.collection,
            [
                FileGone(k, "file missing from the collection root", run.started)
                for k in missing[start : start + SLICE]
            ],
            now=run.started,
            run_uuid=run.run_id,
            write=run.write,
        )
        run.stats.assets_missing += outcome.deleted
        run.touched.update(outcome.touched)


async def _count_duplicates(run: _Pass) -> None:
    stats, uow, collection = run.stats, run.uow, run.collection
    if run.write:
        stats.duplicates = await uow.assets.count_duplicate_candidates(collection.uuid)
    elif stats.content_unread:  # new or changed content not read: cannot be counted
        stats.duplicates = None
    else:  # nothing was written: the live hashes as they would be after this ingest
        hashes = await uow.assets.live_hashes(collection.uuid)
        hashes.update(run.touched)
        stats.duplicates = _duplicate_candidates(hashes)


async def _record_success(
    run: _Pass, finished: datetime, *, kind: str, gates: list[str], t0: float
) -> None:
    """The collection's last ingest time and the run record, in the ingest's transaction."""
    uow, collection, stats, run_id = run.uow, run.collection, run.stats, run.run_id
    state_changed = run.state is not None and run.state != collection.importer_state
    if state_changed:
        assert run.state is not None
        collection.importer_state = run.state
    if not collection.ingestible or state_changed:
        collection.ingestible = True
        collection.updated_at = finished
        await uow.collections.update(collection)
    # B-19/D-15/D-16: once, in the same transaction, even when everything was skipped.
    await uow.collections.set_last_ingest_time(collection.uuid, finished)
    collection.last_ingest_time = finished
    assert run_id is not None
    await uow.runs.add(
        _run_record(
            run_id,
            kind,
            collection,
            run.scope,
            run.started,
            finished,
            "success",
            stats.as_dict() | {"duration_seconds": round(time.perf_counter() - t0, 3)},
        )
    )
    for gate in gates:
        await uow.runs.log(run_id, "INFO", f"validation gate passed: {gate}", run.started)
    await uow.runs.log(run_id, "INFO", _summary(collection, run.scope, stats), finished)
    for error in stats.errors[:RUN_LOG_ERRORS]:
        await uow.runs.log(run_id, "ERROR", f"{error['path']}: {error['message']}", finished)


def _unique_keys(items: list[DiscoveredItem], stats: IngestStats) -> list[DiscoveredItem]:
    """One item per catalog key. Two names that differ only in Unicode normalisation (NFC and
    NFD spellings of the same title, both on disk) map to one key: the first one found wins and
    the other is reported, never a second asset."""
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.canonical_key in seen:
            stats.error(
                item.path,
                f"another file maps to the same catalog key {item.canonical_key!r} "
                "(names that differ only in Unicode normalisation); not cataloged",
            )
            continue
        seen.add(item.canonical_key)
        unique.append(item)
    return unique


def _describe_all(
    importer: StatListingImporter, collection: Collection, listing: StatListing
) -> list[DiscoveredItem]:
    """Items for what the signatures could not settle: new, changed, symlinked, non-ASCII."""
    relatives = [key_of(sig) for sig in listing.signatures]
    relatives += listing.pending
    return [item for rel in relatives if (item := importer.describe(collection, rel)) is not None]


async def _enumerate(
    importer: ImporterInterface, collection: Collection, scope: IngestScope
) -> tuple[list[DiscoveredItem], list[tuple[str, str]]]:
    """The importer's listing, in a worker thread (it is all blocking file-system calls)."""

    def listing() -> tuple[list[DiscoveredItem], list[tuple[str, str]]]:
        items = list(importer.enumerate(collection, scope))
        return items, _walk_errors(importer)

    try:
        return await asyncio.to_thread(listing)
    except ScopeNotFoundError:
        raise
    except OSError as exc:
        raise IngestFailure(
            "enumeration_failed", collection=collection.name, error=str(exc)
        ) from exc
    except OperationError as exc:  # a media server unreachable, its secret missing
        raise carried(exc) from exc
    except Exception as exc:  # an importer bug must not take sibling collections down
        log.exception("importer failed", collection=collection.name)
        raise IngestFailure(
            "importer_failed", collection=collection.name, error=f"{type(exc).__name__}: {exc}"
        ) from exc


async def _server_listing(
    importer: IncrementalImporter, collection: Collection, *, full: bool
) -> _Listing:
    """A media server's listing: only what changed since the last ingest unless `full` (or
    nothing was ingested yet), in a worker thread (blocking HTTP)."""

    def listing() -> _Listing:
        found = importer.listing(collection, full=full)
        servers = [item for item in found.items if type(item) is ServerItem]
        return _Listing(
            found.items,
            _walk_errors(importer),
            complete=found.complete,
            state=found.state,
            servers=servers,
        )

    try:
        return await asyncio.to_thread(listing)
    except OperationError as exc:
        raise carried(exc) from exc
    except Exception as exc:
        log.exception("importer failed", collection=collection.name)
        raise IngestFailure(
            "importer_failed", collection=collection.name, error=f"{type(exc).__name__}: {exc}"
        ) from exc


async def _follow_reidentified(run: _Pass, listing: _Listing, index: dict[str, StatEntry]) -> None:
    """An item the server identifies anew (Plex re-matched it, or matched an item it had only
    as `local://`) keeps its asset: a live asset at the item's file under another key the
    listing does not hold is moved to the new key, as a rename would be."""
    listed = {item.canonical_key for item in listing.items}
    unknown = {
        item.path: item
        for item in listing.servers
        if item.canonical_key not in index or index[item.canonical_key].is_deleted
    }
    if not unknown:
        return
    by_path = await run.uow.assets.keys_by_path(run.collection.uuid, list(unknown))
    moves = [
        FileMoved(
            old_key,
            FileFacts(
                canonical_key=unknown[path].canonical_key,
                path=path,
                size=index[old_key].size,
                mtime_ns=index[old_key].mtime_ns,
                observed_at=run.started,
                tech_metadata=dict(unknown[path].metadata),
            ),
        )
        for path, old_key in by_path.items()
        if old_key not in listed and old_key in index
    ]
    if not moves:
        return
    outcome = await apply_changes(
        run.uow, run.collection, moves, now=run.started, run_uuid=run.run_id, write=run.write
    )
    run.touched.update(outcome.touched)
    for move in moves:  # the stat index follows, so the moved assets are seen, not missing
        entry = index.pop(move.from_key)
        index[move.obs.canonical_key] = entry
    log.info("items re-identified by the server keep their assets", moved=outcome.moved)


async def _record_editorial(run: _Pass, listing: _Listing, decided: set[str]) -> None:
    """The server's editorial fields as the importer's editorial enrichment result: for every
    item created or changed here, and every item the server changed since the last ingest."""
    if not run.write:
        return
    wanted = [item for item in listing.servers if item.fresh or item.canonical_key in decided]
    if not wanted:
        return
    for start in range(0, len(wanted), SLICE):
        part = wanted[start : start + SLICE]
        known = await run.uow.assets.fingerprints_for_keys(
            run.collection.uuid, [item.canonical_key for item in part]
        )
        rows = [
            {
                "asset_uuid": fp.uuid,
                "enricher_id": (enricher := str(item.metadata.get("server") or "server")),
                "enricher_version": "1",
                "kind": "editorial",
                "ok": True,
                "fields": item.editorial,
                "reason": None,
                "tool": f"{enricher} server",
                "tool_version": None,
                "content_signature": content_signature(fp.sha256, fp.size, fp.mtime_ns),
                "job_uuid": None,
                "time": run.started,
            }
            for item in part
            if (fp := known.get(item.canonical_key)) is not None and not fp.is_deleted
        ]
        if rows:
            await run.uow.results.add_enrichment(rows)


async def _no_neighbors() -> Mapping[str, list[str]]:
    return {}


def _walk_errors(importer: object) -> list[tuple[str, str]]:
    """Folders the importer could not list and files it could not look at, by path."""
    return list(getattr(importer, "walk_errors", []) or [])


def _run_record(
    run_id: str,
    kind: str,
    collection: Collection,
    scope: IngestScope,
    started: datetime,
    finished: datetime,
    status: str,
    stats: dict[str, Any],
    *,
    error: str | None = None,
) -> IngestRun:
    return IngestRun(
        uuid=run_id,
        kind=kind,
        source_uuid=collection.source_uuid,
        collection_uuid=collection.uuid,
        scope=scope.as_dict(),
        status=status,
        started_at=started,
        finished_at=finished,
        stats=stats,
        error=error,
    )


def _needs_hash(fp: AssetFingerprint | None, item: DiscoveredItem) -> bool:
    if fp is None:
        return True  # hashed when first cataloged: duplicate detection depends on it
    return needs_hash(fp.size, fp.mtime_ns, item.size, item.mtime_ns)


def _missing_keys(
    index: Mapping[str, StatEntry],
    present: Collection_[str],
    walk_errors: Sequence[tuple[str, str]],
    root: str,
) -> list[str]:
    # Assets under a folder we could not list, or a file we could not look at, are not
    # missing: we could not look.
    unseen = {path[len(root) :].strip("/") for path, _ in walk_errors if path.startswith(root)}
    blind = [b + "/" for b in unseen]
    missing = []
    for key, (_size, _mtime, is_deleted, _same) in index.items():
        if is_deleted or key in present or key in unseen:
            continue
        if any(b == "/" or key.startswith(b) for b in blind):
            continue
        missing.append(key)
    return missing


def _duplicate_candidates(final_hash: Mapping[str, str | None]) -> int:
    counts = Counter(h for h in final_hash.values() if h)
    return sum(n for n in counts.values() if n > 1)


def _summary(collection: Collection, scope: IngestScope, stats: IngestStats) -> str:
    return (
        f"{scope.describe(collection.name)}: {stats.assets_discovered} discovered, "
        f"{stats.assets_ingested} ingested, {stats.assets_updated} updated, "
        f"{stats.assets_skipped} skipped, {stats.assets_missing} missing, "
        f"{stats.duplicates} duplicate candidates, {stats.errors_total} errors"
    )
