"""Trying again: one backoff, one retry loop, for every process (the broker, the catalog).

`Backoff` says how long to wait before attempt n; `retry_with_backoff` keeps trying a step (a
broker connect, a subscribe, a whole consume session, a catalog transaction) until it succeeds,
waiting the backoff in between. What a failure means — log it, count it, give up — is the
caller's `on_failure`, which may raise to stop retrying. Nothing here touches the network
itself, so it is tested without a broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with a little jitter: initial, doubling, capped at `maximum`.

    The jitter only ever shortens a delay (by up to 20 %), so the cap is a real upper bound and
    processes restarted together do not hammer the broker in step."""

    initial: float = 0.5
    maximum: float = 30.0

    def delay(self, attempt: int) -> float:
        base = min(self.maximum, self.initial * 2.0 ** max(0, attempt - 1))
        return base * random.uniform(0.8, 1.0)


async def retry_with_backoff(
    step: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    on_failure: Callable[[BaseException, int, float], None],
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = Exception,
    stop: asyncio.Event | None = None,
) -> T | None:
    """Await `step()` until it returns, and return its result.

    After the n-th failure (an instance of `retry_on`; anything else propagates) `on_failure(exc,
    n, delay)` is called, then the loop waits `delay = backoff.delay(n)`. `stop` being set ends
    the wait and the loop early: the result is then None.
    """
    attempt = 0
    while stop is None or not stop.is_set():
        try:
            return await step()
        except retry_on as exc:
            attempt += 1
            delay = backoff.delay(attempt)
            on_failure(exc, attempt, delay)
            if stop is None:
                await asyncio.sleep(delay)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
    return None
