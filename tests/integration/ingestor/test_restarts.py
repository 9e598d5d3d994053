"""Restarts: nothing re-read that did not change, nothing missed that did, nothing lost."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.broker_required import AMQP_URL
from tests.integration.ingestor.conftest import (
    WAIT,
    BrokerTap,
    SettingsFactory,
    idle,
    running,
    until,
    write,
)
from tests.integration.ingestor.proxy import free_port

pytestmark = pytest.mark.integration


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_restart_with_an_unchanged_tree_reads_and_publishes_nothing(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    (data_dir / "sub").mkdir()
    for i in range(5):
        write(data_dir / "sub" / f"f{i}.mkv", os.urandom(100_000))
    settings = make_settings()
    async with running(settings) as first:
        await tap.collect(5)
        await idle(first)
        assert first.pipeline.stats.hashed_bytes == 500_000  # type: ignore[union-attr]
    async with running(settings) as second:
        await idle(second)
        stats = second.pipeline.stats  # type: ignore[union-attr]
        assert stats.rescans == 1  # the startup reconciliation ran...
        assert stats.hashed_bytes == 0  # ...and read nothing
        assert sum(stats.events.values()) == 0
    assert await tap.drain() == []


async def test_changes_made_while_down_are_published_on_start(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    settings = make_settings()
    for name in ("edit.mkv", "gone.mkv", "move.mkv", "keep.mkv"):
        write(data_dir / name, name.encode())
    async with running(settings) as first:
        await tap.collect(4)
        await idle(first)
    # While the ingestor is down:
    write(data_dir / "new.mkv", b"brand new")
    write(data_dir / "edit.mkv", b"edited while down")
    (data_dir / "gone.mkv").unlink()
    (data_dir / "later").mkdir()
    os.rename(data_dir / "move.mkv", data_dir / "later" / "moved.mkv")
    async with running(settings) as second:
        got = await tap.collect(4)
        await idle(second)
        assert await tap.drain() == []
        stats = second.pipeline.stats  # type: ignore[union-attr]
        # Only the new and the edited file were read; the move was recognised by its inode.
        assert stats.hashed_bytes == len(b"brand new") + len(b"edited while down")
    summary = {(r.event.kind, r.event.file_path, r.event.from_path) for r in got}
    assert summary == {
        ("created", str(data_dir / "new.mkv"), None),
        ("modified", str(data_dir / "edit.mkv"), None),
        ("deleted", str(data_dir / "gone.mkv"), None),
        ("moved", str(data_dir / "later" / "moved.mkv"), str(data_dir / "move.mkv")),
    }
    edited = next(r for r in got if r.event.kind == "modified")
    assert edited.event.sha256_hash == sha(b"edited while down")


async def test_a_file_changed_and_moved_while_down_keeps_its_identity_and_a_new_one_does_not(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    settings = make_settings()
    write(data_dir / "cut.mkv", b"first cut")
    write(data_dir / "old.mkv", b"an episode deleted while down")
    async with running(settings) as first:
        await tap.collect(2)
        await idle(first)
    # While the ingestor is down: one file rewritten in place, then renamed (same inode, older
    # than the state database's row); another deleted, and a new file created, which on ext4
    # or XFS may well get the freed inode number (born after the row: not the same file).
    write(data_dir / "cut.mkv", b"director's cut, longer")
    os.rename(data_dir / "cut.mkv", data_dir / "final.mkv")
    (data_dir / "old.mkv").unlink()
    write(data_dir / "new.mkv", b"a new download")
    async with running(settings) as second:
        got = await tap.collect(4)
        await idle(second)
        assert await tap.drain() == []
    summary = [(r.event.kind, r.event.file_path, r.event.from_path) for r in got]
    moved = summary.index(("moved", str(data_dir / "final.mkv"), str(data_dir / "cut.mkv")))
    modified = summary.index(("modified", str(data_dir / "final.mkv"), None))
    assert moved < modified  # the move first, then the new content at the new path
    assert got[moved].event.sha256_hash == sha(b"first cut")
    assert got[modified].event.sha256_hash == sha(b"director's cut, longer")
    assert set(summary) - {summary[moved], summary[modified]} == {
        ("deleted", str(data_dir / "old.mkv"), None),
        ("created", str(data_dir / "new.mkv"), None),
    }


async def test_republish_all_sends_every_known_file_from_the_cache(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    files = {data_dir / f"r{i}.flac": f"track {i}".encode() for i in range(3)}
    for path, data in files.items():
        write(path, data)
    settings = make_settings()
    async with running(settings) as first:
        await tap.collect(3)
        await idle(first)
    async with running(settings, republish_all=True) as second:
        got = await tap.collect(3)
        await idle(second)
        assert await tap.drain() == []
        assert second.pipeline.stats.hashed_bytes == 0  # type: ignore[union-attr]
    assert {(r.event.kind, r.event.event_type) for r in got} == {("created", "republish")}
    assert {r.event.file_path: r.event.sha256_hash for r in got} == {
        str(p): sha(d) for p, d in files.items()
    }


def _outbox_rows(state_db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{state_db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
    except sqlite3.Error:
        return -1


async def _spawn(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "apollonia",
        "ingestor",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_a_killed_ingestor_loses_nothing_and_sigterm_exits_0(
    config_dir: Path, data_dir: Path, tap: BrokerTap
) -> None:
    env = dict(os.environ)
    env.update(
        APOLLONIA_DATA_DIRECTORY=str(data_dir),
        APOLLONIA_EXCHANGE=tap.topology.exchange,
        APOLLONIA_SETTLE_SECONDS="0.3",
        APOLLONIA_METRICS_PORT="0",
        APOLLONIA_RECONCILE_INTERVAL="0",
        APOLLONIA_LOG_FORMAT="json",
        # First run: the broker is unreachable, so every event waits in the outbox.
        APOLLONIA_AMQP_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/",
    )
    state_db = config_dir / "ingestor-state.db"
    proc = await _spawn(env)
    try:
        await until(lambda: _outbox_rows(state_db) >= 0, what="the state database")
        files = {data_dir / f"k{i}.mkv": os.urandom(1000) for i in range(10)}
        for path, data in files.items():
            write(path, data)
        await until(lambda: _outbox_rows(state_db) == 10, what="10 events in the outbox")
    finally:
        proc.kill()  # SIGKILL: no shutdown code runs
        await proc.wait()

    env["APOLLONIA_AMQP_URL"] = AMQP_URL
    proc = await _spawn(env)
    try:
        got = await tap.collect(10)
        await until(lambda: _outbox_rows(state_db) == 0, what="an empty outbox")
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT):
            code = await proc.wait()
        stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert code == 0, stderr
    assert {r.event.file_path: r.event.sha256_hash for r in got} == {
        str(p): sha(d) for p, d in files.items()
    }
    assert "guest:guest" not in stderr  # the password never reaches a log line
    assert "ingestor stopped" in stderr
