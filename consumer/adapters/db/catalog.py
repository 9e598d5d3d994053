"""The one way to open the catalog database."""

from __future__ import annotations

from typing import TYPE_CHECKING

# First: the catalog's modules import `sqlalchemy.ext.asyncio`, and after this that import leaves
# out the ORM, which we do not use (see the module).
import shared.async_engine  # noqa: F401
from consumer.adapters.db import migrate
from consumer.adapters.db.uow import SqlUnitOfWork
from shared.database import create_engine, dialect_of
from shared.sqlite import (
    DEFAULT_BUSY_TIMEOUT_MS,
    CatalogNotFoundError,
    sqlite_path,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


class CatalogDatabase:
    """An engine on the catalog plus units of work on it.

    `dry_run=True` never creates, migrates or writes anything: the catalog must already exist.
    """

    def __init__(
        self, url: str, *, dry_run: bool = False, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    ) -> None:
        self.url = url
        self.dry_run = dry_run
        self.busy_timeout_ms = busy_timeout_ms
        self._engine: AsyncEngine | None = None

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return dialect_of(self.url)

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("catalog not opened")
        return self._engine

    async def open(self, *, migrate_schema: bool = True) -> CatalogDatabase:
        path = sqlite_path(self.url)
        if self.dry_run and path is not None and not path.exists():
            raise CatalogNotFoundError(
                f"no catalog at {path}; a dry run never creates one (run `apollonia db upgrade`)"
            )
        self._engine = create_engine(
            self.url, create_parent=not self.dry_run, busy_timeout_ms=self.busy_timeout_ms
        )
        try:
            if self.dry_run:
                await migrate.require_schema(self._engine)
            elif migrate_schema:
                await migrate.ensure_schema(self._engine)
        except BaseException:
            await self.close()
            raise
        return self

    def unit_of_work(
        self, *, read_only: bool = False, label: str = "", deferred: bool = False
    ) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine, read_only=read_only, dry_run=self.dry_run, label=label, deferred=deferred
        )

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def __aenter__(self) -> CatalogDatabase:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
