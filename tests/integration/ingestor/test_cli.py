"""`apollonia publish`, `apollonia ingestor` / `python -m ingestor` and the health endpoints, run
as a user would."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.broker_required import AMQP_URL
from tests.cli import run_cli
from tests.integration.ingestor.conftest import (
    WAIT,
    BrokerTap,
    SettingsFactory,
    running,
    until,
    write,
)
from tests.integration.ingestor.proxy import free_port

pytestmark = pytest.mark.integration


def env_for(tap: BrokerTap, **extra: str) -> dict[str, str]:
    return {"APOLLONIA_AMQP_URL": AMQP_URL, "APOLLONIA_EXCHANGE": tap.topology.exchange, **extra}


async def test_publish_prospects_and_publishes_the_given_files(
    tap: BrokerTap, data_dir: Path
) -> None:
    first, second = data_dir / "Show S01E01.mkv", data_dir / "Show S01E01.srt"
    write(first, b"episode")
    write(second, b"subtitles")
    result = await asyncio.to_thread(
        run_cli, "publish", str(first), str(second), "--json", env=env_for(tap)
    )
    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["status"] == "success"
    assert [p["file_path"] for p in doc["published"]] == [str(first), str(second)]
    got = await tap.collect(2)
    assert {r.event.file_path: r.event.sha256_hash for r in got} == {
        str(first): hashlib.sha256(b"episode").hexdigest(),
        str(second): hashlib.sha256(b"subtitles").hexdigest(),
    }
    assert {str(r.event.event_id) for r in got} == {p["event_id"] for p in doc["published"]}
    episode = next(r for r in got if r.event.file_path == str(first))
    assert (episode.event.kind, episode.event.event_type) == ("created", "publish")
    assert episode.event.neighbors == [str(second)]
    assert episode.message.message_id == str(episode.event.event_id)
    assert episode.message.delivery_mode == 2


@pytest.mark.parametrize("what", ["missing", "directory", "fifo"])
async def test_publish_exits_1_for_a_path_that_is_not_a_readable_regular_file(
    tap: BrokerTap, data_dir: Path, what: str
) -> None:
    good = data_dir / "good.mkv"
    write(good, b"fine")
    bad = data_dir / what
    if what == "directory":
        bad.mkdir()
    elif what == "fifo":
        os.mkfifo(bad)
    result = await asyncio.to_thread(
        run_cli, "publish", str(good), str(bad), "--json", env=env_for(tap)
    )
    assert result.code == 1
    doc = result.json()
    assert doc["status"] == "error"
    assert doc["errors"][0]["code"] == "invalid_path"
    assert doc["invalid"] == [{"path": str(bad), "error": doc["invalid"][0]["error"]}]
    assert await tap.drain() == []  # nothing at all was published


async def test_publish_exits_3_when_the_broker_is_unreachable(
    tap: BrokerTap, data_dir: Path
) -> None:
    write(data_dir / "a.mkv", b"a")
    url = f"amqp://guest:s3cret-pw@127.0.0.1:{free_port()}/"
    for args in (("--json",), ()):
        result = await asyncio.to_thread(
            run_cli,
            "publish",
            str(data_dir / "a.mkv"),
            *args,
            env=env_for(tap, APOLLONIA_AMQP_URL=url),
        )
        assert result.code == 3
        assert "s3cret-pw" not in result.stdout + result.stderr
        text = result.json()["errors"][0]["message"] if args else result.stderr
        assert "broker unreachable at amqp://guest:****@127.0.0.1" in text


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def test_health_readiness_and_metrics(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    port = free_port()
    async with running(make_settings(metrics_port=port, metrics_host="127.0.0.1")) as service:
        write(data_dir / "m.mkv", b"metrics")
        await tap.collect(1)
        await until(lambda: service.broker.connected, what="the broker connection")
        base = f"http://127.0.0.1:{port}"
        status, body = await asyncio.to_thread(get, f"{base}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = await asyncio.to_thread(get, f"{base}/readyz")
        assert status == 200
        assert json.loads(body)["checks"] == {"broker": True, "state_db": True}
        status, body = await asyncio.to_thread(get, f"{base}/metrics")
        text = body.decode()
        for name in (
            "apollonia_ingestor_hashed_bytes_total",
            'apollonia_ingestor_events_published_total{kind="created"}',
            "apollonia_ingestor_outbox_pending",
            "apollonia_ingestor_watches",
            "apollonia_ingestor_hash_duration_seconds_bucket",
        ):
            assert name in text, name
        env = {"APOLLONIA_METRICS_PORT": str(port)}
        for extra in ((), ("--ready",)):
            result = await asyncio.to_thread(
                run_cli, "health", "--service", "ingestor", *extra, env=env
            )
            assert result.code == 0, result.stderr
        await service.broker.close()  # the broker connection is gone: not ready any more
        status, body = await asyncio.to_thread(get, f"{base}/readyz")
        assert status == 503 and json.loads(body)["checks"]["broker"] is False


async def test_the_ingestor_command_runs_until_sigterm_and_exits_0(
    tap: BrokerTap, data_dir: Path, config_dir: Path
) -> None:
    env = dict(os.environ, **env_for(tap))
    env.update(
        APOLLONIA_SETTLE_SECONDS="0.3",
        APOLLONIA_METRICS_PORT="0",
        APOLLONIA_LOG_FORMAT="json",
        APOLLONIA_DATA_DIRECTORY="/nonexistent-default",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "apollonia",
        "ingestor",
        "--data",
        str(data_dir),
        "--watch-mode",
        "poll",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        write(data_dir / "cli.mkv", b"from the command")
        (got,) = await tap.collect(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT):
            stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert got.event.file_path == str(data_dir / "cli.mkv")
    assert got.event.event_type in {"rescan", "poll"}  # --watch-mode poll was applied
    assert stdout == b""  # a service logs to stderr only
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    assert any(line.get("event") == "ingestor stopped" for line in lines)
