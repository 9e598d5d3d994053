"""Whether the broker tests can run: skip them with one reason when RabbitMQ does not answer,
or fail them when the run demands a broker (CI sets APOLLONIA_REQUIRE_BROKER=1, so a broker
that did not come up can never pass as a green run of skips)."""

from __future__ import annotations

import functools
import os
import socket
from enum import Enum
from urllib.parse import urlsplit

import pytest

AMQP_URL = os.environ.get("APOLLONIA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
# Read at import: the autouse fixture clears APOLLONIA_* variables for every test.
REQUIRED = os.environ.get("APOLLONIA_REQUIRE_BROKER") == "1"


class Outcome(Enum):
    RUN = "run"
    SKIP = "skip"
    FAIL = "fail"


def outcome(*, answers: bool, required: bool) -> Outcome:
    """What a broker test does: run when the broker answers, else skip, or fail if required."""
    if answers:
        return Outcome.RUN
    return Outcome.FAIL if required else Outcome.SKIP


def address(url: str) -> tuple[str, int]:
    """host and port of an AMQP URL (5672, or 5671 for amqps, when it names none)."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (5671 if parts.scheme == "amqps" else 5672)


@functools.cache
def answers(url: str, timeout: float = 2.0) -> bool:
    """Something accepts TCP connections at the URL's address (asked once per run)."""
    try:
        with socket.create_connection(address(url), timeout=timeout):
            return True
    except OSError:
        return False


def reason(url: str, *, required: bool) -> str:
    """One line: where the broker was looked for, and what that does to the broker tests."""
    host, port = address(url)
    missing = f"RabbitMQ does not answer on {host}:{port} (APOLLONIA_TEST_AMQP_URL)"
    if required:
        return f"{missing}; APOLLONIA_REQUIRE_BROKER=1, so broker tests fail"
    return f"{missing}; broker tests skipped (APOLLONIA_REQUIRE_BROKER=1 makes this a failure)"


def require_broker(url: str = AMQP_URL, *, required: bool = REQUIRED) -> None:
    """Call first in every fixture that connects to the broker."""
    decided = outcome(answers=answers(url), required=required)
    if decided is Outcome.SKIP:
        pytest.skip(reason(url, required=False))
    if decided is Outcome.FAIL:
        pytest.fail(reason(url, required=True), pytrace=False)
