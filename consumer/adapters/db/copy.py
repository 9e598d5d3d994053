"""Moving house: copy a catalog (SQLite) into an empty PostgreSQL one, and prove the copy.

Every table of the schema is copied, in foreign-key order, in one transaction on the target:
sources, collections, assets, their history, runs and logs, jobs and results, and the approvals
trail. The target's own guards stay on except the two that refuse rows a catalog legitimately
holds once it has lived (an asset already `ready`, approved assets — written before their
trail rows would be in a live catalog): they are switched off for this transaction only
(`ALTER TABLE … DISABLE TRIGGER USER` is transactional; foreign keys and CHECK constraints
still apply to every row). After the commit each table is read back from both sides and
compared: row count and a SHA-256 over its rows in primary-key order, values normalised (UTC
datetimes, booleans, JSON) so the same data gives the same digest on either engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from consumer.adapters.db import migrate
from consumer.adapters.db.tables import metadata
from shared.database import create_engine, is_postgres
from shared.runtime.masking import mask_url
from shared.sqlite import CatalogNotFoundError, sqlite_path

CHUNK = 2000


class CopyError(RuntimeError):
    """The copy was refused, or its verification failed; `code` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class TableCopy:
    name: str
    rows: int
    checksum: str


@dataclass(slots=True)
class CopyReport:
    source: str
    target: str
    revision: str
    tables: list[TableCopy] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def tables() -> list[Table]:
    """Every catalog table, parents before children."""
    return list(metadata.sorted_tables)


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _order(conn: AsyncConnection, table: Table) -> list[Any]:
    # Byte order on both engines: PostgreSQL's database collation may sort text otherwise.
    pg = conn.dialect.name == "postgresql"
    return [c.collate("C") if pg and isinstance(c.type, String) else c for c in table.primary_key]


async def _rows(conn: AsyncConnection, table: Table) -> AsyncIterator[list[Any]]:
    result = await conn.stream(select(table).order_by(*_order(conn, table)))
    async for chunk in result.partitions(CHUNK):
        yield [list(row) for row in chunk]


async def table_digest(conn: AsyncConnection, table: Table) -> tuple[int, str]:
    """(rows, sha256) of a table read through its column types."""
    digest = hashlib.sha256()
    count = 0
    async for chunk in _rows(conn, table):
        for row in chunk:
            line = json.dumps([_normalise(v) for v in row], sort_keys=True, default=str)
            digest.update(line.encode())
            digest.update(b"\n")
            count += 1
    return count, digest.hexdigest()


def _existing_rows(sync_conn: Connection) -> dict[str, int]:
    """Tables the target already has, with their row counts."""
    names = inspect(sync_conn).get_table_names()
    counts: dict[str, int] = {}
    for name in names:
        if name == "alembic_version":
            continue
        counts[name] = int(sync_conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
    return counts


async def _refuse_unless_empty(target: AsyncEngine, url: str) -> None:
    async with target.connect() as conn:
        counts = await conn.run_sync(_existing_rows)
    full = {name: n for name, n in counts.items() if n}
    if full:
        listed = ", ".join(f"{name} ({n})" for name, n in sorted(full.items()))
        raise CopyError(
            "copy_target_not_empty",
            f"the target catalog {mask_url(url)} is not empty: {listed}; "
            "copy only into an empty database",
        )
    known = {t.name for t in tables()}
    foreign = sorted(set(counts) - known)
    if foreign:
        raise CopyError(
            "copy_target_not_empty",
            f"the target database {mask_url(url)} holds other tables ({', '.join(foreign)}); "
            "copy only into an empty database",
        )


async def _copy_table(source: AsyncConnection, target: AsyncConnection, table: Table) -> None:
    async for chunk in _rows(source, table):
        await target.execute(
            table.insert(), [dict(zip(table.columns.keys(), row, strict=True)) for row in chunk]
        )


async def _reset_sequences(target: AsyncConnection) -> None:
    """Explicit ids were inserted into SERIAL columns: the next generated one follows them."""
    for table in tables():
        for column in table.primary_key:
            if isinstance(column.type, Integer):
                await target.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"coalesce(max({column.name}), 0) + 1, false) FROM {table.name}"
                )


async def copy_catalog(source_url: str, target_url: str) -> CopyReport:
    """Copy the catalog at `source_url` into the empty PostgreSQL catalog at `target_url`."""
    if not is_postgres(target_url):
        raise CopyError(
            "copy_target_not_postgres",
            f"the target {mask_url(target_url)} is not a PostgreSQL URL "
            "(postgresql+psycopg://USER:PASSWORD@HOST/DATABASE)",
        )
    if is_postgres(source_url) and source_url == target_url:
        raise CopyError("copy_same_database", "the source and the target are the same database")
    path = sqlite_path(source_url)
    if path is not None and not path.exists():
        raise CatalogNotFoundError(f"no catalog at {path} to copy")
    source = create_engine(source_url, create_parent=False)
    target = create_engine(target_url)
    try:
        await migrate.require_schema(source)
        await _refuse_unless_empty(target, target_url)
        await migrate.upgrade(target)
        report = CopyReport(mask_url(source_url), mask_url(target_url), migrate.HEAD_REVISION)
        # One snapshot of the source for the whole copy (SQLite: a read transaction; a running
        # consumer may keep writing, the copy is of the moment it began).
        async with source.connect() as src, target.begin() as dst:
            await src.begin()
            for table in tables():
                await dst.exec_driver_sql(f"ALTER TABLE {table.name} DISABLE TRIGGER USER")
            for table in tables():
                await _copy_table(src, dst, table)
            await _reset_sequences(dst)
            for table in tables():
                await dst.exec_driver_sql(f"ALTER TABLE {table.name} ENABLE TRIGGER USER")
            expected = {t.name: await table_digest(src, t) for t in tables()}
        async with target.connect() as dst:
            for table in tables():
                count, checksum = await table_digest(dst, table)
                if (count, checksum) != expected[table.name]:
                    raise CopyError(
                        "copy_verification_failed",
                        f"table {table.name}: the source has {expected[table.name][0]} rows "
                        f"(sha256 {expected[table.name][1][:12]}), the copy {count} "
                        f"(sha256 {checksum[:12]})",
                    )
                report.tables.append(TableCopy(table.name, count, checksum))
        return report
    finally:
        await source.dispose()
        await target.dispose()


async def row_counts(url: str) -> dict[str, int]:
    """Rows per catalog table (for the runbook's own check, and tests)."""
    engine = create_engine(url, create_parent=False)
    try:
        async with engine.connect() as conn:
            return {
                t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
                for t in tables()
            }
    finally:
        await engine.dispose()
