"""The ingestor's state database: a cache of what each file was, and the outbox.

SQLite under `config_dir` (`ingestor-state.db`), owned by one ingestor process:

* `files` — per path (raw bytes): device, inode, size, mtime_ns, sha256, xxh128, the id of the last
  event recorded for it and whether that event has been confirmed by the broker (`published`).
  A file whose size and mtime match its row is never read again, across restarts.
* `outbox` — every event, in order, until the broker has confirmed it. Events are written here
  first and published from here, so a broker outage, a crash or a kill loses nothing.

Why not Alembic (the catalog uses it): this database is a cache plus a queue that only this process
touches; it can always be rebuilt by a rescan. Its schema is created in code and versioned with
`PRAGMA user_version`; a future change adds one step to `_MIGRATIONS`. Hot paths use bulk Core
statements (`executemany`, `INSERT ... ON CONFLICT`), never a statement per row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ingestor.paths import children_range, from_event
from ingestor.records import FileState
from shared.schemas.file_event import FileEvent
from shared.sqlite import BEGIN_OPTION, create_engine

SCHEMA_VERSION = 1
_CHUNK = 500

metadata = MetaData()

files = Table(
    "files",
    metadata,
    Column("path", LargeBinary, primary_key=True),
    Column("device", Integer),
    Column("inode", Integer),
    Column("size", Integer, nullable=False),
    Column("mtime_ns", Integer, nullable=False),
    Column("sha256", String(64)),
    Column("xxh128", String(32)),
    Column("event_id", String(36)),
    Column("published", Boolean, nullable=False, default=False),
    Column("updated_at", Float, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("routing_key", String(32), nullable=False),
    Column("file_path", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    sqlite_autoincrement=True,  # never reuse a sequence number
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


# Step n upgrades user_version n-1 to n.
_MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _create_v1}


class StateSchemaError(RuntimeError):
    """The state database was written by a newer Apollonia."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    event_id: str
    kind: str
    routing_key: str
    file_path: str
    body: bytes
    timestamp: float
    attempts: int


def _state(row: Row[Any]) -> FileState:
    return FileState(
        path=row.path,
        device=row.device,
        inode=row.inode,
        size=row.size,
        mtime_ns=row.mtime_ns,
        sha256=row.sha256,
        xxh128=row.xxh128,
        event_id=row.event_id,
        published=bool(row.published),
        recorded_at=row.updated_at,
    )


def _file_row(event: FileEvent, now: float) -> dict[str, Any]:
    return {
        "path": from_event(event.file_path, event.file_path_b64),
        "device": event.device,
        "inode": event.inode,
        "size": event.size,
        "mtime_ns": event.mtime_ns if event.mtime_ns is not None else 0,
        "sha256": event.sha256_hash,
        "xxh128": event.xxh128_hash,
        "event_id": str(event.event_id),
        "published": False,
        "updated_at": now,
    }


def _outbox_row(event: FileEvent) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "kind": event.kind,
        "routing_key": event.routing_key,
        "file_path": event.file_path,
        "body": event.to_json_bytes(),
        "timestamp": event.observed_at.timestamp(),
        "attempts": 0,
    }


class StateDatabase:
    """Async access to the state database. `open()` creates or upgrades it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        self.outbox_pending = 0
        # One writer at a time inside this process: two connections racing for SQLite's write
        # lock would otherwise sleep in the busy handler (up to 100 ms a round).
        self._write_lock = asyncio.Lock()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("state database not opened")
        return self._engine

    async def open(self) -> StateDatabase:
        self._engine = create_engine(self.url)
        try:
            async with self._write() as conn:
                await conn.run_sync(_upgrade)
            self.outbox_pending = await self.outbox_count()
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._write_lock, self.engine.connect() as conn:
            await conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            async with conn.begin():
                yield conn

    # --- the file cache ----------------------------------------------------------------------

    async def get_many(self, paths: Sequence[bytes]) -> dict[bytes, FileState]:
        out: dict[bytes, FileState] = {}
        if not paths:
            return out
        unique = list(dict.fromkeys(paths))
        async with self.engine.connect() as conn:
            for i in range(0, len(unique), _CHUNK):
                chunk = unique[i : i + _CHUNK]
                result = await conn.execute(select(files).where(files.c.path.in_(chunk)))
                for row in result:
                    state = _state(row)
                    out[state.path] = state
        return out

    async def under(self, directory: bytes) -> list[FileState]:
        """Every known file inside `directory`."""
        low, high = children_range(directory)
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(files).where(files.c.path >= low, files.c.path < high)
            )
            return [_state(row) for row in result]

    async def iterate(self, batch: int = _CHUNK) -> AsyncIterator[list[FileState]]:
        """Every known file, in path order, `batch` at a time."""
        last = b""
        while True:
            async with self.engine.connect() as conn:
                result = await conn.execute(
                    select(files).where(files.c.path > last).order_by(files.c.path).limit(batch)
                )
                rows = [_state(row) for row in result]
            if not rows:
                return
            yield rows
            last = rows[-1].path

    async def count_files(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(files))).scalar_one())

    async def remember(self, events: Sequence[FileEvent]) -> None:
        """Bring the cache in line with events just handed to a sink (in their order)."""
        await self.record(events, enqueue=False)

    async def record(self, events: Sequence[FileEvent], *, enqueue: bool) -> None:
        """Update the cache for `events` and, with `enqueue`, append them to the outbox — both in
        one transaction, so the cache never claims an event the outbox does not hold."""
        if not events:
            return
        now = time.time()
        ops: list[tuple[str, dict[str, Any]]] = []
        for event in events:
            if event.kind == "deleted":
                ops.append(("delete", {"p": from_event(event.file_path, event.file_path_b64)}))
                continue
            if event.kind == "moved" and event.from_path is not None:
                ops.append(("delete", {"p": from_event(event.from_path, None)}))
            ops.append(("put", _file_row(event, now)))
        event_ids = [str(e.event_id) for e in events if e.kind != "deleted"]
        async with self._write() as conn:
            if enqueue:
                await conn.execute(outbox.insert(), [_outbox_row(e) for e in events])
            await _run_ops(conn, ops)
            if not enqueue:  # another sink took them: they count as delivered
                for i in range(0, len(event_ids), _CHUNK):
                    chunk = event_ids[i : i + _CHUNK]
                    await conn.execute(
                        update(files)
                        .where(
                            files.c.event_id.in_(chunk),
                            ~exists().where(outbox.c.event_id == files.c.event_id),
                        )
                        .values(published=True)
                    )
        if enqueue:
            self.outbox_pending += len(events)

    async def seed(self, states: Sequence[FileState]) -> None:
        """Cache what is already known elsewhere (the catalog, after an embedded ingest) as
        delivered, so a startup scan reads none of those files again."""
        if not states:
            return
        now = time.time()
        ops = [
            (
                "put",
                {
                    "path": s.path,
                    "device": s.device,
                    "inode": s.inode,
                    "size": s.size,
                    "mtime_ns": s.mtime_ns,
                    "sha256": s.sha256,
                    "xxh128": s.xxh128,
                    "event_id": None,
                    "published": True,
                    "updated_at": now,
                },
            )
            for s in states
        ]
        async with self._write() as conn:
            await _run_ops(conn, ops)

    async def refresh(self, states: Sequence[FileState]) -> None:
        """Update the stat part of cached rows whose content did not change (no event)."""
        if not states:
            return
        now = time.time()
        params = [
            {
                "p": s.path,
                "device": s.device,
                "inode": s.inode,
                "size": s.size,
                "mtime_ns": s.mtime_ns,
                "updated_at": now,
            }
            for s in states
        ]
        stmt = (
            update(files)
            .where(files.c.path == bindparam("p"))
            .values(
                device=bindparam("device"),
                inode=bindparam("inode"),
                size=bindparam("size"),
                mtime_ns=bindparam("mtime_ns"),
                updated_at=bindparam("updated_at"),
            )
        )
        async with self._write() as conn:
            await conn.execute(stmt, params)

    # --- the outbox --------------------------------------------------------------------------

    async def enqueue(self, events: Sequence[FileEvent]) -> None:
        """Append events to the outbox in one transaction (the cache is left alone)."""
        if not events:
            return
        async with self._write() as conn:
            await conn.execute(outbox.insert(), [_outbox_row(e) for e in events])
        self.outbox_pending += len(events)

    async def outbox_peek(self, limit: int) -> list[OutboxRow]:
        async with self.engine.connect() as conn:
            result = await conn.execute(select(outbox).order_by(outbox.c.seq).limit(limit))
            return [
                OutboxRow(
                    seq=r.seq,
                    event_id=r.event_id,
                    kind=r.kind,
                    routing_key=r.routing_key,
                    file_path=r.file_path,
                    body=r.body,
                    timestamp=r.timestamp,
                    attempts=r.attempts,
                )
                for r in result
            ]

    async def outbox_done(self, rows: Sequence[OutboxRow]) -> None:
        """Confirmed by the broker: remove from the outbox, mark the files published."""
        if not rows:
            return
        seqs = [r.seq for r in rows]
        ids = [r.event_id for r in rows]
        async with self._write() as conn:
            for i in range(0, len(seqs), _CHUNK):
                await conn.execute(delete(outbox).where(outbox.c.seq.in_(seqs[i : i + _CHUNK])))
                await conn.execute(
                    update(files)
                    .where(files.c.event_id.in_(ids[i : i + _CHUNK]))
                    .values(published=True)
                )
        self.outbox_pending = max(0, self.outbox_pending - len(rows))

    async def outbox_failed(self, rows: Sequence[OutboxRow], error: str) -> None:
        if not rows:
            return
        seqs = [r.seq for r in rows]
        async with self._write() as conn:
            for i in range(0, len(seqs), _CHUNK):
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.seq.in_(seqs[i : i + _CHUNK]))
                    .values(attempts=outbox.c.attempts + 1, last_error=error[:500])
                )

    async def outbox_count(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())

    # --- operations --------------------------------------------------------------------------

    async def writable(self) -> bool:
        """Readiness: a real write transaction succeeds."""
        stmt = sqlite_insert(meta).values(key="ready_probe", value=str(time.time()))
        stmt = stmt.on_conflict_do_update(
            index_elements=[meta.c.key], set_={"value": stmt.excluded.value}
        )
        async with self._write() as conn:
            await conn.execute(stmt)
        return True


def _upgrade(conn: Connection) -> None:
    version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
    if version > SCHEMA_VERSION:
        raise StateSchemaError(
            f"state database schema version {version} is newer than this ingestor "
            f"({SCHEMA_VERSION}); upgrade Apollonia or point state_database_url elsewhere"
        )
    while version < SCHEMA_VERSION:
        version += 1
        _MIGRATIONS[version](conn)
        conn.exec_driver_sql(f"PRAGMA user_version = {version}")


async def _run_ops(conn: AsyncConnection, ops: list[tuple[str, dict[str, Any]]]) -> None:
    """Run delete/put operations in order, consecutive ones of a kind as one executemany."""
    put = sqlite_insert(files)
    put = put.on_conflict_do_update(
        index_elements=[files.c.path],
        set_={c.name: put.excluded[c.name] for c in files.columns if c.name != "path"},
    )
    remove = delete(files).where(files.c.path == bindparam("p"))
    i = 0
    while i < len(ops):
        kind = ops[i][0]
        j = i
        while j < len(ops) and ops[j][0] == kind:
            j += 1
        params = [p for _, p in ops[i:j]]
        await conn.execute(put if kind == "put" else remove, params)
        i = j
