"""The broker goes away and comes back: every event is delivered afterwards, none lost."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.integration.ingestor.conftest import (
    BrokerTap,
    SettingsFactory,
    idle,
    running,
    until,
    write,
)
from tests.integration.ingestor.proxy import TcpProxy

pytestmark = pytest.mark.integration


async def test_events_wait_in_the_outbox_while_the_broker_is_unreachable(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    proxy = TcpProxy("127.0.0.1", 5672)  # its port is closed until the proxy starts
    settings = make_settings(amqp_url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/")
    expected: dict[str, str] = {}

    def make_files(prefix: str, count: int) -> None:
        for i in range(count):
            data = f"{prefix} {i}".encode()
            path = data_dir / f"{prefix}{i:02d}.mkv"
            write(path, data)
            expected[str(path)] = hashlib.sha256(data).hexdigest()

    try:
        async with running(settings) as service:
            # 1. Unreachable from the start.
            make_files("early", 20)
            await until(lambda: service.state.outbox_pending == 20, what="20 pending events")
            assert not service.broker.connected
            assert await tap.drain() == []
            await proxy.start()
            first = await tap.collect(20)

            # 2. Lost while running: connections are cut, then refused.
            await idle(service)
            await proxy.stop()
            await until(lambda: not service.broker.connected, what="the connection to drop")
            make_files("late", 20)
            await until(lambda: service.state.outbox_pending == 20, what="20 pending events")
            await proxy.start()
            second = await tap.collect(20)
            await idle(service)
            assert await tap.drain() == []
    finally:
        await proxy.stop()
    got = [*first, *second]
    assert {r.event.file_path: r.event.sha256_hash for r in got} == expected
    assert len({r.event.event_id for r in got}) == 40
