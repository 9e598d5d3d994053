"""Broker topology: every name derives from the exchange name, declared the same way by everyone.

    exchange  <x>                 fanout, durable       what ingestors publish to
    queue     <x>.catalog         quorum, DLX <x>.dead  what the consumer applies
    exchange  <x>.dead            fanout, durable       dead letters
    queue     <x>.catalog.dead    quorum                poison and messages that kept failing
    stream    <x>.events          stream, retention     the event log `apollonia replay` reads

Declaring is idempotent as long as the arguments do not change; RabbitMQ refuses a redeclare with
different arguments (PRECONDITION_FAILED), so changing retention or the delivery limit on an
existing deployment means deleting the queue first (see docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aio-pika is imported only where a broker is used (CLI start-up stays fast)
    from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

# The header carrying the reason a message was dead-lettered.
ERROR_HEADER = "x-apollonia-error"


@dataclass(frozen=True, slots=True)
class Topology:
    exchange: str
    delivery_limit: int = 5
    stream_max_age: str = "7D"
    stream_max_bytes: int = 5_000_000_000

    @property
    def catalog_queue(self) -> str:
        return f"{self.exchange}.catalog"

    @property
    def dead_exchange(self) -> str:
        return f"{self.exchange}.dead"

    @property
    def dead_queue(self) -> str:
        return f"{self.exchange}.catalog.dead"

    @property
    def stream(self) -> str:
        return f"{self.exchange}.events"

    def catalog_queue_arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": self.dead_exchange,
            "x-delivery-limit": self.delivery_limit,
        }

    def dead_queue_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": "quorum"}

    def stream_arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "stream",
            "x-max-age": self.stream_max_age,
            "x-max-length-bytes": self.stream_max_bytes,
        }


@dataclass(frozen=True, slots=True)
class Declared:
    exchange: AbstractExchange
    dead_exchange: AbstractExchange
    catalog_queue: AbstractQueue
    dead_queue: AbstractQueue
    stream: AbstractQueue


async def declare_topology(channel: AbstractChannel, topology: Topology) -> Declared:
    """Declare (idempotently) everything, queues bound before anything is published."""
    from aio_pika import ExchangeType  # noqa: PLC0415 - see the TYPE_CHECKING note above

    exchange = await channel.declare_exchange(
        topology.exchange, ExchangeType.FANOUT, durable=True, auto_delete=False
    )
    dead_exchange = await channel.declare_exchange(
        topology.dead_exchange, ExchangeType.FANOUT, durable=True, auto_delete=False
    )
    dead_queue = await channel.declare_queue(
        topology.dead_queue, durable=True, arguments=topology.dead_queue_arguments()
    )
    await dead_queue.bind(dead_exchange)
    catalog_queue = await channel.declare_queue(
        topology.catalog_queue, durable=True, arguments=topology.catalog_queue_arguments()
    )
    await catalog_queue.bind(exchange)
    stream = await channel.declare_queue(
        topology.stream, durable=True, arguments=topology.stream_arguments()
    )
    await stream.bind(exchange)
    return Declared(exchange, dead_exchange, catalog_queue, dead_queue, stream)


async def delete_topology(channel: AbstractChannel, topology: Topology) -> None:
    """Remove everything (tests use it to clean up their uniquely named topology)."""
    for queue in (topology.catalog_queue, topology.dead_queue, topology.stream):
        await channel.queue_delete(queue)
    for exchange in (topology.exchange, topology.dead_exchange):
        await channel.exchange_delete(exchange)
