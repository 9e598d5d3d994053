"""The pipeline's long-lived tasks, by name, and the helpers that wait for them at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from shared.runtime.log import get_logger

# The stages log under the pipeline's name, as before they were split out of it.
log = get_logger("ingestor.pipeline")


class Workers:
    """Spawned tasks, kept by name so shutdown can stop them in order; a task that dies while
    the pipeline is not stopping is logged."""

    def __init__(self, stopping: Callable[[], bool]) -> None:
        self._stopping = stopping
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def all(self) -> list[asyncio.Task[None]]:
        return list(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self._tasks.append(task)
        task.add_done_callback(self._crashed)
        return task

    def named(self, *names: str) -> list[asyncio.Task[None]]:
        by_name = {t.get_name(): t for t in self._tasks}
        return [by_name[n] for n in names if n in by_name]

    def _crashed(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._stopping():
            log.error("pipeline task died", task=task.get_name(), error=repr(task.exception()))


async def wait_within(task: asyncio.Task[None], budget: float) -> None:
    """Wait for `task` at most `budget` seconds, then cancel it; its failure is not ours."""
    try:
        async with asyncio.timeout(max(0.0, budget)):
            await asyncio.shield(task)
    except TimeoutError:
        task.cancel()
    except Exception:
        pass


async def wait_all_within(tasks: Sequence[asyncio.Future[None]], budget: float) -> None:
    """Wait for `tasks` at most `budget` seconds, then cancel those still running."""
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, budget))
    for task in pending:
        task.cancel()
