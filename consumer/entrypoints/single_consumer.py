"""One consumer per SQLite catalog.

SQLite takes one writer at a time, and the consumer's ordering guarantees (a batch's events
applied in delivery order, one writer child) assume it is the only one: a second consumer on the
same queue and the same SQLite file would only wait on the first one's write lock and reorder
events between them. So a consumer holds an exclusive `flock(2)` on `<catalog>.consumer.lock`
for as long as it runs, and a second one is refused at start with a message that says why and
what to use instead (PostgreSQL, where several consumers compete for the queue).

`flock` belongs to the open file, and the kernel drops it when the process dies however it dies:
after a `kill -9` of the first consumer the next one starts at once (the pid left in the file is
only for the message; it is never trusted).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from shared.sqlite import sqlite_path

SUFFIX = ".consumer.lock"


class ConsumerAlreadyRunningError(OSError):
    """A second consumer on a SQLite catalog. An OSError so every entrypoint that reports a
    failed start (the consumer, `run --amqp`) says it as it is, with exit code 1."""

    def __init__(self, catalog: Path, holder: str) -> None:
        self.catalog = catalog
        self.holder = holder
        super().__init__(
            f"another consumer ({holder}) already applies events to the SQLite catalog "
            f"{catalog}: a SQLite catalog takes one consumer, which is refused a competitor "
            "rather than made to wait on its write lock. To run several consumers on one queue, "
            "put the catalog on PostgreSQL (APOLLONIA_DATABASE_URL=postgresql+psycopg://...; "
            "docs/operations.md, 'Scaling out')"
        )


def lock_path(catalog: Path) -> Path:
    return catalog.with_name(catalog.name + SUFFIX)


class SingleConsumerLock:
    """The lock of one catalog; a no-op for catalogs that are not SQLite files."""

    def __init__(self, catalog_url: str) -> None:
        self.catalog = sqlite_path(catalog_url)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self.catalog is None or self._fd is not None:
            return
        path = lock_path(self.catalog)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not O_TRUNC: the holder's pid must survive our failed attempt.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise ConsumerAlreadyRunningError(self.catalog, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the file drops the lock


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode().strip())
        return f"pid {pid}"
    return "pid unknown"
