"""Opening the catalog: one way, with the connection settings every connection needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url

from shared.async_engine import AsyncEngine, create_async_engine

DEFAULT_BUSY_TIMEOUT_MS = 30_000

# Execution option naming how a transaction begins. Writers take the write lock up front
# (BEGIN IMMEDIATE): a deferred transaction that later tries to write can fail with "database is
# locked" without waiting, because SQLite cannot upgrade a stale read snapshot. Readers stay
# deferred so they never block writers.
BEGIN_OPTION = "apollonia_begin"


class CatalogNotFoundError(RuntimeError):
    """A read-only operation (dry run) was pointed at a catalog that does not exist."""


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for memory databases and other engines."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(
    url: str,
    *,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    create_parent: bool = True,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine whose every connection is set up the same way, in this order:
    busy_timeout, journal_mode=WAL, foreign_keys=ON, synchronous=NORMAL."""
    path = sqlite_path(url)
    if path is not None and create_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the driver's implicit BEGIN is off) so that
        # BEGIN IMMEDIATE and transactional DDL work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
