"""Deliveries into batches: up to `size` messages, or what came within `window` seconds of the
first one, whichever is first. A stop closes the batch being gathered at once; the batcher then
hands out what is left in the inbox and says it is done."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    def __init__(self, size: int, window: float, stop: asyncio.Event) -> None:
        self.size = size
        self.window = window
        self._stop = stop
        self._inbox: asyncio.Queue[T] = asyncio.Queue()

    def put(self, item: T) -> None:
        self._inbox.put_nowait(item)

    async def next_batch(self) -> list[T] | None:
        """The next batch, or None once a stop was requested and the inbox is empty."""
        inbox, size = self._inbox, self.size
        loop = asyncio.get_running_loop()
        while True:
            if self._stop.is_set() and inbox.empty():
                return None
            try:
                first = await asyncio.wait_for(inbox.get(), 0.5)
            except TimeoutError:
                continue
            batch = [first]
            deadline = loop.time() + self.window
            while len(batch) < size:
                while len(batch) < size and not inbox.empty():
                    batch.append(inbox.get_nowait())
                remaining = deadline - loop.time()
                if len(batch) >= size or remaining <= 0 or self._stop.is_set():
                    break
                await asyncio.sleep(min(remaining, 0.005))
            return batch
