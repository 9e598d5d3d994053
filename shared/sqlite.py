"""Opening the catalog: one way, with the connection settings every connection needs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url

from shared.async_engine import AsyncEngine, create_async_engine
from shared.storage import prepare_location, storage_error

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
        prepare_location(path)  # a folder we may not write is said up front, with its owner
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "do_connect")
    def _on_do_connect(dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        if dialect.driver == "aiosqlite":
            cparams["async_creator_fn"] = _connect_aiosqlite

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        # "disk is full" or "readonly database" become errors that name the path and say why,
        # without the SQL statement SQLAlchemy's own error would print.
        problem = storage_error(context.original_exception, path)
        if problem is not None:
            raise problem from context.original_exception

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


def _connect_aiosqlite(*args: Any, **kwargs: Any) -> Awaitable[Any]:
    import aiosqlite  # noqa: PLC0415 - loaded with the engine's driver, not with this module

    connection = aiosqlite.connect(*args, **kwargs)
    # aiosqlite runs each connection on a thread of its own; daemon, as SQLAlchemy makes it.
    worker = getattr(connection, "_thread", None)
    if isinstance(worker, threading.Thread):
        worker.daemon = True
    return _connected(connection, worker)


async def _connected(connection: Any, worker: threading.Thread | None) -> Any:
    try:
        return await connection
    except BaseException:
        # A failed connect stops the worker thread without waiting for it; the thread then
        # reports back to the event loop. Wait for it here, while the loop still runs: else
        # asyncio.run() closes the loop first and every failed connect prints two "Event loop
        # is closed" tracebacks from that thread.
        if worker is not None and worker.is_alive():
            await asyncio.to_thread(worker.join)
        raise
