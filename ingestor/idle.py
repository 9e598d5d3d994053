"""Idleness: nothing observed is still waiting, settling, being prospected or being emitted.

It is a property of many stages at once; each says whether it is idle, and the pipeline is idle
when all are. Sampling that is simpler than an event per stage, and a test or `wait_idle` needs
nothing finer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Protocol


class Stage(Protocol):
    @property
    def idle(self) -> bool: ...


def all_idle(stages: Iterable[Stage]) -> bool:
    return all(stage.idle for stage in stages)


async def wait_until(condition: Callable[[], bool], poll: float) -> None:
    # Idleness is a property of many parts; sampling it is simpler than an event per part.
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(poll)
