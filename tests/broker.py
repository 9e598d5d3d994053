"""The real broker in tests: uniquely named topologies, publishing, waiting without timing
assertions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from shared.schemas.file_event import FileEvent
from shared.topology import Declared, Topology, declare_topology, delete_topology
from tests.broker_required import AMQP_URL, require_broker
from tests.wait import WAIT, until

__all__ = ["AMQP_URL", "WAIT", "Broker", "broker", "unique_exchange", "until"]


def unique_exchange() -> str:
    return f"test-{uuid4().hex[:12]}"


class Broker:
    """A declared topology plus a confirming channel to publish and inspect with."""

    def __init__(
        self,
        topology: Topology,
        connection: AbstractRobustConnection,
        channel: AbstractChannel,
        declared: Declared,
    ) -> None:
        self.topology = topology
        self.connection = connection
        self.channel = channel
        self.declared = declared

    async def publish_event(self, event: FileEvent, **properties: Any) -> None:
        await self.publish_raw(
            event.to_json_bytes(),
            message_id=str(event.event_id),
            routing_key=event.routing_key,
            type=f"file.{event.kind}",
            **properties,
        )

    async def publish_raw(
        self, body: bytes, *, routing_key: str = "file.created", **properties: Any
    ) -> None:
        properties.setdefault("content_type", "application/json")
        properties.setdefault("delivery_mode", aio_pika.DeliveryMode.PERSISTENT)
        properties.setdefault("timestamp", datetime.now(UTC))
        await self.declared.exchange.publish(
            aio_pika.Message(body=body, **properties), routing_key=routing_key
        )

    async def queue_depth(self, name: str) -> int:
        channel = await self.connection.channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
            return int(queue.declaration_result.message_count or 0)
        finally:
            await channel.close()

    async def take_dead(self, count: int, *, within: float = WAIT) -> list[AbstractIncomingMessage]:
        """Exactly the next `count` dead letters (acked: they leave the dead queue)."""
        got: list[AbstractIncomingMessage] = []
        deadline = time.monotonic() + within
        while len(got) < count:
            message = await self.declared.dead_queue.get(no_ack=True, fail=False)
            if message is None:
                if time.monotonic() > deadline:
                    raise AssertionError(f"expected {count} dead letters, got {len(got)}")
                await asyncio.sleep(0.05)
                continue
            got.append(message)
        return got


@asynccontextmanager
async def broker(exchange: str | None = None, **topology: Any) -> AsyncIterator[Broker]:
    require_broker()
    top = Topology(exchange=exchange or unique_exchange(), **topology)
    connection = await aio_pika.connect_robust(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    declared = await declare_topology(channel, top)
    try:
        yield Broker(top, connection, channel, declared)
    finally:
        cleanup = await connection.channel()
        await delete_topology(cleanup, top)
        await connection.close()
