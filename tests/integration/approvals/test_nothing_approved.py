"""No code path but the operator's commands sets approval.

A library of generated media goes through everything that writes assets: collection ingest,
file events through the running consumer's apply path (created, modified, deleted, moved),
replay of the whole event stream, and enrichment by the worker. Assets reach `ready` (so
approval was possible), and yet none is approved and the trail is empty."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apollonia.settings import load_settings
from consumer.entrypoints.amqp_worker import ConsumerService
from shared.schemas.file_event import EventKind, FileEvent
from tests.broker import AMQP_URL, Broker, broker, until
from tests.cli import run_cli
from tests.integration.consumer.conftest import event, running
from tests.integration.enrichment.helpers import copy, rows
from tests.media import media, needs_ffmpeg

pytestmark = [pytest.mark.integration, needs_ffmpeg]
__all__ = ["media"]
Media = Callable[[str], Path]


@pytest.fixture
async def bus() -> AsyncIterator[Broker]:
    async with broker(delivery_limit=2) as b:
        yield b


def file_event(
    path: Path, kind: EventKind, at: datetime, from_path: str | None = None
) -> FileEvent:
    """An event as the ingestor would publish it for a real file (its real bytes)."""
    data = path.read_bytes() if kind != "deleted" else b""
    ev = event(str(path), data, kind=kind, at=at, from_path=from_path)
    assert kind == "deleted" or ev.sha256_hash == hashlib.sha256(data).hexdigest()
    return ev


async def test_ingest_events_replay_and_enrichment_approve_nothing(
    tmp_path: Path, config_dir: Path, media: Media, bus: Broker
) -> None:
    db = config_dir / "apollonia.db"
    root = tmp_path / "library"
    root.mkdir()
    for name in ("movie.mkv", "movie.mp4", "movie.ts", "hdr10.mkv", "long.mkv"):
        copy(media(name), root / f"a-{name}")
    env = {
        "APOLLONIA_AMQP_URL": AMQP_URL,
        "APOLLONIA_EXCHANGE": bus.topology.exchange,
        "APOLLONIA_DELIVERY_LIMIT": "2",
        "APOLLONIA_LOG_LEVEL": "WARNING",
    }

    def ok(*args: str) -> dict[str, object]:
        result = run_cli(*args, "--json", env=env)
        assert result.code == 0, (result.stdout, result.stderr)
        doc = result.json()
        assert isinstance(doc, dict)
        return doc

    ok("source", "add", "--type", "filesystem", "--name", "Local", "--path", str(root))
    ok(
        "collection", "add", "--source", "Local", "--name", "Library", "--path", str(root),
        "--enricher", "ffprobe:1",
    )  # fmt: skip
    ok("collection", "ingest", "Library", "--enrich")
    assert rows(db, "SELECT count(*) FROM assets WHERE state = 'ready'")[0][0] >= 4

    # File events through the consumer's apply path: a new file, a rewrite, a delete, a move.
    copy(media("movie.mkv"), root / "b-new.mkv")
    copy(media("long.mkv"), root / "a-movie.mkv")
    os.rename(root / "a-movie.ts", root / "c-moved.ts")
    t0 = datetime.now(UTC)
    events = [
        file_event(root / "b-new.mkv", "created", t0),
        file_event(root / "a-movie.mkv", "modified", t0 + timedelta(seconds=1)),
        file_event(root / "a-movie.mp4", "deleted", t0 + timedelta(seconds=2)),
        file_event(
            root / "c-moved.ts",
            "moved",
            t0 + timedelta(seconds=3),
            from_path=str(root / "a-movie.ts"),
        ),
    ]
    (root / "a-movie.mp4").unlink()
    settings = load_settings(
        amqp_url=AMQP_URL,
        exchange=bus.topology.exchange,
        delivery_limit=2,
        database_url=f"sqlite+aiosqlite:///{db}",
        metrics_port=0,
        batch_ms=20,
        queue_poll_interval=0.2,
        shutdown_timeout=10,
    )
    service: ConsumerService
    async with running(settings) as service:
        for ev in events:
            await bus.publish_event(ev)
        await until(lambda: service.applied >= len(events), what="the events applied")
    assert rows(db, "SELECT is_deleted FROM assets WHERE canonical_key = 'a-movie.mp4'") == [(1,)]
    assert rows(db, "SELECT count(*) FROM assets WHERE canonical_key = 'c-moved.ts'") == [(1,)]

    # Replay of the whole stream, then the worker enriches what changed.
    ok("replay", "--from", "first", "--idle-timeout", "1")
    ok("enrich")

    states = dict(rows(db, "SELECT canonical_key, state FROM assets WHERE NOT is_deleted"))
    assert states["b-new.mkv"] == "ready" and states["a-movie.mkv"] == "ready"
    assert list(states.values()).count("ready") >= 5  # approval was possible everywhere
    assert rows(db, "SELECT count(*) FROM assets WHERE approved_for_broadcast") == [(0,)]
    assert rows(db, "SELECT count(*) FROM approvals") == [(0,)]
    queue = ok("asset", "review")
    assert queue["count"] == len([s for s in states.values() if s == "ready"])
