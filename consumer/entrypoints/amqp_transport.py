"""The consumer's connection to the broker: connect, subscribe, and subscribe again after a
reconnect, handing every delivery to a callback as a light `Delivery`.

One aio-pika robust connection with two channels: the consuming one (QoS = prefetch, the topology
declared on it) and a confirming one for dead letters, which are published with confirms before
the original is acked. aio-pika restores the channels, their QoS and declarations after a
connection loss, but not a consumer it did not create: that is subscribed again here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aio_pika
import aiormq.abc
from aio_pika.abc import (
    AbstractExchange,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aio_pika.connection import make_url

from consumer import metrics
from consumer.entrypoints.worker_log import log
from shared.retry import Backoff, retry_with_backoff
from shared.runtime.masking import mask_text, mask_url
from shared.topology import Topology, declare_topology

APP_ID = "apollonia-consumer"
CONNECT_BACKOFF = Backoff(1.0, 30.0)
RESUBSCRIBE_BACKOFF = Backoff(0.5, 10.0)


@dataclass(slots=True)
class Delivery:
    """A delivered message, straight from aiormq (aio-pika's message objects cost ~60 µs each,
    a third of the consumer's budget per event on a busy queue)."""

    body: bytes
    headers: dict[str, Any]
    message_id: str | None
    timestamp: datetime | None
    content_type: str | None
    type: str | None
    app_id: str | None
    routing_key: str | None
    delivery_tag: int
    channel: aiormq.abc.AbstractChannel

    @classmethod
    def of(cls, message: aiormq.abc.DeliveredMessage) -> Delivery:
        props = message.header.properties
        return cls(
            body=message.body,
            headers=dict(props.headers or {}),
            message_id=props.message_id,
            timestamp=props.timestamp,
            content_type=props.content_type,
            type=props.message_type,
            app_id=props.app_id,
            routing_key=message.routing_key,
            delivery_tag=message.delivery_tag or 0,
            channel=message.channel,
        )

    async def ack(self, *, multiple: bool = False) -> None:
        await self.channel.basic_ack(self.delivery_tag, multiple=multiple)

    async def nack(self) -> None:
        await self.channel.basic_nack(self.delivery_tag, requeue=True)


class AmqpTransport:
    """Connects and consumes `topology.catalog_queue`, calling `on_delivery` for each message."""

    def __init__(
        self,
        url: str,
        topology: Topology,
        *,
        prefetch: int,
        on_delivery: Callable[[Delivery], None],
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.topology = topology
        self.prefetch = prefetch
        self.connect_timeout = connect_timeout
        self._on_delivery = on_delivery
        self.connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self.dead_exchange: AbstractExchange | None = None
        self.queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._stopping = asyncio.Event()  # set once the service stops: no more subscribing
        self._tasks: list[asyncio.Task[None]] = []

    async def connect_until_up(self, stop: asyncio.Event) -> None:
        """Connect and subscribe, retrying with backoff until it works or `stop` is set."""

        def unreachable(exc: BaseException, attempt: int, delay: float) -> None:
            log.warning(
                "broker unreachable; retrying",
                url=mask_url(self.url),
                error=mask_text(str(exc) or type(exc).__name__),
                retry_in=round(delay, 2),
            )

        connecting = asyncio.ensure_future(
            retry_with_backoff(self._connect, CONNECT_BACKOFF, on_failure=unreachable, stop=stop)
        )
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({connecting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            # A stop does not wait out an attempt in flight (a silent broker holds one for the
            # whole connect timeout): the attempt is abandoned and its connection closed.
            connecting.cancel()
            await asyncio.gather(stopped, connecting, return_exceptions=True)
        if not connecting.cancelled():
            connecting.result()

    async def _connect(self) -> None:
        connection = aio_pika.RobustConnection(
            make_url(self.url),
            client_properties={"connection_name": f"{APP_ID} {os.uname().nodename}"},
        )
        try:
            # Not `connect_robust`: an attempt abandoned by a stop must close its connection, or
            # aio-pika keeps reconnecting it in the background.
            await connection.connect(timeout=self.connect_timeout)
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.prefetch)
            declared = await declare_topology(channel, self.topology)
            # Dead letters are published with confirms before the original is acked.
            dead_channel = await connection.channel(publisher_confirms=True)
            self.dead_exchange = await dead_channel.get_exchange(self.topology.dead_exchange)
            self._channel = channel
            await self._subscribe()
        except BaseException:  # a failure, or a stop while subscribing: no half-open connection
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        connection.close_callbacks.add(self._on_close)
        connection.reconnect_callbacks.add(self._on_reconnect)
        self.connection = connection
        self.queue = declared.catalog_queue
        metrics.BROKER_CONNECTED.set(1)
        log.info("consuming", queue=self.topology.catalog_queue)

    def _on_close(self, _sender: Any, exc: BaseException | None = None) -> None:
        metrics.BROKER_CONNECTED.set(0)
        if exc is not None and not self._stopping.is_set():
            log.warning(
                "broker connection lost; reconnecting",
                error=mask_text(str(exc) or type(exc).__name__),
            )

    async def _on_message(self, message: aiormq.abc.DeliveredMessage) -> None:
        self._on_delivery(Delivery.of(message))

    async def _subscribe(self) -> None:
        """Consume on the channel's underlying aiormq channel (see `Delivery`)."""
        assert self._channel is not None
        raw = await self._channel.get_underlay_channel()
        ok = await raw.basic_consume(self.topology.catalog_queue, self._on_message, no_ack=False)
        self._consumer_tag = ok.consumer_tag

    def _on_reconnect(self, _sender: Any) -> None:
        # aio-pika restores the channel, its QoS and declarations, but not a consumer it did not
        # create: subscribe again on the new underlying channel.
        self._consumer_tag = None
        task = asyncio.create_task(self._resubscribe())
        self._tasks.append(task)

    async def _resubscribe(self) -> None:
        def failed(exc: BaseException, attempt: int, delay: float) -> None:
            log.debug("re-subscribing failed; retrying", error=str(exc))

        async def subscribe() -> bool:
            await self._subscribe()
            return True

        if not await retry_with_backoff(
            subscribe, RESUBSCRIBE_BACKOFF, on_failure=failed, stop=self._stopping
        ):
            return  # stopping
        metrics.BROKER_CONNECTED.set(1)
        log.info("broker connection restored; consuming again")

    @property
    def connected(self) -> bool:
        conn, channel = self.connection, self._channel
        return bool(
            conn is not None
            and not conn.is_closed
            and conn.connected.is_set()
            and channel is not None
            and not channel.is_closed
            and self._consumer_tag
        )

    async def stop_consuming(self) -> None:
        """No more deliveries: cancel the consumer (what was delivered can still be settled)."""
        self._stopping.set()
        if self._channel is not None and self._consumer_tag is not None:
            with contextlib.suppress(Exception):
                raw = await self._channel.get_underlay_channel()
                await raw.basic_cancel(self._consumer_tag)

    async def close(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
        metrics.BROKER_CONNECTED.set(0)
