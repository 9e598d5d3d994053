"""A stop ends the consumer's connect-until-up loop even while an attempt hangs on a broker that
accepts the TCP connection and never answers (a wedged broker, a half-open firewall)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from consumer.entrypoints.amqp_transport import AmqpTransport
from shared.topology import Topology

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

# A liveness bound only: without the fix the attempt would hang for the whole connect timeout.
BOUND = 60.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that completes TCP handshakes (the kernel's backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


async def test_stop_abandons_a_connect_attempt_in_flight(silent_port: int) -> None:
    transport = AmqpTransport(
        f"amqp://guest:guest@127.0.0.1:{silent_port}/",
        Topology(exchange="test-silent"),
        prefetch=10,
        on_delivery=lambda _d: None,
        connect_timeout=3600,  # the attempt would outlive the test by far
    )
    stop = asyncio.Event()
    connecting = asyncio.create_task(transport.connect_until_up(stop))
    await asyncio.sleep(0.5)  # the attempt is under way
    assert not connecting.done()
    stop.set()
    await asyncio.wait_for(connecting, BOUND)
    assert not transport.connected
    await transport.close()
