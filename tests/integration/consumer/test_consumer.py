"""The consumer against the real broker and a real catalog: event semantics, idempotency,
poison, failures, metrics."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import pytest
import structlog

from apollonia import bootstrap
from consumer import metrics
from shared.topology import ERROR_HEADER
from tests.broker import Broker, until
from tests.integration.consumer.conftest import (
    FILMS,
    TV,
    Catalog,
    SettingsFactory,
    event,
    running,
)
from tests.integration.ingestor.proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

KEY = "Show/Season 01/Show - S01E01.mkv"
PATH = f"{TV}/{KEY}"


def count(catalog: Catalog, sql: str = "SELECT count(*) FROM assets") -> int:
    return int(catalog.rows(sql)[0][0])


async def test_created_modified_deleted(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    """created -> create (state new, no file read); modified -> update back to new and
    unapproved; deleted -> soft delete."""
    async with running(consumer_settings()) as service:
        created = event(PATH, b"v1")
        await bus.publish_event(created)
        await until(lambda: catalog.asset(KEY) is not None, what="the asset")
        asset = catalog.asset(KEY)
        assert asset is not None
        assert (asset["state"], asset["approved_for_broadcast"]) == ("new", 0)
        assert asset["sha256"] == created.sha256_hash
        assert asset["tech_metadata"] == '{"title": "Show", "season": 1, "episode": 1}'

        catalog.execute("UPDATE assets SET state = 'enriching'")
        catalog.execute(  # what enrichment's quality control records before `ready`
            "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
            "SELECT uuid, TRUE, content_signature, '2026-11-22 12:00:00.000000' FROM assets"
        )
        catalog.execute("UPDATE assets SET state = 'ready'")
        catalog.execute(  # what `apollonia asset approve` records before the flag
            "INSERT INTO approvals (asset_uuid, action, actor, time, content_signature, "
            "enricher_checksum) SELECT uuid, 'approve', 'tester', '2026-11-22 12:00:00.000000', "
            "content_signature, enricher_checksum FROM assets"
        )
        catalog.execute("UPDATE assets SET approved_for_broadcast = TRUE")
        modified = event(PATH, b"v2 is longer", kind="modified")
        await bus.publish_event(modified)
        await until(lambda: (catalog.asset(KEY) or {}).get("sha256") == modified.sha256_hash)
        asset = catalog.asset(KEY)
        assert asset is not None
        assert (asset["state"], asset["approved_for_broadcast"]) == ("new", 0)
        assert catalog.rows("SELECT action, reason, actor FROM approvals ORDER BY id") == [
            ("approve", None, "tester"),
            ("auto_revoke", "content_changed", "apollonia"),
        ]

        await bus.publish_event(event(PATH, kind="deleted"))
        await until(lambda: (catalog.asset(KEY) or {}).get("is_deleted") == 1)
        assert service.applied == 3
    history = catalog.rows("SELECT decision FROM asset_history ORDER BY id")
    assert [h for (h,) in history] == ["create", "update", "delete"]


@pytest.mark.parametrize("writer_process", [True, False], ids=["child-writer", "one-process"])
async def test_redelivery_creates_nothing_twice(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory, writer_process: bool
) -> None:
    """The same message delivered twice: one asset, one history entry (with the catalog
    written from the child process, the default, and from the consumer's own process)."""
    async with running(consumer_settings(writer_process=writer_process)) as service:
        once = event(PATH, b"same")
        await bus.publish_event(once)
        await bus.publish_event(once)
        await until(lambda: service.applied == 2, what="both deliveries")
    assert count(catalog) == 1
    assert count(catalog, "SELECT count(*) FROM asset_history") == 1


async def test_move_keeps_the_asset(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    """moved within a collection: same asset id, new key; across collections: gone + new."""
    async with running(consumer_settings()) as service:
        await bus.publish_event(event(PATH, b"movie"))
        await until(lambda: catalog.asset(KEY) is not None)
        original = catalog.asset(KEY)
        assert original is not None
        new_key = "Show/Season 01/renamed.mkv"
        await bus.publish_event(event(f"{TV}/{new_key}", b"movie", kind="moved", from_path=PATH))
        await until(lambda: catalog.asset(new_key) is not None)
        moved = catalog.asset(new_key)
        assert moved is not None
        assert moved["uuid"] == original["uuid"]
        assert catalog.asset(KEY) is None

        await bus.publish_event(
            event(f"{FILMS}/film.mkv", b"movie", kind="moved", from_path=f"{TV}/{new_key}")
        )
        await until(lambda: service.applied == 3)
    gone = catalog.asset(new_key)
    assert gone is not None
    assert gone["is_deleted"] == 1
    film = catalog.asset("film.mkv")
    assert film is not None
    assert film["uuid"] != original["uuid"]


async def test_stale_events_never_win(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    """An event older than what the asset reflects is skipped (a late redelivery or a replay
    cannot roll the catalog back)."""
    async with running(consumer_settings()) as service:
        newer = event(PATH, b"newer")
        await bus.publish_event(newer)
        await until(lambda: service.applied == 1)
        assert newer.timestamp is not None
        older = event(PATH, b"older", kind="modified", at=newer.timestamp - timedelta(hours=1))
        await bus.publish_event(older)
        late_delete = event(PATH, kind="deleted", at=newer.timestamp - timedelta(minutes=5))
        await bus.publish_event(late_delete)
        await until(lambda: service.applied == 3)
    asset = catalog.asset(KEY)
    assert asset is not None
    assert asset["sha256"] == newer.sha256_hash
    assert asset["is_deleted"] == 0


async def test_seed_shaped_message_is_applied(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    """A message with only the seed's ten fields, and a mapped path (/data -> /media/library)."""
    body = {
        "file_path": "/data/tv/Seed/seed.mkv",
        "event_type": "IN_CLOSE_WRITE",
        "sha256_hash": "a" * 64,
        "xxh128_hash": "b" * 32,
        "size": 42,
        "modified_time": "2026-11-22T10:00:00+00:00",
        "accessed_time": "2026-11-22T10:00:00",
        "changed_time": "2026-11-22T10:00:00+00:00",
        "timestamp": "2026-11-22T10:00:01+00:00",
        "neighbors": ["/data/tv/Seed/seed.srt"],
    }
    async with running(consumer_settings()) as service:
        await bus.publish_raw(json.dumps(body).encode())
        await until(lambda: service.applied == 1)
    asset = catalog.asset("Seed/seed.mkv")
    assert asset is not None
    assert asset["path"] == f"{TV}/Seed/seed.mkv"
    assert json.loads(asset["neighbors"]) == ["/data/tv/Seed/seed.srt"]


async def test_unmatched_and_ignored_are_acked_not_dead_lettered(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    """A path under no collection, or not a media file, is acknowledged and counted."""
    before = metrics.MESSAGES.labels("unmatched")._value.get()
    async with running(consumer_settings()) as service:
        await bus.publish_event(event("/elsewhere/file.mkv"))
        await bus.publish_event(event(f"{TV}/Show/notes.nfo"))
        await until(lambda: service.applied == 2, what="both acked")
    assert metrics.MESSAGES.labels("unmatched")._value.get() == before + 1
    assert count(catalog) == 0
    assert await bus.queue_depth(bus.topology.dead_queue) == 0


@pytest.mark.parametrize(
    ("body", "category", "fragment"),
    [
        (b"{not json", "invalid_json", "invalid_json"),
        (json.dumps({"file_path": "relative.mkv"}).encode(), "schema_violation", "file_path"),
        (None, "unsupported_schema_version", "unsupported schema_version 7"),
        (b"x" * 3000, "too_large", "exceeds the 2048-byte limit"),
        (None, "path_rejected", "escapes collection root"),
    ],
)
async def test_poison_goes_to_the_dead_queue_with_its_reason(
    bus: Broker,
    catalog: Catalog,
    consumer_settings: SettingsFactory,
    body: bytes | None,
    category: str,
    fragment: str,
) -> None:
    """Poison is dead-lettered with `x-apollonia-error`, and the consumer carries on."""
    if category == "unsupported_schema_version":
        data = json.loads(event(PATH).to_json_bytes())
        data["schema_version"] = 7
        body = json.dumps(data).encode()
    if category == "path_rejected":
        body = event(f"{TV}/../../../etc/cron.mkv").to_json_bytes()
    assert body is not None
    async with running(consumer_settings(max_message_bytes=2048)) as service:
        await bus.publish_raw(body, message_id="poison-1")
        await bus.publish_event(event(PATH, b"fine"))
        (dead,) = await bus.take_dead(1)
        await until(lambda: service.applied == 1, what="the valid event after the poison")
        assert service.broker_connected()
    assert dead.body == body
    assert dead.headers is not None
    assert fragment in str(dead.headers[ERROR_HEADER])
    assert dead.message_id == "poison-1"
    assert count(catalog) == 1


async def test_a_failing_collection_does_not_block_the_others(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    """One collection's transaction keeps failing: its message is redelivered until the queue's
    delivery limit dead-letters it; the other collection's events commit meanwhile."""
    if catalog.url.startswith("postgresql"):
        catalog.execute(
            "CREATE FUNCTION films_broken() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$"
        )
        catalog.execute(
            "CREATE TRIGGER films_broken BEFORE INSERT ON assets FOR EACH ROW WHEN "
            f"(NEW.collection_uuid = '{catalog.ids['films']}') EXECUTE FUNCTION films_broken()"
        )
    else:
        catalog.execute(
            "CREATE TRIGGER films_broken BEFORE INSERT ON assets WHEN NEW.collection_uuid = "
            f"'{catalog.ids['films']}' BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END"
        )
    failures_before = metrics.GROUP_FAILURES._value.get()
    async with running(consumer_settings()) as service:
        await bus.publish_event(event(f"{FILMS}/broken.mkv", b"never"))
        await bus.publish_event(event(PATH, b"fine"))
        (dead,) = await bus.take_dead(1)
        await until(lambda: service.applied == 1)
    assert metrics.GROUP_FAILURES._value.get() >= failures_before + 2  # delivery limit is 2
    assert dead.headers is not None
    deaths = dead.headers.get("x-death")
    assert deaths, dead.headers
    assert count(catalog) == 1
    assert catalog.asset(KEY) is not None


async def test_metrics_are_exported(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    async with running(consumer_settings(metrics_port=0)) as service:
        await bus.publish_event(event(PATH))
        await until(lambda: service.applied == 1)
        await until(
            lambda: metrics.QUEUE_MESSAGES.labels(bus.topology.catalog_queue)._value.get() == 0
        )
    from prometheus_client import REGISTRY, generate_latest

    text = generate_latest(REGISTRY).decode()
    for name in (
        "apollonia_consumer_messages_total",
        "apollonia_consumer_dead_lettered_total",
        "apollonia_consumer_batch_size_bucket",
        "apollonia_consumer_event_to_commit_seconds_bucket",
        "apollonia_queue_messages",
    ):
        assert name in text


async def test_health_endpoints(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def get(path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()

    async with running(consumer_settings(metrics_port=port, metrics_host="127.0.0.1")):
        status, body = await asyncio.to_thread(get, "/readyz")
        _, text = await asyncio.to_thread(get, "/metrics")
    assert status == 200
    assert json.loads(body)["checks"] == {"broker": True, "database": True}
    assert b"apollonia_consumer_messages_total" in text


async def test_a_broker_outage_is_survived(
    bus: Broker, catalog: Catalog, consumer_settings: SettingsFactory
) -> None:
    """Started while the broker is unreachable, cut off in the middle: it keeps retrying and
    applies everything once the broker is back."""
    proxy = TcpProxy("127.0.0.1", 5672)
    settings = consumer_settings(amqp_url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/")
    service = bootstrap.consumer_service(settings)
    starting = asyncio.create_task(service.start())
    try:
        with structlog.testing.capture_logs() as logs:  # from before the task's first step
            await until(lambda: _retries(logs) >= 2, what="a few failed connection attempts")
        assert not service.broker_connected()
        await proxy.start()
        await asyncio.wait_for(starting, 60)
        await bus.publish_event(event(PATH, b"before the outage"))
        await until(lambda: service.applied == 1)
        await proxy.stop()
        await until(lambda: not service.broker_connected(), what="the outage to be noticed")
        second = "Show/Season 01/Show - S01E02.mkv"
        await bus.publish_event(event(f"{TV}/{second}", b"during the outage"))
        await proxy.start()
        await until(lambda: catalog.asset(second) is not None, what="delivery after reconnect")
    finally:
        await service.stop()
        await proxy.stop()
    assert count(catalog) == 2


def _retries(logs: list[MutableMapping[str, Any]]) -> int:
    return sum(1 for entry in logs if entry.get("event") == "broker unreachable; retrying")
