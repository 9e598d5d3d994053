"""One consumer per SQLite catalog: a second one is refused at start, and told why.

SQLite has one writer at a time and no row locks, so competing consumers on it would only queue
on its write lock (and the writer child assumes it is alone). PostgreSQL makes competing
consumers safe (per-key advisory locks, the history's UNIQUE(asset, event), the stale guard), so
there nothing is held. On SQLite an exclusive `flock` on `<catalog>.consumer.lock` is held for
the consumer's life; the kernel releases it when the process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from shared.database import is_postgres
from shared.sqlite import sqlite_path


class SecondConsumerError(RuntimeError):
    """Another consumer already applies events to this SQLite catalog."""

    def __init__(self, database: Path, holder: str) -> None:
        self.database = database
        self.holder = holder
        super().__init__(
            f"another consumer ({holder}) already applies events to the SQLite catalog "
            f"{database}: SQLite has a single writer, so it takes one consumer. To run "
            "competing consumers, move the catalog to PostgreSQL (APOLLONIA_DATABASE_URL="
            "postgresql+psycopg://…; `apollonia db copy --to URL`, see docs/operations.md)."
        )


class ConsumerLock:
    """Held by the one consumer of a SQLite catalog; nothing to hold on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._fd: int | None = None

    @property
    def path(self) -> Path | None:
        database = None if is_postgres(self.url) else sqlite_path(self.url)
        return None if database is None else Path(f"{database}.consumer.lock")

    def acquire(self) -> None:
        """SecondConsumerError when another live process holds the catalog."""
        path = self.path
        if path is None or self._fd is not None:
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown pid"
            os.close(fd)
            database = Path(str(path).removesuffix(".consumer.lock"))
            raise SecondConsumerError(database, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {os.uname().nodename}".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def refuse_second_consumer(url: str) -> ConsumerLock:
    """Call at consumer start; keep the lock until the consumer stops (`release()`)."""
    lock = ConsumerLock(url)
    lock.acquire()
    return lock
