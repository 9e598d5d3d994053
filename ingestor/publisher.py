"""Getting events from the outbox to the broker: confirmed, in order, and never lost.

`BrokerPublisher` owns one aio-pika *robust* connection (it reconnects by itself and re-declares
what was declared on its channel) and one channel with publisher confirms and `on_return_raises`:
every publish is `mandatory`, so a message the exchange cannot route (no queue bound) comes back as
an error instead of vanishing — aio-pika's `publish` otherwise returns normally for it. The topology
of DESIGN.md (`shared.topology`) is declared before the first publish, so no event ever goes to an
exchange without its queues. Returns are matched to publishes by `message_id`, so every message
carries its own event id (unique; aio-pika #689).

`OutboxPublisher` is the loop: read up to `window` events from the outbox, publish them all at
once (confirms pipelined, not awaited one by one — measured here ≈ 990 msg/s one by one against
≈ 4,700 msg/s in windows of 500), delete exactly the confirmed ones, and retry the rest with
exponential backoff. Nothing leaves the outbox before the broker confirmed it. While the broker is
down events accumulate in the outbox and go out, oldest first, when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection
from aiormq.exceptions import DeliveryError, PublishError

from ingestor import metrics
from ingestor.state import OutboxRow, StateDatabase
from shared.retry import Backoff, retry_with_backoff
from shared.runtime.log import get_logger
from shared.runtime.masking import mask_text, mask_url
from shared.schemas.file_event import FileEvent
from shared.topology import Topology, declare_topology

log = get_logger(__name__)

APP_ID = "apollonia-ingestor"


class BrokerUnavailableError(ConnectionError):
    """The broker could not be reached (the message never contains a password)."""


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message as it goes on the wire."""

    event_id: str
    kind: str
    routing_key: str
    body: bytes
    timestamp: float
    file_path: str

    @classmethod
    def from_event(cls, event: FileEvent) -> Outbound:
        return cls(
            event_id=str(event.event_id),
            kind=event.kind,
            routing_key=event.routing_key,
            body=event.to_json_bytes(),
            timestamp=event.observed_at.timestamp(),
            file_path=event.file_path,
        )

    @classmethod
    def from_row(cls, row: OutboxRow) -> Outbound:
        return cls(row.event_id, row.kind, row.routing_key, row.body, row.timestamp, row.file_path)

    def message(self, app_id: str) -> aio_pika.Message:
        return aio_pika.Message(
            body=self.body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=self.event_id,
            timestamp=datetime.fromtimestamp(self.timestamp, UTC),
            type=self.routing_key,
            app_id=app_id,
        )


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return mask_text(f"{type(exc).__name__}: {text}" if str(exc) else text)


class BrokerPublisher:
    """A robust connection plus a confirming channel on which the topology is declared."""

    def __init__(
        self,
        url: str,
        topology: Topology,
        *,
        app_id: str = APP_ID,
        connection_name: str = APP_ID,
        connect_timeout: float = 10.0,
        reconnect_interval: float = 5.0,
        publish_timeout: float = 30.0,
    ) -> None:
        self.url = url
        self.topology = topology
        self.app_id = app_id
        self.connection_name = connection_name
        self.connect_timeout = connect_timeout
        self.reconnect_interval = reconnect_interval
        self.publish_timeout = publish_timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._closing = False

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def connected(self) -> bool:
        conn = self._connection
        return (
            conn is not None
            and not conn.is_closed
            and conn.connected.is_set()
            and self._channel is not None
            and not self._channel.is_closed
        )

    async def connect(self) -> None:
        """Connect, open the channel and declare the topology; BrokerUnavailableError if not."""
        self._closing = False
        try:
            connection = await aio_pika.connect_robust(
                self.url,
                timeout=self.connect_timeout,
                reconnect_interval=self.reconnect_interval,
                client_properties={"connection_name": self.connection_name},
            )
        except Exception as exc:
            raise BrokerUnavailableError(
                f"broker unreachable at {self.masked_url}: {describe(exc)}"
            ) from None
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            declared = await declare_topology(channel, self.topology)
        except Exception as exc:
            await _close_quietly(connection)
            raise BrokerUnavailableError(
                f"could not declare the topology of exchange {self.topology.exchange!r} at "
                f"{self.masked_url}: {describe(exc)}"
            ) from None
        connection.close_callbacks.add(self._on_close)
        connection.reconnect_callbacks.add(self._on_reconnect)
        self._connection = connection
        self._channel = channel
        self._exchange = declared.exchange
        metrics.BROKER_CONNECTED.set(1)

    def _on_close(self, _sender: Any, exc: BaseException | None = None) -> None:
        metrics.BROKER_CONNECTED.set(0)
        if exc is not None and not self._closing:
            log.warning("broker connection lost", url=self.masked_url, error=describe(exc))

    def _on_reconnect(self, _sender: Any) -> None:
        metrics.BROKER_CONNECTED.set(1)
        log.info("broker connection restored", url=self.masked_url)

    async def redeclare(self) -> None:
        if self._channel is not None:
            declared = await declare_topology(self._channel, self.topology)
            self._exchange = declared.exchange

    async def publish(self, messages: Sequence[Outbound]) -> list[BaseException | None]:
        """Publish all at once and wait for every confirm; per message None or the error."""
        exchange = self._exchange
        if exchange is None:
            error = BrokerUnavailableError("not connected")
            return [error for _ in messages]

        async def one(item: Outbound) -> None:
            await exchange.publish(
                item.message(self.app_id),
                routing_key=item.routing_key,
                mandatory=True,
                timeout=self.publish_timeout,
            )

        results = await asyncio.gather(*(one(m) for m in messages), return_exceptions=True)
        out: list[BaseException | None] = []
        for result in results:
            if isinstance(result, asyncio.CancelledError):
                raise result
            out.append(result if isinstance(result, BaseException) else None)
        return out

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self._closing = True
        self._channel = None
        self._exchange = None
        metrics.BROKER_CONNECTED.set(0)
        if connection is not None:
            await _close_quietly(connection)


async def _close_quietly(connection: AbstractRobustConnection) -> None:
    with contextlib.suppress(Exception):
        await connection.close()


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, PublishError):
        return "unroutable"
    if isinstance(exc, DeliveryError):
        return "nacked"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return "connection"


class OutboxPublisher:
    """Publishes the outbox to the broker until cancelled. See the module docstring."""

    def __init__(
        self,
        state: StateDatabase,
        broker: BrokerPublisher,
        *,
        window: int = 500,
        backoff: Backoff | None = None,
        idle_poll: float = 5.0,
    ) -> None:
        self.state = state
        self.broker = broker
        self.window = window
        self.backoff = backoff or Backoff()
        self.idle_poll = idle_poll
        self._wake = asyncio.Event()
        self._busy = False
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    @property
    def pending(self) -> int:
        return self.state.outbox_pending

    @property
    def idle(self) -> bool:
        return not self._busy and self.state.outbox_pending == 0

    async def run(self) -> None:
        await self._connect()
        failures = 0
        while True:
            self._busy = False
            try:
                rows = await self.state.outbox_peek(self.window)
                if not rows:
                    metrics.OUTBOX_PENDING.set(0)
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.idle_poll):
                            await self._wake.wait()
                    continue
                self._busy = True
                if await self._publish_window(rows):
                    failures = 0
                    continue
            except Exception:  # e.g. the state database is unwritable for a moment
                log.exception("publishing from the outbox failed; retrying")
            failures += 1
            await asyncio.sleep(self.backoff.delay(failures))

    async def _connect(self) -> None:
        def unreachable(exc: BaseException, attempt: int, delay: float) -> None:
            if attempt == 1 or attempt % 10 == 0:
                log.warning(
                    "broker unreachable; events wait in the outbox",
                    error=str(exc),
                    attempt=attempt,
                    retry_in=round(delay, 2),
                    pending=self.state.outbox_pending,
                )

        await retry_with_backoff(
            self.broker.connect,
            self.backoff,
            on_failure=unreachable,
            retry_on=BrokerUnavailableError,
        )
        log.info(
            "connected to the broker",
            url=self.broker.masked_url,
            exchange=self.broker.topology.exchange,
            pending=self.state.outbox_pending,
        )

    async def _publish_window(self, rows: list[OutboxRow]) -> bool:
        """Publish one window; True when every message was confirmed."""
        started = time.perf_counter()
        results = await self.broker.publish([Outbound.from_row(r) for r in rows])
        confirmed = [r for r, err in zip(rows, results, strict=True) if err is None]
        failed = [(r, err) for r, err in zip(rows, results, strict=True) if err is not None]
        await self.state.outbox_done(confirmed)
        metrics.OUTBOX_PENDING.set(self.state.outbox_pending)
        self.published += len(confirmed)
        for row in confirmed:
            metrics.EVENTS_PUBLISHED.labels(kind=row.kind).inc()
            log.debug(
                "event published",
                event_id=row.event_id,
                kind=row.kind,
                file_path=row.file_path,
                attempts=row.attempts + 1,
            )
        if len(confirmed) > 1:
            log.info(
                "events published",
                count=len(confirmed),
                seconds=round(time.perf_counter() - started, 3),
                pending=self.state.outbox_pending,
            )
        if not failed:
            return True
        errors = [err for _, err in failed if err is not None]
        reasons = {failure_reason(err) for err in errors}
        for reason in reasons:
            metrics.PUBLISH_FAILURES.labels(reason=reason).inc(
                sum(1 for err in errors if failure_reason(err) == reason)
            )
        first = describe(errors[0])
        await self.state.outbox_failed([r for r, _ in failed], first)
        log.warning(
            "publish failed; events stay in the outbox and will be retried",
            failed=len(failed),
            confirmed=len(confirmed),
            reasons=sorted(reasons),
            error=first,
        )
        if "unroutable" in reasons:
            with contextlib.suppress(Exception):
                await self.broker.redeclare()
        return False

    async def flush(self, within: float) -> bool:
        """Wait until the outbox is empty (True) or `within` seconds pass (False)."""
        self.wake()
        deadline = time.monotonic() + within
        while self.state.outbox_pending > 0 or self._busy:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True
