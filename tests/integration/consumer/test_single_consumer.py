"""A SQLite catalog takes one consumer: a second `apollonia consumer` is refused at start with a
message that says why and points to PostgreSQL, and a `kill -9` of the first leaves no lock
behind (no false positive)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from apollonia.settings import sqlite_url
from consumer.entrypoints.single_consumer import (
    ConsumerAlreadyRunningError,
    SingleConsumerLock,
    lock_path,
)
from tests.broker import AMQP_URL, unique_exchange
from tests.cli import run_cli_process
from tests.wait import wait_for

pytestmark = pytest.mark.integration

HOLD = """
import sys, time
from consumer.entrypoints.single_consumer import SingleConsumerLock
lock = SingleConsumerLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def holder(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_holder_is_refused_and_a_killed_one_leaves_no_lock(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "apollonia.db")
    first = holder(url)
    try:
        second = SingleConsumerLock(url)
        with pytest.raises(ConsumerAlreadyRunningError) as refused:
            second.acquire()
        assert f"pid {first.pid}" in str(refused.value)
        assert "PostgreSQL" in str(refused.value)
        assert not second.held
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert first.stdout is not None
        first.stdout.close()
    # The pid of the killed holder is still in the file; the lock is not.
    assert lock_path(tmp_path / "apollonia.db").read_text().strip() == str(first.pid)
    again = SingleConsumerLock(url)
    again.acquire()
    assert again.held
    again.release()
    assert lock_path(tmp_path / "apollonia.db").read_text() == ""


def test_no_lock_for_a_catalog_that_is_not_a_sqlite_file() -> None:
    lock = SingleConsumerLock("postgresql+psycopg://postgres@127.0.0.1/apollonia")
    lock.acquire()
    assert not lock.held


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
        lock = lock_path(config / "apollonia.db")
        wait_for(lambda: lock.exists() and lock.read_text().strip() == str(first.pid))
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
        wait_for(lambda: lock.read_text().strip() == str(third.pid) or third.poll() is not None)
        assert third.poll() is None
    finally:
        third.send_signal(signal.SIGTERM)
        _, err = third.communicate(timeout=60)
    assert third.returncode == 0, err
