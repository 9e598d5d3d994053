"""The services' health/metrics HTTP server and `apollonia health` against it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from shared.runtime.health import HealthServer
from tests.wait import until

pytestmark = pytest.mark.integration


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def health_cli(port: int, *extra: str) -> int:
    env = dict(os.environ, APOLLONIA_METRICS_PORT=str(port))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "apollonia",
        "health",
        "--service",
        "consumer",
        *extra,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await proc.wait()


async def test_endpoints_and_health_command() -> None:
    registry = CollectorRegistry()
    Counter("apollonia_test_things", "things", registry=registry).inc(3)
    ready = {"broker": True}
    server = HealthServer(
        "127.0.0.1",
        0,
        service="consumer",
        registry=registry,
        ready_checks={"broker": lambda: ready["broker"]},
    )
    await server.start()
    try:
        port = server.bound_port
        assert port
        base = f"http://127.0.0.1:{port}"
        status, body = await asyncio.to_thread(get, f"{base}/healthz")
        assert status == 200
        assert json.loads(body)["status"] == "ok"
        status, body = await asyncio.to_thread(get, f"{base}/metrics")
        assert status == 200
        assert b"apollonia_test_things_total 3.0" in body
        assert await health_cli(port) == 0
        assert await health_cli(port, "--ready") == 0

        ready["broker"] = False
        status, body = await asyncio.to_thread(get, f"{base}/readyz")
        assert status == 503
        assert json.loads(body)["checks"] == {"broker": False}
        assert await health_cli(port, "--ready") == 1
    finally:
        await server.stop()
    assert await health_cli(port) == 1  # nothing listens any more


async def test_a_blocked_event_loop_fails_liveness() -> None:
    server = HealthServer(
        "127.0.0.1",
        0,
        service="ingestor",
        ready_checks={},
        heartbeat_interval=0.05,
        stall_after=0.3,
    )
    await server.start()
    try:
        await until(lambda: server.loop_lag() < 0.3, what="the heartbeat to tick")
        time.sleep(0.5)  # deliberately block the loop, as a hash on the loop would
        assert server.loop_lag() >= 0.3
    finally:
        await server.stop()
