"""`apollonia consumer` with its enrichment worker beside it and ffprobe missing: the jobs wait,
the service stays ready, and the apply path keeps applying events from the broker."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.conftest import Stack, wait_for

pytestmark = pytest.mark.e2e

MISSING = "/nonexistent/bin/ffprobe"


def start_consumer(stack: Stack) -> subprocess.Popen[bytes]:
    """The consumer as `stack.start` runs it, with ffprobe pointed at nothing."""
    log = stack.logfiles["consumer"] = open(stack.root / "consumer.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "consumer"],
        env=stack.env(
            APOLLONIA_METRICS_PORT=str(stack.consumer_port),
            APOLLONIA_FFPROBE_PATH=MISSING,
            APOLLONIA_ENRICHMENT_POLL_INTERVAL="0.2",
        ),
        stdout=log,
        stderr=log,
    )
    stack.processes["consumer"] = proc
    return proc


def write(stack: Stack, *names: str) -> None:
    for name in names:
        (stack.data / name).write_bytes(f"not even a video: {name}".encode())


def waiting(stack: Stack) -> list[tuple[str, str]]:
    return [
        (status, error)
        for status, error in stack.query("SELECT status, error FROM jobs")
        if status == "pending" and error is not None
    ]


async def test_the_consumer_stays_ready_while_jobs_wait_for_a_missing_ffprobe(
    stack: Stack,
) -> None:
    update = stack.helper_cli(
        "collection", "update", "media", "--add-enricher", "ffprobe", "--priority", "1"
    )
    assert update.code == 0, update.stderr
    consumer = start_consumer(stack)
    stack.start("ingestor")
    await wait_for(
        lambda: stack.ready("consumer") and stack.ready("ingestor"), "both services ready", stack
    )

    write(stack, "a.mkv", "b.mkv", "c.mkv")
    await wait_for(lambda: stack.count() == 3, "3 assets", stack)
    await wait_for(lambda: len(waiting(stack)) == 3, "3 jobs waiting with a reason", stack)
    for status, error in waiting(stack):
        assert status == "pending"
        assert "unavailable: " in error and MISSING in error
    assert stack.query("SELECT DISTINCT state FROM assets") == [("new",)]
    assert stack.query("SELECT count(*) FROM jobs WHERE status != 'pending'") == [(0,)]
    assert stack.ready("consumer")

    # The apply path goes on: more events from the broker are applied and their jobs wait too.
    write(stack, "d.mkv", "e.mkv")
    await wait_for(lambda: stack.count() == 5, "5 assets", stack)
    await wait_for(lambda: len(waiting(stack)) == 5, "5 jobs waiting with a reason", stack)
    assert stack.query("SELECT count(*) FROM enrichment_results") == [(0,)]
    assert stack.ready("consumer")
    assert consumer.poll() is None
    logs = (stack.root / "consumer.log").read_text(errors="replace")
    assert "enrichment waits: an enricher cannot run" in logs
    assert "crashed" not in logs and "Traceback" not in logs
    assert stack.stop("consumer") == 0
