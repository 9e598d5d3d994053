"""Where the consumer's units of work run: in this process, or in a child process.

Measured on a 2-core machine: the consumer held one core at 94% and left the other idle.
Receiving and parsing (asyncio, aiormq, pydantic) and deciding and writing (the apply path,
SQLAlchemy, the SQLite driver) all queued for one GIL. With `ProcessWriter` the child owns the
catalog writes: the parent receives, parses, routes and acks while the child applies the
previous batch. Each group is still one unit of work, committed before the parent acks it, so
the delivery guarantees are unchanged: a child that dies mid-batch leaves the batch unacked and
RabbitMQ redelivers it (the apply path is idempotent).

The child is started with `spawn` (never `fork`: the parent runs threads and an event loop) and
warmed up before the consumer subscribes, so its start-up never delays a batch.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta
from typing import Protocol

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.catalog import Collection
from consumer.domain.move_inference import DEFAULT_MOVE_WINDOW
from consumer.service_layer.apply import ApplyOutcome, Change
from consumer.service_layer.events import EVENT_BATCH, commit_group
from shared.runtime.gc import tune_gc
from shared.runtime.log import configure_logging, get_logger

log = get_logger(__name__)


class WriterError(RuntimeError):
    """A group could not be applied (its transaction was rolled back)."""


class GroupWriter(Protocol):
    async def start(self) -> None: ...

    async def apply(
        self,
        collection: Collection,
        changes: Sequence[Change],
        *,
        now: datetime,
        run_uuid: str,
    ) -> ApplyOutcome: ...

    async def close(self) -> None: ...


class InProcessWriter:
    """Applies groups on the caller's own catalog (in-memory catalogs, or when configured)."""

    def __init__(
        self, catalog: CatalogDatabase, *, move_window: timedelta = DEFAULT_MOVE_WINDOW
    ) -> None:
        self.catalog = catalog
        self.move_window = move_window

    async def start(self) -> None:
        return None

    async def apply(
        self,
        collection: Collection,
        changes: Sequence[Change],
        *,
        now: datetime,
        run_uuid: str,
    ) -> ApplyOutcome:
        return await commit_group(
            self.catalog,
            collection,
            changes,
            now=now,
            run_uuid=run_uuid,
            run=EVENT_BATCH,
            move_window=self.move_window,
        )

    async def close(self) -> None:
        return None


class ProcessWriter:
    """Applies groups in one child process that keeps its own connection to the catalog."""

    def __init__(
        self,
        database_url: str,
        *,
        busy_timeout_ms: int,
        log_level: str,
        log_format: str,
        move_window: timedelta = DEFAULT_MOVE_WINDOW,
    ) -> None:
        self._args = (database_url, busy_timeout_ms, log_level, log_format)
        self.move_window = move_window
        self._pool: ProcessPoolExecutor | None = None
        self.pid: int | None = None  # the child's, once started

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_start,
                initargs=self._args,
            )
        return self._pool

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.pid = await loop.run_in_executor(self._executor(), _child_ping)
        log.info("catalog writer process started", pid=self.pid)

    async def apply(
        self,
        collection: Collection,
        changes: Sequence[Change],
        *,
        now: datetime,
        run_uuid: str,
    ) -> ApplyOutcome:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._executor(),
                _child_apply,
                collection,
                list(changes),
                now,
                run_uuid,
                self.move_window,
            )
        except BrokenProcessPool as exc:
            # The child died (killed, out of memory) before it could answer. A new child is
            # started; this group is redelivered (if it did commit, the re-apply is a no-op).
            log.error("catalog writer process died; starting a new one", pid=self.pid)
            self._discard()
            await self.start()
            raise WriterError("the catalog writer process died") from exc

    def _discard(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True)


# --- the child process --------------------------------------------------------------------------
# The child's event loop and catalog, set once by the pool's initializer.
_CHILD: dict[str, tuple[asyncio.AbstractEventLoop, CatalogDatabase]] = {}


def _child_start(database_url: str, busy_timeout_ms: int, log_level: str, log_format: str) -> None:
    # Ctrl-C reaches the whole process group, and some supervisors signal every process of a
    # service: the parent decides when its writer stops (after the last commit), not the signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_with_parent, args=(parent.sentinel,), name="parent-watch", daemon=True
        ).start()
    configure_logging(log_level, log_format)
    tune_gc()
    loop = asyncio.new_event_loop()
    catalog = CatalogDatabase(database_url, busy_timeout_ms=busy_timeout_ms)
    loop.run_until_complete(catalog.open())
    _CHILD["state"] = (loop, catalog)


def _exit_with_parent(sentinel: int) -> None:
    """A consumer killed outright (SIGKILL, OOM) must not leave its writer behind holding a
    catalog connection: its unacked batch is redelivered to the next consumer anyway."""
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _child_ping() -> int:
    """The child's pid, once its catalog is open (the initializer ran)."""
    assert "state" in _CHILD
    return os.getpid()


def _child_apply(
    collection: Collection,
    changes: list[Change],
    now: datetime,
    run_uuid: str,
    move_window: timedelta = DEFAULT_MOVE_WINDOW,
) -> ApplyOutcome:
    loop, catalog = _CHILD["state"]
    try:
        return loop.run_until_complete(
            commit_group(
                catalog,
                collection,
                changes,
                now=now,
                run_uuid=run_uuid,
                run=EVENT_BATCH,
                move_window=move_window,
            )
        )
    except Exception as exc:
        # Driver exceptions do not always survive pickling: send their text instead.
        raise WriterError(f"{type(exc).__name__}: {exc}") from None
