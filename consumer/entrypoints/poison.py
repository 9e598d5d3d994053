"""Poison: a message that can never be applied, and where it goes.

`shared.schemas.parse.parse_event` turns a message body into a `FileEvent` or raises
`PoisonError` with a reason category (for metrics and the DLQ). `DeadLetters` copies such a
message to `<x>.dead` with the reason in `x-apollonia-error`, waits for the broker's confirm, and
only then acks the original; if the copy cannot be published the original is returned for
redelivery instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aio_pika.abc import AbstractExchange

from consumer import metrics
from consumer.adapters.amqp.deadletters import copy_of
from consumer.entrypoints.acks import Acknowledger
from consumer.entrypoints.amqp_transport import Delivery
from consumer.entrypoints.worker_log import log
from shared.topology import ERROR_HEADER


class DeadLetters:
    """Dead-letters messages on the exchange `exchange()` returns (None while disconnected)."""

    def __init__(
        self,
        exchange: Callable[[], AbstractExchange | None],
        acks: Acknowledger[Delivery],
    ) -> None:
        self._exchange = exchange
        self._acks = acks

    async def __call__(
        self,
        message: Delivery,
        category: str,
        reason: str,
        *,
        event_id: str | None = None,
    ) -> None:
        """Copy the message to the dead-letter exchange with its reason, then ack it."""
        event_id = event_id or message.message_id or "-"
        exchange = self._exchange()
        headers = dict(message.headers or {})
        headers.update(
            {
                ERROR_HEADER: reason[:1000],
                "x-apollonia-dead-lettered-at": datetime.now(UTC).isoformat(),
                "x-apollonia-original-routing-key": message.routing_key or "",
            }
        )
        copy = copy_of(message, headers)
        try:
            if exchange is None:
                raise RuntimeError("not connected")
            await exchange.publish(copy, routing_key=message.routing_key or "", timeout=30)
        except Exception as exc:
            log.error(
                "could not dead-letter a poison message; it will be redelivered",
                event_id=event_id,
                error=str(exc),
            )
            await self._acks.settle(nacks=[message])
            return
        await self._acks.settle(acks=[message])
        metrics.DEAD_LETTERED.labels(category).inc()
        metrics.MESSAGES.labels("dead_lettered").inc()
        log.warning("message dead-lettered", event_id=event_id, reason=reason)
