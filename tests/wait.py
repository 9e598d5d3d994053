"""Waiting on a condition in tests: a deadline to fail by, never a timing assertion.

A test that must let something happen waits for the sign that it has (a file, a log record, a
count), not for a fixed time: a fixed sleep is too long on a fast machine and too short on a
loaded one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

WAIT = 60.0  # the most a test waits for something that should take well under a second


def wait_for(predicate: Callable[[], Any], timeout: float = WAIT, *, what: str = "") -> None:
    """Block until `predicate()` is true; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


async def until(condition: Callable[[], Any], *, within: float = WAIT, what: str = "") -> None:
    """Wait for a condition (plain or a coroutine function) without blocking the loop."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.05)
