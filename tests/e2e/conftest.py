"""End-to-end: real `apollonia` processes (ingestor, consumer, CLI) on a real tree and the real
broker. Each test gets its own exchange, config folders and data folder."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from tests.broker import AMQP_URL, Broker, broker
from tests.cli import Result, run_cli, run_cli_process

WAIT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """The environment every process of one test shares."""

    root: Path
    data: Path
    exchange: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logfiles: dict[str, IO[bytes]] = field(default_factory=dict)
    consumer_port: int = field(default_factory=free_port)
    ingestor_port: int = field(default_factory=free_port)

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def db(self) -> Path:
        return self.config / "apollonia.db"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLONIA_")}
        env.update(
            {
                "APOLLONIA_AMQP_URL": AMQP_URL,
                "APOLLONIA_EXCHANGE": self.exchange,
                "APOLLONIA_CONFIG_DIR": str(self.config),
                "APOLLONIA_DATA_DIRECTORY": str(self.data),
                "APOLLONIA_SETTLE_SECONDS": "0.5",
                "APOLLONIA_RECONCILE_INTERVAL": "0",
                "APOLLONIA_LOG_FORMAT": "json",
                "APOLLONIA_BATCH_MS": "50",
                "APOLLONIA_DELIVERY_LIMIT": "3",
            }
        )
        env.update(extra)
        return env

    def cli(self, *args: str, **env: str) -> Result:
        """The command as a user runs it, in its own process (what the e2e tests exercise)."""
        return run_cli_process(*args, env=self.env(**env))

    def helper_cli(self, *args: str, **env: str) -> Result:
        """The command in-process, for setting up and polling (it is not what a test checks)."""
        return run_cli(*args, env=self.env(**env))

    def start(self, service: str, *args: str) -> subprocess.Popen[bytes]:
        port = self.consumer_port if service == "consumer" else self.ingestor_port
        log = self.logfiles.get(service)
        if log is None:
            log = self.logfiles[service] = open(self.root / f"{service}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "apollonia", service, *args],
            env=self.env(APOLLONIA_METRICS_PORT=str(port)),
            stdout=log,
            stderr=log,
        )
        self.processes[service] = proc
        return proc

    def stop(self, service: str, sig: int = signal.SIGTERM) -> int:
        proc = self.processes.pop(service)
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def ready(self, service: str) -> bool:
        port = self.consumer_port if service == "consumer" else self.ingestor_port
        return (
            self.helper_cli(
                "health", "--service", service, "--ready", APOLLONIA_METRICS_PORT=str(port)
            ).code
            == 0
        )

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()

    def count(self, where: str = "1") -> int:
        rows = self.query(f"SELECT count(*) FROM assets WHERE {where}")
        return int(rows[0][0]) if rows else 0

    def logs(self, service: str) -> str:
        path = self.root / f"{service}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


async def wait_for(
    condition: Callable[[], bool], what: str, stack: Stack, within: float = WAIT
) -> None:
    """A deadline to fail by (never a timing assertion); shows the service logs on failure."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {what}\n--- consumer ---\n"
                f"{stack.logs('consumer')}\n--- ingestor ---\n"
                f"{stack.logs('ingestor')}"
            )
        await asyncio.sleep(0.2)


@pytest.fixture
async def bus() -> AsyncIterator[Broker]:
    async with broker(delivery_limit=3) as b:
        yield b


@pytest.fixture
def stack(tmp_path: Path, bus: Broker) -> Iterator[Stack]:
    data = tmp_path / "data"
    data.mkdir()
    s = Stack(root=tmp_path, data=data, exchange=bus.topology.exchange)
    add = s.helper_cli("source", "add", "--type", "filesystem", "--name", "local", "--json")
    assert add.code == 0, add.stderr
    col = s.helper_cli(
        "collection", "add", "--source", "local", "--name", "media", "--path", str(data), "--json"
    )
    assert col.code == 0, col.stderr
    try:
        yield s
    finally:
        for name in list(s.processes):
            s.stop(name, signal.SIGKILL)
        for log in s.logfiles.values():
            log.close()
