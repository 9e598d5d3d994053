"""Ingestor + consumer as separate processes on a real tree and the real broker."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys

import pytest

from shared.topology import ERROR_HEADER
from tests.broker import Broker
from tests.e2e.conftest import Stack, wait_for

pytestmark = pytest.mark.e2e


def write_files(stack: Stack, count: int, folder: str = "Show/Season 01") -> list[str]:
    target = stack.data / folder
    target.mkdir(parents=True, exist_ok=True)
    keys = []
    for i in range(count):
        name = f"Show - S01E{i:04d}.mkv"
        (target / name).write_bytes(f"{folder}/{i}".encode())
        keys.append(f"{folder}/{name}")
    return keys


async def test_files_become_assets_and_follow_changes(stack: Stack) -> None:
    """500 files -> 500 assets; rewrite -> updated back to new; delete -> soft deleted;
    move -> same asset, new key."""
    stack.start("consumer")
    stack.start("ingestor")
    await wait_for(
        lambda: stack.ready("consumer") and stack.ready("ingestor"), "both services ready", stack
    )
    keys = write_files(stack, 500)
    await wait_for(lambda: stack.count() == 500, "500 assets", stack)
    assert stack.query("SELECT count(DISTINCT canonical_key) FROM assets") == [(500,)]

    first = keys[0]
    (uuid, sha) = stack.query("SELECT uuid, sha256 FROM assets WHERE canonical_key = ?", (first,))[
        0
    ]
    stack.query("SELECT 1")  # the catalog is readable while services run
    (stack.data / first).write_bytes(b"a new cut of the episode")
    await wait_for(
        lambda: (
            stack.query("SELECT sha256 FROM assets WHERE canonical_key = ?", (first,)) != [(sha,)]
        ),
        "the rewrite",
        stack,
    )
    state = stack.query("SELECT state, approved_for_broadcast FROM assets WHERE uuid = ?", (uuid,))
    assert state == [("new", 0)]

    (stack.data / keys[1]).unlink()
    await wait_for(
        lambda: (
            stack.query("SELECT is_deleted FROM assets WHERE canonical_key = ?", (keys[1],))
            == [(1,)]
        ),
        "the soft delete",
        stack,
    )

    moved_key = "Show/Season 01/Renamed.mkv"
    (moved_uuid,) = stack.query("SELECT uuid FROM assets WHERE canonical_key = ?", (keys[2],))[0]
    (stack.data / keys[2]).rename(stack.data / moved_key)
    await wait_for(
        lambda: (
            stack.query("SELECT uuid FROM assets WHERE canonical_key = ?", (moved_key,))
            == [(moved_uuid,)]
        ),
        "the move",
        stack,
    )
    assert stack.query("SELECT count(*) FROM assets WHERE canonical_key = ?", (keys[2],)) == [(0,)]
    assert stack.stop("ingestor") == 0
    assert stack.stop("consumer") == 0


async def test_consumer_killed_mid_burst_loses_nothing(stack: Stack, bus: Broker) -> None:
    """SIGKILL the consumer in the middle of a 5,000-event burst and restart it: exactly one
    asset per file, none missing."""
    stack.start("ingestor")
    await wait_for(lambda: stack.ready("ingestor"), "ingestor ready", stack)
    write_files(stack, 5000, "Burst")
    stack.start("consumer")
    await wait_for(lambda: stack.count() >= 300, "the consumer to be mid-burst", stack)
    stack.stop("consumer", signal.SIGKILL)
    partial = stack.count()
    stack.start("consumer")
    await wait_for(lambda: stack.count() == 5000, "all 5,000 assets", stack, within=300)
    assert stack.query("SELECT count(DISTINCT canonical_key) FROM assets") == [(5000,)]
    assert partial < 5000  # the kill really happened mid-burst
    await wait_for(
        lambda: stack.query("SELECT count(*) FROM assets")[0][0] == 5000, "nothing more", stack
    )
    assert await bus.queue_depth(bus.topology.dead_queue) == 0


async def test_poison_is_dead_lettered_and_the_consumer_stays_ready(
    stack: Stack, bus: Broker
) -> None:
    stack.start("consumer")
    await wait_for(lambda: stack.ready("consumer"), "consumer ready", stack)
    await bus.publish_raw(b"not json at all", message_id="p1")
    await bus.publish_raw(json.dumps({"file_path": "relative"}).encode(), message_id="p2")
    dead = await bus.take_dead(2)
    reasons = {m.message_id: str((m.headers or {}).get(ERROR_HEADER)) for m in dead}
    assert reasons["p1"].startswith("invalid_json")
    assert reasons["p2"].startswith("schema_violation")
    assert stack.ready("consumer")
    write_files(stack, 3, "After")
    stack.start("ingestor")
    await wait_for(lambda: stack.count() == 3, "valid events after the poison", stack)


async def test_twenty_concurrent_ingest_files(stack: Stack) -> None:
    """Seed 000: twenty `ingest-file` runs at once, same and different paths: all exit 0,
    exactly one asset per path, no 'database is locked'."""
    keys = write_files(stack, 10, "Single")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apollonia",
                "ingest-file",
                str(stack.data / keys[i % 10]),
                "--json",
            ],
            env=stack.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(20)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    results = [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]
    for code, out, err in results:
        assert code == 0, (out, err)
        assert b"database is locked" not in err
        assert json.loads(out)["decision"] in ("create", "skip")
    assert stack.count() == 10
    assert stack.query("SELECT count(DISTINCT canonical_key) FROM assets") == [(10,)]
    creates = [json.loads(out)["decision"] for _, out, _ in results].count("create")
    assert creates == 10


def forget_the_data_collection(stack: Stack) -> None:
    """The stack's collection `media` holds every folder of `data`; `run --data data/X` would
    overlap it (refused since issue 17: a file is cataloged once), so these tests start bare."""
    assert stack.cli("collection", "remove", "media").code == 0


async def test_embedded_run_catalogs_a_folder(stack: Stack) -> None:
    """The README's main command: `apollonia run --data DIR` catalogs the folder and follows it."""
    forget_the_data_collection(stack)
    write_files(stack, 5, "Embedded")
    proc = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "run", "--data", str(stack.data / "Embedded")],
        env=stack.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_for(lambda: stack.count() == 5, "the initial ingest", stack)
        (stack.data / "Embedded" / "Show - S01E9999.mkv").write_bytes(b"live")
        await wait_for(lambda: stack.count() == 6, "the live event", stack)
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(proc.wait, 60)
    assert code == 0


async def test_run_with_the_broker(stack: Stack) -> None:
    """`apollonia run --amqp`: ingestor and consumer in one process over the real broker."""
    forget_the_data_collection(stack)
    write_files(stack, 4, "Both")
    proc = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "run", "--amqp", "--data", str(stack.data / "Both")],
        env=stack.env(APOLLONIA_METRICS_PORT=str(stack.consumer_port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_for(lambda: stack.count() == 4, "the four files, through the broker", stack)
        assert stack.ready("consumer")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 60)
    assert code == 0
    collections = stack.query("SELECT name, root_path FROM collections ORDER BY name")
    assert ("Both", str(stack.data / "Both")) in collections
