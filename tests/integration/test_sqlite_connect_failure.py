"""A failed SQLite connect leaves no aiosqlite thread behind to report to a closed event loop.

aiosqlite stops a connection's worker thread after a failed connect but does not wait for it;
the thread then calls back into the event loop. When the failure ends the program,
`asyncio.run()` has closed the loop by then, and the thread prints two "RuntimeError: Event
loop is closed" tracebacks per connect attempt (issue 17, item 5: 25 lines of them).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from apollonia.settings import sqlite_url
from shared.sqlite import create_engine
from shared.storage import StorageError


async def fail_to_connect(url: str) -> None:
    engine = create_engine(url, create_parent=False)
    try:
        with pytest.raises(StorageError):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()


def test_a_failed_connect_does_not_outlive_its_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: thread_errors.append(args.exc_value))
    # No folder, and create_parent=False: SQLite cannot open the file.
    url = sqlite_url(tmp_path / "missing" / "a.db")
    for _ in range(20):  # each run as a one-shot command does: a loop of its own, then closed
        asyncio.run(fail_to_connect(url))
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=10)
    assert [str(e) for e in thread_errors] == []
