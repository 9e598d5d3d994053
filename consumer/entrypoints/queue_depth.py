"""Sampling the depth of the consumer's queues into metrics, best effort.

Every `interval` seconds, on a short-lived channel of the current connection: messages and
consumers of `<x>.catalog` and `<x>.catalog.dead`, by a passive declare.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aio_pika.abc import AbstractRobustConnection

from consumer import metrics
from consumer.entrypoints.worker_log import log


async def poll_queue_depth(
    connection: Callable[[], AbstractRobustConnection | None],
    names: Sequence[str],
    interval: float,
) -> None:
    """Sample until cancelled; `connection()` is the current connection (None before one)."""
    while True:
        current = connection()
        if current is not None and not current.is_closed:
            try:
                channel = await current.channel()
                try:
                    for name in names:
                        queue = await channel.declare_queue(name, passive=True)
                        result = queue.declaration_result
                        metrics.QUEUE_MESSAGES.labels(name).set(result.message_count or 0)
                        metrics.QUEUE_CONSUMERS.labels(name).set(result.consumer_count or 0)
                finally:
                    await channel.close()
            except Exception as exc:  # sampling is best effort
                log.debug("queue depth sample failed", error=str(exc))
        await asyncio.sleep(interval)
