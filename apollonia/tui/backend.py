"""Where the terminal UI's database work runs: one thread with its own event loop that owns the
catalog. The UI's workers submit service-layer calls to it and await the answer, so neither the
queries nor turning 100,000 rows into objects ever runs on the UI's loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TypeVar

from apollonia import bootstrap
from apollonia.settings import Settings
from consumer.adapters.db.catalog import CatalogDatabase

T = TypeVar("T")
STOP_GRACE_SECONDS = 5.0


class Backend:
    """The catalog, opened on a thread of its own; `call` runs a coroutine there."""

    def __init__(self, settings: Settings, *, test_db: bool = False) -> None:
        self.settings = settings
        self.test_db = test_db
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tui-db", daemon=True)
        self._catalog = bootstrap.catalog(settings, test_db=test_db)
        self._opened: Future[CatalogDatabase] | None = None

    @property
    def catalog_url(self) -> str:
        return self._catalog.url

    def _submit(self, work: Callable[[], Awaitable[T]]) -> Future[T]:
        async def run() -> T:
            return await work()

        return asyncio.run_coroutine_threadsafe(run(), self._loop)

    @property
    def ready(self) -> bool:
        """The catalog is open (and migrated)."""
        return self._opened is not None and self._opened.done()

    def start(self) -> None:
        """Start the thread and open (and migrate) the catalog there; `call` waits for it."""
        if self._opened is None:
            self._thread.start()
            self._opened = self._submit(self._catalog.open)

    async def opened(self) -> None:
        """Wait until the catalog is open."""
        self.start()
        assert self._opened is not None
        await asyncio.shield(asyncio.wrap_future(self._opened))

    async def call(self, fn: Callable[[CatalogDatabase], Awaitable[T]]) -> T:
        """`fn(catalog)` on the database thread; its result (or exception) here.

        Shielded: a UI worker that is cancelled (a newer load replaced it, the screen closed)
        stops waiting, but what it started on the database thread finishes; cancelling it
        there would cancel the shared opening of the catalog, or a write halfway."""
        self.start()
        assert self._opened is not None
        catalog = await asyncio.shield(asyncio.wrap_future(self._opened))
        return await asyncio.shield(asyncio.wrap_future(self._submit(lambda: fn(catalog))))

    async def _drain(self) -> None:
        """Let what is running finish (a decision being written), briefly; cancel the rest (a
        load nobody waits for); then close the catalog."""
        current = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not current]
        if others:
            _, pending = await asyncio.wait(others, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
        await self._catalog.close()

    def stop(self) -> None:
        if self._opened is None:
            return
        try:
            self._submit(self._drain).result(timeout=STOP_GRACE_SECONDS + 10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            self._opened = None
