"""The broker is down: every service still stops on SIGTERM within its shutdown timeout, and
`apollonia run --amqp` keeps file changes in the ingestor's outbox until the broker is back."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.broker import AMQP_URL
from tests.e2e.conftest import Stack, wait_for
from tests.integration.ingestor.proxy import TcpProxy

pytestmark = pytest.mark.e2e

SHUTDOWN_TIMEOUT = 3
# A liveness bound, not a timing assertion: a process that ignores SIGTERM never ends at all.
MARGIN = 20


def dead_broker_url(proxy: TcpProxy) -> str:
    """The broker behind a proxy whose port is closed until the test starts it."""
    host_and_creds, _, _ = AMQP_URL.rpartition("@")
    return f"{host_and_creds}@127.0.0.1:{proxy.port}/"


def outbox_paths(state_db: Path) -> list[str]:
    if not state_db.exists():
        return []
    conn = sqlite3.connect(f"file:{state_db}?mode=ro", uri=True, timeout=30)
    try:
        return [row[0] for row in conn.execute("SELECT file_path FROM outbox ORDER BY seq")]
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def start(stack: Stack, proxy: TcpProxy, *args: str) -> subprocess.Popen[bytes]:
    log = open(stack.root / f"{args[0]}.log", "ab")  # noqa: SIM115 - closed by the stack
    stack.logfiles[f"{args[0]}-{id(log)}"] = log
    return subprocess.Popen(
        [sys.executable, "-m", "apollonia", *args],
        env=stack.env(
            APOLLONIA_AMQP_URL=dead_broker_url(proxy),
            APOLLONIA_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT),
            APOLLONIA_METRICS_PORT=str(stack.consumer_port),
        ),
        stdout=log,
        stderr=log,
    )


async def stop(proc: subprocess.Popen[bytes], stack: Stack, what: str) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.to_thread(proc.wait, SHUTDOWN_TIMEOUT + MARGIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        logs = "".join(
            (stack.root / f"{name}.log").read_text(errors="replace")[-3000:]
            for name in ("run", "consumer", "ingestor")
            if (stack.root / f"{name}.log").exists()
        )
        raise AssertionError(f"{what} ignored SIGTERM while the broker was down\n{logs}") from None


async def test_run_amqp_keeps_events_in_the_outbox_and_stops_while_the_broker_is_down(
    stack: Stack,
) -> None:
    proxy = TcpProxy("127.0.0.1", 5672)  # closed: nothing listens on its port yet
    state_db = stack.config / "ingestor-state.db"
    proc = start(stack, proxy, "run", "--amqp", "--data", str(stack.data))
    try:
        await asyncio.sleep(1)  # let it get as far as it gets before the file appears
        (stack.data / "Offline - S01E01.mkv").write_bytes(b"written while the broker is away")
        await wait_for(
            lambda: any(p.endswith("Offline - S01E01.mkv") for p in outbox_paths(state_db)),
            "the new file in the ingestor's outbox",
            stack,
        )
        assert await stop(proc, stack, "run --amqp") == 0
        assert stack.count() == 0

        await proxy.start()
        proc = start(stack, proxy, "run", "--amqp", "--data", str(stack.data))
        await wait_for(
            lambda: stack.count("canonical_key LIKE '%Offline - S01E01.mkv'") == 1,
            "the kept event to reach the catalog once the broker is back",
            stack,
        )
        assert await stop(proc, stack, "run --amqp") == 0
        assert outbox_paths(state_db) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await proxy.stop()


@pytest.mark.parametrize("service", ["consumer", "ingestor"])
async def test_a_standalone_service_stops_while_the_broker_is_down(
    stack: Stack, service: str
) -> None:
    proxy = TcpProxy("127.0.0.1", 5672)
    proc = start(stack, proxy, service)
    try:
        await wait_for(
            lambda: "broker unreachable" in (stack.root / f"{service}.log").read_text(),
            f"the {service} to find the broker unreachable",
            stack,
        )
        if service == "ingestor":
            (stack.data / "Offline.mkv").write_bytes(b"x")
            state_db = stack.config / "ingestor-state.db"
            await wait_for(
                lambda: any(p.endswith("Offline.mkv") for p in outbox_paths(state_db)),
                "the new file in the outbox",
                stack,
            )
        assert await stop(proc, stack, service) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
