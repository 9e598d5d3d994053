"""Schema migrations, run in-process: `apollonia db upgrade`, and every service on start.

Concurrent starters (twenty `ingest-file` processes on a fresh catalog) serialise on SQLite's write
lock: the version check and the upgrade happen inside one BEGIN IMMEDIATE transaction, so exactly
one of them migrates and the others find the schema current. On PostgreSQL the same is done by
a transaction-scoped advisory lock (DDL is transactional there too).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from shared.database import create_engine
from shared.sqlite import BEGIN_OPTION, sqlite_path

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Alembic is imported only when a migration actually runs: every CLI call checks the schema, and
# the check alone must not pay Alembic's import cost (~0.15 s).

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# The newest revision this code expects. A test checks it against the migration scripts, which
# lets the fast path below skip loading Alembic's script directory on every process start.
HEAD_REVISION = "0010"

# pg_advisory_xact_lock key of "migrating the catalog" (any fixed 64-bit number; ASCII "apollmig").
MIGRATION_LOCK = 0x61706F6C6C6D6967


class SchemaError(RuntimeError):
    """The catalog's schema is not one this code can use."""


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config  # noqa: PLC0415 - lazy, see above

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def script_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - lazy, see above

    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def _current(sync_conn: Connection) -> str | None:
    """The schema revision, read straight from Alembic's version table."""
    if not inspect(sync_conn).has_table("alembic_version"):
        return None
    rows = sync_conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    if len(rows) > 1:
        raise SchemaError(f"the catalog has several schema heads: {[r[0] for r in rows]}")
    return str(rows[0][0]) if rows else None


def _migrate(sync_conn: Connection, target: str, *, downgrade: bool) -> None:
    from alembic import command  # noqa: PLC0415 - lazy, see above

    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    if downgrade:
        command.downgrade(cfg, target)
    else:
        command.upgrade(cfg, target)
    if sync_conn.dialect.name != "sqlite":
        return  # PostgreSQL checks foreign keys on every statement, migrations included
    problems = sync_conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise SchemaError(f"migration left dangling foreign keys: {problems[:5]}")


def _migrate_locked(sync_conn: Connection, target: str, *, downgrade: bool) -> None:
    # Waits for a concurrent starter's migration to commit; it then finds its work done.
    sync_conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    if not downgrade and target == "head" and _current(sync_conn) == HEAD_REVISION:
        return
    _migrate(sync_conn, target, downgrade=downgrade)


async def _run(engine: AsyncEngine, target: str, *, downgrade: bool = False) -> None:
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.run_sync(_migrate_locked, target, downgrade=downgrade)
        return
    async with engine.connect() as conn:
        # Batch migrations recreate tables; with foreign keys on, dropping the old table would
        # cascade-delete rows that point at it. The pragma only works outside a transaction,
        # so it goes straight to the driver: through SQLAlchemy, autobegin (our BEGIN on the
        # "begin" event) would open one first and the pragma would do nothing.
        await _foreign_keys(conn, enabled=False)
        try:
            locked = await conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            await locked.run_sync(_migrate, target, downgrade=downgrade)
            await locked.commit()
        finally:
            await _foreign_keys(conn, enabled=True)


async def _foreign_keys(conn: AsyncConnection, *, enabled: bool) -> None:
    if conn.dialect.name != "sqlite":
        return
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.execute(f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}")


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    await _run(engine, target)


async def downgrade(engine: AsyncEngine, target: str = "base") -> None:
    await _run(engine, target, downgrade=True)


async def ensure_schema(engine: AsyncEngine) -> None:
    """Upgrade when needed; cheap when the schema is already current."""
    if await current_revision(engine) == HEAD_REVISION:
        return
    await upgrade(engine)


async def require_schema(engine: AsyncEngine) -> None:
    """For read-only runs (dry-run): fail instead of creating or migrating anything."""
    revision = await current_revision(engine)
    if revision != HEAD_REVISION:
        found = "no schema" if revision is None else f"schema revision {revision}"
        raise SchemaError(
            f"the catalog has {found}, expected {HEAD_REVISION}: run `apollonia db upgrade` first"
        )


async def table_names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: inspect(c).get_table_names())


async def upgrade_catalog(url: str) -> tuple[str | None, str | None]:
    """`apollonia db upgrade`: create or migrate the catalog at `url`; (before, after)."""
    engine = create_engine(url)
    try:
        before = await current_revision(engine)
        await upgrade(engine)
        return before, await current_revision(engine)
    finally:
        await engine.dispose()


async def catalog_revision(url: str) -> str | None:
    """The catalog's schema revision, None when it does not exist yet (nothing is created)."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    engine = create_engine(url, create_parent=False)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()
