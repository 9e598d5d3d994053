"""Replay the event log (`<exchange>.events`, a RabbitMQ stream) through the one apply path.

For re-ingest and for disaster recovery: with the catalog lost, recreate the database and the
sources/collections, then `apollonia replay --from first` rebuilds the assets. Replaying a range
twice changes nothing the second time: events already reflected are skipped as unchanged or
stale.

What RabbitMQ 3.10 + aio-pika need for a stream consumer, as seen here: a durable declare with
the stream's own arguments, `basic.qos` (a prefetch) on the channel, manual acks (`no_ack=True`
closes the connection), and `x-stream-offset` in the consume arguments. A timestamp offset starts
at the first chunk stored in that second, i.e. possibly early, so events are filtered by their
own timestamp too; offsets already processed are skipped, so a reconnect resumes where the replay
was (a robust queue would re-consume from the original offset, i.e. `first` again). The consumer
is cancelled before its channel is closed. The stream never ends: a replay stops once no message
has arrived for `idle_timeout` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from consumer.adapters.amqp.topology import declare_or_explain
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.catalog import Collection
from consumer.domain.errors import OperationError
from consumer.domain.records import IngestRun
from consumer.service_layer.events import apply_events
from consumer.service_layer.routing import RouterCache
from shared.retry import Backoff, retry_with_backoff
from shared.runtime.log import get_logger
from shared.runtime.masking import mask_text, mask_url
from shared.schemas.file_event import FileEvent, as_utc
from shared.schemas.parse import PoisonError, parse_event
from shared.topology import Topology

log = get_logger(__name__)

BATCH = 500
MAX_RECONNECTS = 5  # consume sessions lost mid-replay before it gives up
RECONNECT_BACKOFF = Backoff(2.0, 10.0)
OffsetSpec = str | int | datetime


def parse_from(value: str) -> OffsetSpec:
    """`first`, `last`, `next`, an integer offset, or an ISO-8601 time."""
    if value in ("first", "last", "next"):
        return value
    if value.isdigit():
        return int(value)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OperationError("invalid_offset", value=value) from None
    return as_utc(when)


def parse_until(value: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise OperationError("invalid_time", value=value) from None


@dataclass(slots=True)
class ReplayStats:
    read: int = 0
    applied: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    moved: int = 0
    unchanged: int = 0
    stale: int = 0
    unmatched: int = 0
    ignored: int = 0
    other_collection: int = 0
    outside_window: int = 0
    invalid: int = 0
    first_offset: int | None = None
    last_offset: int | None = None
    invalid_samples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Delivery:
    offset: int
    message: AbstractIncomingMessage


class Replayer:
    def __init__(
        self,
        catalog: CatalogDatabase,
        amqp_url: str,
        topology: Topology,
        media_extensions: list[str],
        *,
        start: OffsetSpec = "first",
        until: datetime | None = None,
        collection: Collection | None = None,
        idle_timeout: float = 3.0,
        progress: Callable[[ReplayStats], None] | None = None,
        max_message_bytes: int = 1024 * 1024,
    ) -> None:
        self.catalog = catalog
        self.amqp_url = amqp_url
        self.topology = topology
        self.extensions = media_extensions
        self.start = start
        self.from_time = start if isinstance(start, datetime) else None
        self.until = until
        self.collection = collection
        self.idle_timeout = idle_timeout
        self.progress = progress
        self.max_message_bytes = max_message_bytes
        self.routers = RouterCache(catalog, media_extensions)
        self.stats = ReplayStats()
        self._last_offset: int | None = None

    async def run(self) -> ReplayStats:
        started = datetime.now(UTC)
        await retry_with_backoff(
            self._consume,
            RECONNECT_BACKOFF,
            on_failure=self._lost,
            retry_on=(aio_pika.exceptions.AMQPConnectionError, ConnectionError, OSError),
        )
        if not self.catalog.dry_run:
            await self._record(started)
        return self.stats

    def _lost(self, exc: BaseException, attempts: int, delay: float) -> None:
        """A consume session failed: resume after the last offset, or give up."""
        if attempts == 1 and self._last_offset is None and self.stats.read == 0:
            raise OperationError(
                "broker_unreachable",
                url=mask_url(self.amqp_url),
                error=mask_text(str(exc) or type(exc).__name__),
            ) from None
        if attempts > MAX_RECONNECTS:
            raise OperationError(
                "broker_unreachable",
                case="lost",
                offset=self._last_offset,
                error=mask_text(str(exc)),
            ) from None
        log.warning(
            "broker connection lost; resuming",
            after_offset=self._last_offset,
            attempt=attempts,
        )

    async def _consume(self) -> None:
        connection = await aio_pika.connect(self.amqp_url, timeout=10)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=BATCH * 2)
            declared = await declare_or_explain(channel, self.topology)
            inbox: asyncio.Queue[_Delivery] = asyncio.Queue()

            async def on_message(message: AbstractIncomingMessage) -> None:
                offset = (message.headers or {}).get("x-stream-offset")
                number = offset if isinstance(offset, int) else -1
                inbox.put_nowait(_Delivery(number, message))

            start: Any = self.start if self._last_offset is None else self._last_offset + 1
            tag = await declared.stream.consume(
                on_message, arguments={"x-stream-offset": start}, no_ack=False
            )
            try:
                await self._drain(inbox)
            finally:
                with contextlib.suppress(Exception):
                    await declared.stream.cancel(tag)
                with contextlib.suppress(Exception):
                    await channel.close()
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _drain(self, inbox: asyncio.Queue[_Delivery]) -> None:
        while True:
            try:
                first = await asyncio.wait_for(inbox.get(), self.idle_timeout)
            except TimeoutError:
                return  # caught up: nothing new for idle_timeout seconds
            batch = [first]
            deadline = time.monotonic() + 0.2
            while len(batch) < BATCH and time.monotonic() < deadline:
                while len(batch) < BATCH and not inbox.empty():
                    batch.append(inbox.get_nowait())
                if len(batch) < BATCH:
                    await asyncio.sleep(0.01)
            await self._process(batch)
            await batch[-1].message.ack(multiple=True)
            if self.progress is not None:
                self.progress(self.stats)

    async def _process(self, batch: list[_Delivery]) -> None:
        events: list[FileEvent] = []
        stats = self.stats
        for delivery in batch:
            if self._last_offset is not None and 0 <= delivery.offset <= self._last_offset:
                continue  # already processed (a resumed or early-starting consumer)
            if delivery.offset >= 0:
                self._last_offset = delivery.offset
                if stats.first_offset is None:
                    stats.first_offset = delivery.offset
                stats.last_offset = delivery.offset
            stats.read += 1
            try:
                event = parse_event(delivery.message.body, self.max_message_bytes)
            except PoisonError as exc:
                stats.invalid += 1
                if len(stats.invalid_samples) < 10:
                    stats.invalid_samples.append({"offset": delivery.offset, "error": exc.summary})
                continue
            when = event.observed_at
            if (self.from_time and when < self.from_time) or (self.until and when > self.until):
                stats.outside_window += 1
                continue
            events.append(event)
        if not events:
            return
        applied = await apply_events(
            self.catalog,
            events,
            routers=self.routers,
            write=not self.catalog.dry_run,
            only_collection=self.collection.uuid if self.collection is not None else None,
        )
        plan = applied.plan
        stats.unmatched += len(plan.unmatched)
        stats.ignored += len(plan.ignored)
        stats.invalid += len(plan.rejected)
        stats.other_collection += sum(len(g.changes) for g in applied.other_collection)
        for outcome in applied.outcomes:
            stats.created += outcome.created
            stats.updated += outcome.updated
            stats.deleted += outcome.deleted
            stats.moved += outcome.moved
            stats.stale += outcome.stale
            stats.unchanged += outcome.skipped - outcome.stale
            stats.applied += outcome.created + outcome.updated + outcome.deleted + outcome.moved

    async def _record(self, started: datetime) -> None:
        async with self.catalog.unit_of_work(label="replay run") as uow:
            await uow.runs.add(
                IngestRun(
                    uuid=str(uuid.uuid4()),
                    kind="replay",
                    collection_uuid=self.collection.uuid if self.collection else None,
                    source_uuid=self.collection.source_uuid if self.collection else None,
                    scope={
                        "kind": "replay",
                        "from": str(self.start),
                        "until": self.until.isoformat() if self.until else None,
                    },
                    status="success",
                    started_at=started,
                    finished_at=datetime.now(UTC),
                    stats={k: v for k, v in self.stats.as_dict().items() if k != "invalid_samples"},
                )
            )
            await uow.commit()
