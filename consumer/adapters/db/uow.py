"""The unit of work: one transaction, the repositories that share it, and the only commit.

    async with catalog.unit_of_work() as uow:
        asset = await uow.assets.get(collection_uuid, key)
        ...
        await uow.commit()

Leaving the block without `commit()` (an exception, an early return) rolls everything back, so a
failed ingest persists nothing. In a dry run `commit()` rolls back too: nothing is ever written.

With `deferred=True` the transaction starts only at `begin_write()`, so a long job (a folder walk
that may take minutes on a NAS) does not hold SQLite's write lock while it is not writing.

On PostgreSQL there is no database-wide write lock: transactions are READ COMMITTED, and a
writer locks the asset keys it reads (`AssetRepository(lock_keys=True)`, a transaction-scoped
advisory lock per key) so that competing consumers never apply to one key at once.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from consumer.adapters.db.approvals import ApprovalRepository
from consumer.adapters.db.catalog_repository import CollectionRepository, SourceRepository
from consumer.adapters.db.jobs import JobRepository, ResultRepository
from consumer.adapters.db.media import MediaRepository
from consumer.adapters.db.repository import AssetRepository
from consumer.adapters.db.runs import HistoryRepository, RunRepository
from consumer.adapters.db.tombstones import TombstoneRepository
from consumer.domain.errors import OperationError
from shared.runtime.log import get_logger
from shared.sqlite import BEGIN_OPTION

log = get_logger(__name__)


class SqlUnitOfWork:
    assets: AssetRepository
    sources: SourceRepository
    collections: CollectionRepository
    runs: RunRepository
    history: HistoryRepository
    jobs: JobRepository
    results: ResultRepository
    approvals: ApprovalRepository
    media: MediaRepository
    tombstones: TombstoneRepository

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        read_only: bool = False,
        dry_run: bool = False,
        label: str = "",
        deferred: bool = False,
    ) -> None:
        self._engine = engine
        self._read_only = read_only
        self._dry_run = dry_run
        self._label = label
        self._deferred = deferred
        self._conn: AsyncConnection | None = None
        self.committed = False

    @property
    def _writes(self) -> bool:
        return not self._read_only and not self._dry_run

    @property
    def dry_run(self) -> bool:
        return self._dry_run

    async def __aenter__(self) -> Self:
        conn = await self._engine.connect()
        if not self._deferred:
            try:
                await self._begin(conn)
            except BaseException:
                await conn.close()
                raise
        self._conn = conn
        self.assets = AssetRepository(
            conn, lock_keys=self._writes and conn.dialect.name == "postgresql"
        )
        self.sources = SourceRepository(conn)
        self.collections = CollectionRepository(conn)
        self.runs = RunRepository(conn)
        self.history = HistoryRepository(conn)
        self.jobs = JobRepository(conn)
        self.results = ResultRepository(conn)
        self.approvals = ApprovalRepository(conn)
        self.media = MediaRepository(conn)
        self.tombstones = TombstoneRepository(conn)
        return self

    async def _begin(self, conn: AsyncConnection) -> None:
        if self._writes:
            await conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        await conn.begin()
        log.debug("transaction begin", unit=self._label, dry_run=self._dry_run)

    async def begin_write(self) -> None:
        """Start the transaction of a `deferred` unit of work (taking the write lock for a
        writer): a long job does its slow reading of the outside world first."""
        conn = self._require()
        if conn.in_transaction():
            if conn.dialect.name == "postgresql":
                # Its reads began the transaction already; PostgreSQL has no write lock to take.
                return
            raise RuntimeError("the unit of work has already begun")
        await self._begin(conn)

    async def commit(self) -> None:
        conn = self._require()
        if self._dry_run or self._read_only:
            await conn.rollback()
            log.debug("transaction rolled back (nothing to write)", unit=self._label)
            return
        await conn.commit()
        self.committed = True
        log.debug("transaction commit", unit=self._label)

    async def rollback(self) -> None:
        conn = self._require()
        await conn.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._require()
        try:
            if conn.in_transaction():
                await conn.rollback()
                if exc is not None:
                    # A writer's rollback is news for the operator; a reader's is routine, and
                    # a refused operation (a duplicate name...) is reported by its caller.
                    level = "debug" if self._read_only or self._dry_run else "warning"
                    if isinstance(exc, OperationError):
                        level = "info"
                    getattr(log, level)(
                        "transaction rolled back",
                        unit=self._label,
                        error=f"{exc_type.__name__ if exc_type else ''}: {exc}",
                    )
        finally:
            await conn.close()
            self._conn = None

    def _require(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open (use `async with`)")
        return self._conn


UnitOfWorkFactory = Callable[..., SqlUnitOfWork]
