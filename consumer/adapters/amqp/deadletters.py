"""The dead-letter queue `<exchange>.catalog.dead`: look, send back, purge.

Messages get there two ways: the consumer copies poison there itself with the reason in
`x-apollonia-error` (bad JSON, schema, version, size, a path escaping its root), and RabbitMQ
dead-letters a message whose delivery limit was reached (its `x-death` header says so; typically
the catalog could not be written). Once the cause is fixed, `requeue` sends them back to
`<exchange>.catalog` only — through the default exchange, so the event log and any other
consumer of the fanout exchange do not see them twice.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
)

from consumer.adapters.amqp.topology import declare_or_explain
from consumer.domain.errors import OperationError
from shared.runtime.masking import mask_text, mask_url
from shared.topology import ERROR_HEADER, Topology

REQUEUE_HEADER = "x-apollonia-requeued"
_DROPPED_HEADERS = {
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
    "x-delivery-count",
    ERROR_HEADER,
    "x-apollonia-dead-lettered-at",
    "x-apollonia-original-routing-key",
}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    event_id: str | None
    reason: str
    path: str | None
    dead_at: datetime | None
    routing_key: str | None
    size: int
    requeued: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "reason": self.reason,
            "path": self.path,
            "dead_at": self.dead_at.isoformat().replace("+00:00", "Z") if self.dead_at else None,
            "routing_key": self.routing_key,
            "size": self.size,
            "requeued": self.requeued,
        }


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return _aware(datetime.fromisoformat(value))
    return None


class MessageLike(Protocol):
    body: bytes
    content_type: str | None
    message_id: str | None
    timestamp: datetime | None
    type: str | None
    app_id: str | None


def copy_of(message: MessageLike, headers: dict[str, Any]) -> aio_pika.Message:
    """A persistent copy of a delivered message, with other headers."""
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        app_id=message.app_id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def describe(message: AbstractIncomingMessage) -> DeadLetter:
    headers = dict(message.headers or {})
    body: dict[str, Any] = {}
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        parsed = json.loads(message.body)
        if isinstance(parsed, dict):
            body = parsed
    deaths = headers.get("x-death")
    first = deaths[0] if isinstance(deaths, list) and deaths else None
    death: dict[str, Any] = dict(first) if isinstance(first, dict) else {}
    reason = headers.get(ERROR_HEADER)
    if reason is None and death:
        reason = (
            f"{death.get('reason', 'dead-lettered')} in {death.get('queue', '?')} "
            f"after {death.get('count', '?')} deliveries"
        )
    dead_at = _aware(headers.get("x-apollonia-dead-lettered-at")) or _aware(death.get("time"))
    requeued = headers.get(REQUEUE_HEADER)
    return DeadLetter(
        event_id=message.message_id or (str(body["event_id"]) if "event_id" in body else None),
        reason=str(reason or "unknown"),
        path=str(body["file_path"]) if isinstance(body.get("file_path"), str) else None,
        dead_at=dead_at or _aware(message.timestamp),
        routing_key=str(
            headers.get("x-apollonia-original-routing-key") or message.routing_key or ""
        )
        or None,
        size=len(message.body),
        requeued=requeued if isinstance(requeued, int) else 0,
    )


class DeadLetterQueue:
    def __init__(self, amqp_url: str, topology: Topology) -> None:
        self.amqp_url = amqp_url
        self.topology = topology
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None

    async def __aenter__(self) -> Self:
        try:
            self._connection = await aio_pika.connect(self.amqp_url, timeout=10)
        except Exception as exc:
            raise OperationError(
                "broker_unreachable",
                url=mask_url(self.amqp_url),
                error=mask_text(str(exc) or type(exc).__name__),
            ) from None
        self._channel = await self._connection.channel(publisher_confirms=True)
        declared = await declare_or_explain(self._channel, self.topology)
        self._queue = declared.dead_queue
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    def _require(self) -> tuple[AbstractChannel, AbstractQueue]:
        if self._channel is None or self._queue is None:
            raise RuntimeError("use `async with DeadLetterQueue(...)`")
        return self._channel, self._queue

    async def count(self) -> int:
        channel, _ = self._require()
        queue = await channel.declare_queue(self.topology.dead_queue, passive=True)
        return int(queue.declaration_result.message_count or 0)

    async def _take(self, limit: int | None) -> list[AbstractIncomingMessage]:
        """Up to `limit` messages, held unacknowledged (they go back unless acked)."""
        _, queue = self._require()
        total = await self.count()
        wanted = total if limit is None else min(limit, total)
        taken: list[AbstractIncomingMessage] = []
        while len(taken) < wanted:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            taken.append(message)
        return taken

    async def _give_back(self, messages: list[AbstractIncomingMessage]) -> None:
        for message in messages:
            await message.nack(requeue=True)

    async def peek(self, limit: int | None = None) -> list[DeadLetter]:
        """Describe the dead letters, leaving every one of them in the queue."""
        taken = await self._take(limit)
        try:
            return [describe(m) for m in taken]
        finally:
            await self._give_back(taken)

    async def requeue(self, select: Callable[[DeadLetter], bool]) -> tuple[list[DeadLetter], int]:
        """Send the selected dead letters back to the catalog queue (each confirmed by the broker
        before its dead copy is removed); returns them and how many stayed."""
        channel, _ = self._require()
        taken = await self._take(None)
        moved: list[DeadLetter] = []
        kept: list[AbstractIncomingMessage] = []
        try:
            for message in taken:
                letter = describe(message)
                if not select(letter):
                    kept.append(message)
                    continue
                headers = {
                    k: v for k, v in (message.headers or {}).items() if k not in _DROPPED_HEADERS
                }
                headers[REQUEUE_HEADER] = letter.requeued + 1
                await channel.default_exchange.publish(
                    copy_of(message, headers),
                    routing_key=self.topology.catalog_queue,
                    timeout=30,
                )
                await message.ack()
                moved.append(letter)
        finally:
            await self._give_back(kept)
        return moved, len(kept)

    async def purge(self) -> int:
        _, queue = self._require()
        result = await queue.purge()
        return int(getattr(result, "message_count", 0) or 0)
