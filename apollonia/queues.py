"""Queue statistics for `apollonia queue stats`: from the AMQP protocol, and from the management
API when `APOLLONIA_RABBITMQ_API_URL` is set."""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aio_pika
import aiohttp

from consumer.domain.errors import OperationError
from shared.runtime.masking import mask_text, mask_url
from shared.topology import Topology


@dataclass(slots=True)
class QueueStats:
    name: str
    role: str  # catalog | dead | stream
    messages: int | None = None
    consumers: int | None = None
    unacked: int | None = None
    publish_rate: float | None = None
    ack_rate: float | None = None
    deliver_rate: float | None = None
    net_rate: float | None = None  # change of `messages` per second between two samples
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue": self.name,
            "role": self.role,
            "messages": self.messages,
            "consumers": self.consumers,
            "unacked": self.unacked,
            "publish_rate": self.publish_rate,
            "ack_rate": self.ack_rate,
            "deliver_rate": self.deliver_rate,
            "net_rate": self.net_rate,
        }


def roles(topology: Topology) -> dict[str, str]:
    return {
        topology.catalog_queue: "catalog",
        topology.dead_queue: "dead",
        topology.stream: "stream",
    }


async def sample_amqp(amqp_url: str, topology: Topology) -> dict[str, QueueStats]:
    """Ready messages and consumers of each queue, by passive declare (exit 3 if unreachable)."""
    try:
        connection = await aio_pika.connect(amqp_url, timeout=10)
    except Exception as exc:
        raise OperationError(
            "broker_unreachable",
            url=mask_url(amqp_url),
            error=mask_text(str(exc) or type(exc).__name__),
        ) from None
    out: dict[str, QueueStats] = {}
    try:
        for name, role in roles(topology).items():
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
                result = queue.declaration_result
                out[name] = QueueStats(
                    name, role, int(result.message_count or 0), int(result.consumer_count or 0)
                )
            except aio_pika.exceptions.ChannelClosed:
                out[name] = QueueStats(name, role, extra={"missing": True})
            finally:
                with contextlib.suppress(Exception):
                    await channel.close()
    finally:
        await connection.close()
    return out


def _vhost(amqp_url: str) -> str:
    path = urlsplit(amqp_url).path
    return path[1:] if len(path) > 1 else "/"


async def sample_management(
    api_url: str, amqp_url: str, topology: Topology
) -> dict[str, QueueStats]:
    """Counts and rates from the management plugin's HTTP API."""
    parts = urlsplit(api_url)
    # The header itself, not aiohttp.BasicAuth (deprecated as a session's auth in aiohttp 3.14).
    credentials = f"{unquote(parts.username or 'guest')}:{unquote(parts.password or 'guest')}"
    headers = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    base = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
    base += parts.path.rstrip("/")
    vhost = quote(_vhost(amqp_url), safe="")
    out: dict[str, QueueStats] = {}
    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
            for name, role in roles(topology).items():
                url = f"{base}/api/queues/{vhost}/{quote(name, safe='')}"
                async with session.get(url) as response:
                    if response.status == 404:
                        out[name] = QueueStats(name, role, extra={"missing": True})
                        continue
                    response.raise_for_status()
                    data = await response.json()
                details = data.get("message_stats") or {}
                out[name] = QueueStats(
                    name,
                    role,
                    messages=data.get("messages_ready", data.get("messages")),
                    consumers=data.get("consumers"),
                    unacked=data.get("messages_unacknowledged"),
                    publish_rate=(details.get("publish_details") or {}).get("rate"),
                    ack_rate=(details.get("ack_details") or {}).get("rate"),
                    deliver_rate=(details.get("deliver_get_details") or {}).get("rate"),
                )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise OperationError(
            "management_unreachable",
            url=mask_url(api_url),
            error=mask_text(str(exc) or type(exc).__name__),
        ) from None
    return out
