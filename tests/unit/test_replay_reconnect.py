"""Replay's reconnect rules, without a broker: the consume session is a stand-in that fails."""

from __future__ import annotations

from typing import Any, cast

import pytest

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.errors import OperationError
from consumer.entrypoints import replay
from shared.retry import Backoff
from shared.topology import Topology

URL = "amqp://guest:secret@broker.example:5672/"


class _DryCatalog:
    dry_run = True  # nothing recorded: run() only consumes


def replayer(monkeypatch: pytest.MonkeyPatch) -> replay.Replayer:
    monkeypatch.setattr(replay, "RECONNECT_BACKOFF", Backoff(0.0001, 0.0001))
    return replay.Replayer(
        cast(CatalogDatabase, _DryCatalog()),
        URL,
        cast(Topology, None),
        [".mkv"],
    )


async def test_a_broker_unreachable_at_the_start_fails_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = replayer(monkeypatch)
    sessions: list[int] = []

    async def consume() -> None:
        sessions.append(1)
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(r, "_consume", consume)
    with pytest.raises(OperationError) as caught:
        await r.run()
    assert sessions == [1]
    assert caught.value.exit_code == 3
    assert caught.value.error_code == "broker_unreachable"
    assert caught.value.message == (
        "Error: broker unreachable at amqp://guest:****@broker.example:5672/: connection refused"
    )


async def test_a_broker_lost_mid_replay_is_resumed_five_times_then_given_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = replayer(monkeypatch)
    sessions: list[int] = []

    async def consume() -> None:
        sessions.append(1)
        r._last_offset = 41 + len(sessions)  # each session got one message further
        raise ConnectionResetError("reset by peer")

    monkeypatch.setattr(r, "_consume", consume)
    with pytest.raises(OperationError) as caught:
        await r.run()
    assert len(sessions) == 6
    assert caught.value.exit_code == 3
    assert caught.value.error_code == "broker_unreachable"
    assert caught.value.message == (
        "Error: lost the broker during the replay after offset 47: reset by peer"
    )


async def test_a_session_that_ends_after_a_loss_finishes_the_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = replayer(monkeypatch)
    sessions: list[int] = []

    async def consume() -> None:
        sessions.append(1)
        if len(sessions) < 3:
            r.stats.read += 1
            raise ConnectionResetError("reset by peer")

    monkeypatch.setattr(r, "_consume", consume)
    stats: Any = await r.run()
    assert len(sessions) == 3
    assert stats.read == 2
