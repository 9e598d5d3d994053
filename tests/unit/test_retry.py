"""shared.retry: the backoff every process waits between broker attempts, and its retry loop."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.retry import Backoff, retry_with_backoff


@given(
    initial=st.floats(min_value=0.01, max_value=10.0),
    maximum=st.floats(min_value=0.01, max_value=100.0),
    attempt=st.integers(min_value=-3, max_value=200),
)
def test_a_delay_is_the_doubled_base_shortened_by_at_most_a_fifth(
    initial: float, maximum: float, attempt: int
) -> None:
    base = min(maximum, initial * 2.0 ** max(0, attempt - 1))
    delay = Backoff(initial, maximum).delay(attempt)
    assert base * 0.8 <= delay <= base
    assert delay <= maximum


def test_delays_double_from_the_initial_one_until_the_cap() -> None:
    backoff = Backoff(1.0, 30.0)
    # The jitter band of attempt n is [0.8, 1.0] x 2**(n-1): consecutive bands do not overlap,
    # so every delay is longer than the one before until the cap.
    delays = [backoff.delay(n) for n in range(1, 6)]
    assert delays == sorted(delays)
    assert 0.8 <= delays[0] <= 1.0
    assert 12.8 <= delays[4] <= 16.0
    assert all(24.0 <= backoff.delay(n) <= 30.0 for n in range(6, 60))


def test_the_jitter_varies_the_delay() -> None:
    assert len({Backoff(1.0, 30.0).delay(3) for _ in range(50)}) > 1


def test_attempts_below_one_wait_the_initial_delay() -> None:
    assert 0.4 <= Backoff(0.5, 30.0).delay(0) <= 0.5


async def test_retries_until_the_step_succeeds_and_reports_every_failure() -> None:
    calls: list[int] = []
    failures: list[tuple[str, int, float]] = []

    async def step() -> str:
        calls.append(len(calls))
        if len(calls) < 3:
            raise ConnectionError(f"down {len(calls)}")
        return "up"

    def failed(exc: BaseException, attempt: int, delay: float) -> None:
        failures.append((str(exc), attempt, delay))

    result = await retry_with_backoff(step, Backoff(0.001, 0.004), on_failure=failed)
    assert result == "up"
    assert [(text, n) for text, n, _ in failures] == [("down 1", 1), ("down 2", 2)]
    assert 0.0008 <= failures[0][2] <= 0.001
    assert 0.0016 <= failures[1][2] <= 0.002


async def test_an_error_it_does_not_retry_propagates_at_once() -> None:
    attempts: list[int] = []

    async def step() -> None:
        attempts.append(1)
        raise KeyError("a bug, not an outage")

    with pytest.raises(KeyError):
        await retry_with_backoff(
            step, Backoff(0.001, 0.001), on_failure=lambda *_: None, retry_on=ConnectionError
        )
    assert attempts == [1]


async def test_on_failure_raising_ends_the_retries() -> None:
    async def step() -> None:
        raise ConnectionError("down")

    def give_up_after_two(exc: BaseException, attempt: int, delay: float) -> None:
        if attempt > 2:
            raise RuntimeError(f"gave up after {attempt}")

    with pytest.raises(RuntimeError, match="gave up after 3"):
        await retry_with_backoff(step, Backoff(0.001, 0.001), on_failure=give_up_after_two)


async def test_a_stop_ends_the_wait_and_the_loop() -> None:
    stop = asyncio.Event()
    attempts: list[int] = []

    async def step() -> str:
        attempts.append(1)
        raise ConnectionError("down")

    def failed(exc: BaseException, attempt: int, delay: float) -> None:
        stop.set()  # e.g. SIGTERM while the broker is down

    # A one-hour backoff: only the stop can end this wait.
    result = await retry_with_backoff(step, Backoff(3600.0, 3600.0), on_failure=failed, stop=stop)
    assert result is None
    assert attempts == [1]


async def test_a_stop_already_set_makes_no_attempt() -> None:
    stop = asyncio.Event()
    stop.set()
    attempts: list[int] = []

    async def step() -> str:
        attempts.append(1)
        return "up"

    assert await retry_with_backoff(step, Backoff(), on_failure=lambda *_: None, stop=stop) is None
    assert attempts == []
