"""Operations against the real broker: replay, the dead-letter tools, queue statistics."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.broker import AMQP_URL, Broker, until
from tests.cli import Result, run_cli
from tests.integration.consumer.conftest import (
    FILMS,
    TV,
    Catalog,
    SettingsFactory,
    event,
    running,
)

pytestmark = pytest.mark.integration

# Read at import: the autouse fixture clears APOLLONIA_* variables for every test.
RABBITMQ_API_URL = os.environ.get("APOLLONIA_TEST_RABBITMQ_API_URL")


def cli(bus: Broker, catalog: Catalog, *args: str, **env: str) -> Result:
    base = {
        "APOLLONIA_AMQP_URL": AMQP_URL,
        "APOLLONIA_EXCHANGE": bus.topology.exchange,
        "APOLLONIA_DATABASE_URL": catalog.url,
        "APOLLONIA_DELIVERY_LIMIT": "2",
        "APOLLONIA_MEDIA_EXTENSIONS": "mkv,mp3",
        "APOLLONIA_LOG_LEVEL": "WARNING",
    }
    base.update(env)
    return run_cli(*args, env=base)


def ok(bus: Broker, catalog: Catalog, *args: str, **env: str) -> dict[str, Any]:
    result = cli(bus, catalog, *args, "--json", **env)
    assert result.code == 0, (result.stdout, result.stderr)
    doc = result.json()
    assert isinstance(doc, dict)
    return doc


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_replay_applies_the_log_and_is_idempotent(bus: Broker, catalog: Catalog) -> None:
    """Replay --from first applies every event of the stream; replaying the same range again
    changes nothing (all unchanged or stale), and a dry run writes nothing."""
    a, b = f"{TV}/Show/S01E01.mkv", f"{TV}/Show/S01E02.mkv"
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    for ev in (
        event(a, b"one", at=t0),
        event(b, b"two", at=t0 + timedelta(seconds=1)),
        event(a, b"one, recut", kind="modified", at=t0 + timedelta(seconds=2)),
        event(b, kind="deleted", at=t0 + timedelta(seconds=3)),
        event("/elsewhere/x.mkv", at=t0 + timedelta(seconds=4)),
    ):
        await bus.publish_event(ev)
    first = ok(bus, catalog, "replay", "--from", "first", "--idle-timeout", "1")
    stats = first["stats"]
    assert isinstance(stats, dict)
    assert (stats["read"], stats["created"], stats["updated"], stats["deleted"]) == (5, 2, 1, 1)
    assert stats["unmatched"] == 1
    assert catalog.rows("SELECT canonical_key, is_deleted FROM assets ORDER BY 1") == [
        ("Show/S01E01.mkv", 0),
        ("Show/S01E02.mkv", 1),
    ]

    again = ok(bus, catalog, "replay", "--from", "first", "--idle-timeout", "1")
    stats = again["stats"]
    assert isinstance(stats, dict)
    assert stats["applied"] == 0
    assert stats["unchanged"] + stats["stale"] == 4
    history = catalog.rows("SELECT count(*) FROM asset_history")[0][0]
    assert history == 4  # create, create, update, delete: nothing written twice

    dry = ok(bus, catalog, "replay", "--from", "first", "--idle-timeout", "1", "--dry-run")
    assert dry["dry_run"] is True
    assert catalog.rows("SELECT count(*) FROM ingest_runs WHERE kind = 'replay'") == [(2,)]


async def test_replay_until_and_collection(bus: Broker, catalog: Catalog) -> None:
    """--until stops at a time; --collection limits the replay to one collection."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    await bus.publish_event(event(f"{TV}/early.mkv", at=t0))
    await bus.publish_event(event(f"{FILMS}/film.mkv", at=t0 + timedelta(minutes=5)))
    await bus.publish_event(event(f"{TV}/late.mkv", at=t0 + timedelta(minutes=30)))
    cutoff = (t0 + timedelta(minutes=10)).isoformat()
    doc = ok(bus, catalog, "replay", "--until", cutoff, "--collection", "TV", "--idle-timeout", "1")
    stats = doc["stats"]
    assert isinstance(stats, dict)
    assert (stats["created"], stats["other_collection"], stats["outside_window"]) == (1, 1, 1)
    assert catalog.rows("SELECT canonical_key FROM assets") == [("early.mkv",)]
    rest = ok(
        bus,
        catalog,
        "replay",
        "--from",
        (t0 + timedelta(minutes=20)).isoformat(),
        "--idle-timeout",
        "1",
    )
    stats = rest["stats"]
    assert isinstance(stats, dict)
    assert stats["created"] == 1  # late.mkv only: earlier events are outside the window
    assert sorted(r[0] for r in catalog.rows("SELECT canonical_key FROM assets")) == [
        "early.mkv",
        "late.mkv",
    ]


async def test_replay_dry_run_writes_nothing(bus: Broker, catalog: Catalog) -> None:
    await bus.publish_event(event(f"{TV}/dry.mkv"))
    conn = sqlite3.connect(catalog.path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = digest(catalog.path)
    doc = ok(bus, catalog, "replay", "--dry-run", "--idle-timeout", "1")
    stats = doc["stats"]
    assert isinstance(stats, dict)
    assert stats["created"] == 1
    assert digest(catalog.path) == before
    assert catalog.rows("SELECT count(*) FROM assets") == [(0,)]


async def test_bad_arguments_and_unreachable_broker(bus: Broker, catalog: Catalog) -> None:
    bad = cli(bus, catalog, "replay", "--from", "yesterday", "--json")
    assert bad.code == 1
    assert "--from must be first, last" in bad.json()["errors"][0]["message"]
    for args in (["replay", "--idle-timeout", "1"], ["dlq", "list"], ["queue", "stats"]):
        down = cli(
            bus, catalog, *args, "--json", APOLLONIA_AMQP_URL="amqp://guest:hunter2@127.0.0.1:1/"
        )
        assert down.code == 3, (args, down.stdout, down.stderr)
        message = down.json()["errors"][0]["message"]
        assert "unreachable" in message
        assert "hunter2" not in down.stdout + down.stderr


async def test_dead_letters_listed_requeued_after_the_fault_and_purged(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    """Poison is listed with its reason and stays put; a valid event dead-lettered because the
    catalog could not be written (locked by another process until the delivery limit) is applied
    once the lock is gone and it is requeued; requeued messages reach only the catalog queue;
    purge empties the dead queue."""
    poison_id = "poison-0001"
    await bus.publish_raw(b"{broken", message_id=poison_id)
    good = event(f"{TV}/Locked Show/S01E01.mkv", b"written later")
    blocker = sqlite3.connect(catalog.path, timeout=1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        async with running(consumer_settings(db_busy_timeout_ms=200)):
            await bus.publish_event(good)
            await until(lambda: bus.queue_depth(bus.topology.dead_queue), what="dead letters")
            await until(_depth_is(bus, bus.topology.dead_queue, 2), what="both dead letters")
    finally:
        blocker.rollback()
        blocker.close()

    listed = ok(bus, catalog, "dlq", "list")
    assert listed["total"] == 2
    messages = listed["messages"]
    assert isinstance(messages, list)
    by_id = {m["event_id"]: m for m in messages}
    assert by_id[poison_id]["reason"].startswith("invalid_json")
    assert "delivery_limit" in by_id[str(good.event_id)]["reason"]
    assert by_id[str(good.event_id)]["path"] == good.file_path
    assert all(m["dead_at"] for m in messages)
    assert await bus.queue_depth(bus.topology.dead_queue) == 2  # listing leaves them in place

    # The stream holds what was published to the exchange: the poison and the event (its count
    # is reported with a lag, so wait for it to settle before and after).
    await until(_depth_is(bus, bus.topology.stream, 2), what="the stream to show both messages")
    requeued = ok(bus, catalog, "dlq", "requeue", "--event-id", str(good.event_id))
    assert (requeued["requeued"], requeued["left"]) == (1, 1)
    assert await bus.queue_depth(bus.topology.catalog_queue) == 1
    await asyncio.sleep(2)  # room for a wrong copy to show up in the stream's count
    assert await bus.queue_depth(bus.topology.stream) == 2
    async with running(consumer_settings()) as service:
        await until(lambda: service.applied == 1, what="the requeued event")
    assert catalog.asset("Locked Show/S01E01.mkv") is not None

    assert cli(bus, catalog, "dlq", "purge").code == 1  # needs --yes
    purged = ok(bus, catalog, "dlq", "purge", "--yes")
    assert purged["purged"] == 1
    assert await bus.queue_depth(bus.topology.dead_queue) == 0


def _depth_is(bus: Broker, queue: str, expected: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await bus.queue_depth(queue) == expected

    return check


async def test_queue_stats_match_the_broker(bus: Broker, catalog: Catalog) -> None:
    """`queue stats --json` reports what the broker itself reports (passive declare)."""
    for i in range(3):
        await bus.publish_event(event(f"{TV}/q{i}.mkv"))
    await bus.publish_raw(b"x", routing_key="file.created")
    doc = ok(bus, catalog, "queue", "stats")
    queues = {q["role"]: q for q in doc["queues"]}
    assert queues["catalog"]["messages"] == await bus.queue_depth(bus.topology.catalog_queue)
    assert queues["catalog"]["messages"] == 4
    assert queues["dead"]["messages"] == 0
    assert queues["stream"]["queue"] == bus.topology.stream
    assert queues["catalog"]["net_rate"] == 0.0


@pytest.mark.skipif(
    not RABBITMQ_API_URL,
    reason="set APOLLONIA_TEST_RABBITMQ_API_URL (CI enables the management API)",
)
async def test_queue_stats_through_the_management_api(bus: Broker, catalog: Catalog) -> None:
    api = RABBITMQ_API_URL
    assert api is not None
    for i in range(2):
        await bus.publish_event(event(f"{TV}/m{i}.mkv"))

    def management_depth() -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:15672/api/queues/%2F/{bus.topology.catalog_queue}"
        )
        request.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(json.loads(response.read()).get("messages_ready", -1))

    await until(lambda: management_depth() == 2, what="the management API to see 2 messages")
    doc = ok(bus, catalog, "queue", "stats", APOLLONIA_RABBITMQ_API_URL=api)
    assert doc["source"] == "management-api"
    catalog_q = next(q for q in doc["queues"] if q["role"] == "catalog")
    assert catalog_q["messages"] == 2
    assert catalog_q["unacked"] == 0
    await asyncio.sleep(0)
