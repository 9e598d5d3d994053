"""A SQLite catalog takes one consumer, as an operator meets it: a second `apollonia consumer`
process is refused at start with a message that says why and points to PostgreSQL, and a
`kill -9` of the first leaves no lock behind (no false positive). The lock itself:
consumer/adapters/db/single_consumer.py, tests/integration/postgres/test_concurrency.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.broker import AMQP_URL, unique_exchange
from tests.cli import run_cli_process
from tests.wait import wait_for

pytestmark = pytest.mark.integration


def test_a_second_consumer_process_is_refused_and_starts_after_a_kill(tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLONIA_")}
    env.update(
        {
            "APOLLONIA_AMQP_URL": AMQP_URL,
            "APOLLONIA_EXCHANGE": unique_exchange(),
            "APOLLONIA_CONFIG_DIR": str(config),
            "APOLLONIA_METRICS_PORT": "0",
            "APOLLONIA_ENRICHMENT_WORKER": "false",
            "APOLLONIA_LOG_FORMAT": "json",
        }
    )
    assert run_cli_process("db", "upgrade", env=env).code == 0
    log = (tmp_path / "first.log").open("wb")
    first = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "consumer"], env=env, stdout=log, stderr=log
    )
    try:
        lock = config / "apollonia.db.consumer.lock"
        wait_for(lambda: lock.exists() and f"pid {first.pid} " in lock.read_text())
        second = run_cli_process("consumer", env=env, timeout=60)
        assert second.code == 1, second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert "one consumer" in second.stderr
        assert "PostgreSQL" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        log.close()
    # After the kill -9 a consumer starts at once; it is stopped with SIGTERM as usual.
    third = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "consumer"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: f"pid {third.pid} " in lock.read_text() or third.poll() is not None)
        assert third.poll() is None
    finally:
        third.send_signal(signal.SIGTERM)
        _, err = third.communicate(timeout=60)
    assert third.returncode == 0, err
