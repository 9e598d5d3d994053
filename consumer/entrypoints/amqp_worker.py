"""The consumer service: file events from `<exchange>.catalog` onto the catalog.

    queue <x>.catalog ─▶ inbox ─▶ batch (batch_size messages or batch_ms) ─▶ parse
        poison (bad JSON, schema, version, size, path escaping a root)
            ─▶ copied to <x>.dead with the reason in `x-apollonia-error`, then acked
        unmatched (under no collection) / ignored (not a media file) ─▶ acked and counted
        the rest ─▶ grouped by collection ─▶ one unit of work per group (the one apply path)
            committed ─▶ its messages acked
            failed     ─▶ its messages nacked for redelivery; after the queue's delivery limit
                          RabbitMQ dead-letters them (x-death) and the others carry on

Acks happen only after the transaction that applied the message committed; with at-least-once
delivery and an idempotent apply, nothing is lost and nothing is doubled. SIGTERM: stop consuming,
finish (and commit) what was delivered, ack, close.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aiormq.abc
from aio_pika.abc import (
    AbstractExchange,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from consumer import metrics
from consumer.adapters.amqp.deadletters import copy_of
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.entrypoints.config import ConsumerConfig
from consumer.entrypoints.writer import GroupWriter, InProcessWriter, ProcessWriter
from consumer.service_layer.events import GroupResult, apply_plan
from consumer.service_layer.routing import Plan, RouterCache, plan_batch
from shared.runtime.health import HealthServer
from shared.runtime.log import get_logger
from shared.runtime.masking import mask_text, mask_url
from shared.runtime.signals import stop_on_signals
from shared.schemas.file_event import FileEvent
from shared.schemas.parse import PoisonError, parse_event
from shared.sqlite import sqlite_path
from shared.topology import ERROR_HEADER, declare_topology

log = get_logger(__name__)

APP_ID = "apollonia-consumer"
ROUTER_TTL = 5.0  # seconds a loaded set of collections is reused


def utcnow() -> datetime:
    return datetime.now(UTC)


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


@dataclass(slots=True)
class _Prepared:
    pending: list[_Pending]
    plan: Plan | None


@dataclass
class _Pending:
    """A delivered message and the groups it still waits for."""

    message: Delivery
    event: FileEvent | None = None
    waiting: int = 0
    failed: bool = False
    settled: bool = False  # dead-lettered already


class ConsumerService:
    def __init__(self, config: ConsumerConfig, *, catalog: CatalogDatabase | None = None) -> None:
        self.config = config
        self.topology = config.topology
        self.catalog = catalog or CatalogDatabase(
            config.database_url, busy_timeout_ms=config.busy_timeout_ms
        )
        self._owns_catalog = catalog is None
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._dead_exchange: AbstractExchange | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._inbox: asyncio.Queue[Delivery] = asyncio.Queue()
        # Prepared batches waiting for the writer: one in the making, one waiting, at most.
        self._prepared: asyncio.Queue[_Prepared | None] = asyncio.Queue(maxsize=1)
        self._tasks: list[asyncio.Task[None]] = []
        self._stop_requested = asyncio.Event()
        self._stopping = False
        self._db_ok = True
        self.health: HealthServer | None = None
        self.applied = 0  # messages acked after a commit (tests and benchmarks)
        self._unmatched_since_report = 0
        self._routers = RouterCache(
            self.catalog, config.media_extensions, synced_only=True, ttl=ROUTER_TTL
        )
        self._writer: GroupWriter = InProcessWriter(self.catalog)

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        await self.catalog.open()
        if self.config.writer_process and sqlite_path(self.catalog.url) is not None:
            self._writer = ProcessWriter(
                self.catalog.url,
                busy_timeout_ms=self.catalog.busy_timeout_ms,
                log_level=self.config.log_level,
                log_format=self.config.log_format,
            )
        await self._writer.start()
        port = self.config.metrics_port
        if port:
            self.health = HealthServer(
                self.config.metrics_host,
                port,
                service="consumer",
                ready_checks={"broker": self.broker_connected, "database": self.database_ok},
            )
            await self.health.start()
        log.info(
            "consumer starting",
            amqp_url=mask_url(self.config.amqp_url),
            queue=self.topology.catalog_queue,
            catalog=mask_url(self.catalog.url),
            batch_size=self.config.batch_size,
            batch_ms=self.config.batch_ms,
            prefetch=self.config.prefetch,
        )
        await self._connect_until_up()
        self._tasks = [
            asyncio.create_task(self._batch_loop(), name="consumer-batches"),
            asyncio.create_task(self._write_loop(), name="consumer-writer"),
            asyncio.create_task(self._poll_queues(), name="consumer-queue-depth"),
            asyncio.create_task(self._report_unmatched(), name="consumer-unmatched-report"),
        ]

    async def _connect_until_up(self) -> None:
        delay = 1.0
        while not self._stop_requested.is_set():
            try:
                await self._connect()
                return
            except Exception as exc:
                log.warning(
                    "broker unreachable; retrying",
                    url=mask_url(self.config.amqp_url),
                    error=mask_text(str(exc) or type(exc).__name__),
                    retry_in=delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_requested.wait(), delay)
                delay = min(delay * 2, 30.0)

    async def _connect(self) -> None:
        connection = await aio_pika.connect_robust(
            self.config.amqp_url,
            timeout=10,
            client_properties={"connection_name": f"{APP_ID} {os.uname().nodename}"},
        )
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self.config.prefetch)
            declared = await declare_topology(channel, self.topology)
            # Dead letters are published with confirms before the original is acked.
            dead_channel = await connection.channel(publisher_confirms=True)
            self._dead_exchange = await dead_channel.get_exchange(self.topology.dead_exchange)
            self._channel = channel
            await self._subscribe()
        except Exception:
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        connection.close_callbacks.add(self._on_close)
        connection.reconnect_callbacks.add(self._on_reconnect)
        self._connection = connection
        self._queue = declared.catalog_queue
        metrics.BROKER_CONNECTED.set(1)
        log.info("consuming", queue=self.topology.catalog_queue)

    def _on_close(self, _sender: Any, exc: BaseException | None = None) -> None:
        metrics.BROKER_CONNECTED.set(0)
        if exc is not None and not self._stopping:
            log.warning(
                "broker connection lost; reconnecting",
                error=mask_text(str(exc) or type(exc).__name__),
            )

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
        delay = 0.5
        while not self._stopping:
            try:
                await self._subscribe()
            except Exception as exc:
                log.debug("re-subscribing failed; retrying", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            metrics.BROKER_CONNECTED.set(1)
            log.info("broker connection restored; consuming again")
            return

    def broker_connected(self) -> bool:
        conn, channel = self._connection, self._channel
        return bool(
            conn is not None
            and not conn.is_closed
            and conn.connected.is_set()
            and channel is not None
            and not channel.is_closed
            and self._consumer_tag
        )

    def database_ok(self) -> bool:
        path = sqlite_path(self.catalog.url)
        if path is not None and not (
            os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
        ):
            return False
        return self._db_ok

    def request_stop(self) -> None:
        if not self._stop_requested.is_set():
            log.info("stop requested; finishing the current batch")
        self._stop_requested.set()

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._stop_requested.set()
        if self._channel is not None and self._consumer_tag is not None:
            with contextlib.suppress(Exception):
                raw = await self._channel.get_underlay_channel()
                await raw.basic_cancel(self._consumer_tag)
        # The batch loop sees the stop, prepares what was delivered and returns; the writer
        # applies it and returns.
        if len(self._tasks) >= 2:
            draining = asyncio.gather(*self._tasks[:2])
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(draining), self.config.shutdown_timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._writer.close()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        metrics.BROKER_CONNECTED.set(0)
        if self.health is not None:
            await self.health.stop()
        if self._owns_catalog:
            await self.catalog.close()
        log.info("consumer stopped", applied=self.applied)

    async def run(self) -> int:
        async with stop_on_signals(self.request_stop):
            try:
                await self.start()
                await self._stop_requested.wait()
            finally:
                await self.stop()
        return 0

    # --- delivery and batching ------------------------------------------------------------
    async def _on_message(self, message: aiormq.abc.DeliveredMessage) -> None:
        self._inbox.put_nowait(Delivery.of(message))

    async def _batch_loop(self) -> None:
        """Gather deliveries into batches and prepare them (parse, route, plan); the writer
        applies them. Two stages, so the next batch is parsed while SQLite writes this one."""
        size = self.config.batch_size
        window = self.config.batch_ms / 1000
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self._stop_requested.is_set() and self._inbox.empty():
                    return
                try:
                    first = await asyncio.wait_for(self._inbox.get(), 0.5)
                except TimeoutError:
                    continue
                batch = [first]
                deadline = loop.time() + window
                while len(batch) < size:
                    while len(batch) < size and not self._inbox.empty():
                        batch.append(self._inbox.get_nowait())
                    remaining = deadline - loop.time()
                    if len(batch) >= size or remaining <= 0 or self._stop_requested.is_set():
                        break
                    await asyncio.sleep(min(remaining, 0.005))
                try:
                    prepared = await self.prepare(batch)
                except Exception:  # a bug here must not stop the consumer: redeliver, go on
                    log.exception("batch failed unexpectedly; messages returned to the queue")
                    for message in batch:
                        await _settle(message, ack=False)
                    continue
                await self._prepared.put(prepared)
        finally:
            await self._prepared.put(None)  # tells the writer there is no more

    async def _write_loop(self) -> None:
        while (prepared := await self._prepared.get()) is not None:
            try:
                await self.finish(prepared)
            except Exception:
                log.exception("batch failed unexpectedly; messages returned to the queue")
                for item in prepared.pending:
                    if not item.settled:
                        await _settle(item.message, ack=False)

    async def process(self, messages: Sequence[Delivery]) -> None:
        """Apply one batch; every message ends acked, nacked or dead-lettered."""
        await self.finish(await self.prepare(messages))

    async def prepare(self, messages: Sequence[Delivery]) -> _Prepared:
        """Parse and route a batch; poison is dead-lettered here, nothing is written."""
        metrics.BATCH_SIZE.observe(len(messages))
        pending: list[_Pending] = []
        for message in messages:
            try:
                event = parse_event(message.body, self.config.max_message_bytes)
            except PoisonError as exc:
                await self._dead_letter(message, exc.category, str(exc))
                continue
            pending.append(_Pending(message, event))
        if not pending:
            return _Prepared(pending, None)
        events = [p.event for p in pending if p.event]
        plan = await plan_batch(self._routers, events, tags=pending)
        for event, tag, reason in plan.rejected:
            assert isinstance(tag, _Pending)
            tag.settled = True
            await self._dead_letter(
                tag.message,
                "path_rejected",
                f"path_rejected: {reason}",
                event_id=str(event.event_id),
            )
        for kind, entries in (("unmatched", plan.unmatched), ("ignored", plan.ignored)):
            for event, tag in entries:
                assert isinstance(tag, _Pending)
                metrics.MESSAGES.labels(kind).inc()
                if kind == "unmatched":
                    self._unmatched_since_report += 1
                    log.debug(
                        "event under no collection",
                        event_id=str(event.event_id),
                        path=event.file_path,
                    )
        for group in plan.groups.values():
            for tag in group.tags:
                assert isinstance(tag, _Pending)
                tag.waiting += 1
        return _Prepared(pending, plan)

    async def finish(self, prepared: _Prepared) -> None:
        """Apply each collection's group in its own transaction, then settle every message."""
        pending, plan = prepared.pending, prepared.plan
        if plan is None:
            return
        applied = await apply_plan(plan, self._writer.apply, isolate_failures=True)
        for result in applied.results:
            ok = self._report(result)
            for tag in result.group.tags:
                assert isinstance(tag, _Pending)
                tag.waiting -= 1
                tag.failed = tag.failed or not ok
        committed_at = time.time()
        positive: list[_Pending] = []
        for item in pending:
            if item.waiting or item.settled:
                continue
            if item.failed:
                metrics.MESSAGES.labels("failed").inc()
                await _settle(item.message, ack=False)
                continue
            positive.append(item)
            self.applied += 1
            if item.event is not None:
                metrics.EVENT_TO_COMMIT.observe(
                    max(0.0, committed_at - item.event.observed_at.timestamp())
                )
        if any(item.failed for item in pending):
            for item in positive:
                await _settle(item.message, ack=True)
        else:
            await _ack_all(positive)

    def _report(self, result: GroupResult) -> bool:
        """Metrics and a log line for one applied group; False when it failed."""
        group, outcome, exc = result.group, result.outcome, result.error
        if exc is not None or outcome is None:
            self._db_ok = False
            self._routers.forget()  # the collection may be gone: look again next time
            metrics.GROUP_FAILURES.inc()
            log.error(
                "could not apply events; returning them for redelivery",
                collection=group.collection.name,
                events=len(group.changes),
                error=f"{type(exc).__name__}: {exc}",
            )
            return False
        self._db_ok = True
        counts = Counter("stale" if d.stale else d.action.value for d in outcome.decisions)
        for label, count in counts.items():
            metrics.MESSAGES.labels(label).inc(count)
        log.info(
            "events applied",
            collection=group.collection.name,
            events=len(group.changes),
            created=outcome.created,
            updated=outcome.updated,
            skipped=outcome.skipped,
            deleted=outcome.deleted,
            moved=outcome.moved,
            stale=outcome.stale,
        )
        return True

    async def _dead_letter(
        self,
        message: Delivery,
        category: str,
        reason: str,
        *,
        event_id: str | None = None,
    ) -> None:
        """Copy the message to the dead-letter exchange with its reason, then ack it."""
        event_id = event_id or message.message_id or "-"
        exchange = self._dead_exchange
        headers = dict(message.headers or {})
        headers.update(
            {
                ERROR_HEADER: reason[:1000],
                "x-apollonia-dead-lettered-at": utcnow().isoformat(),
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
            await _settle(message, ack=False)
            return
        await _settle(message, ack=True)
        metrics.DEAD_LETTERED.labels(category).inc()
        metrics.MESSAGES.labels("dead_lettered").inc()
        log.warning("message dead-lettered", event_id=event_id, reason=reason)

    # --- background ------------------------------------------------------------------------
    async def _poll_queues(self) -> None:
        names = (self.topology.catalog_queue, self.topology.dead_queue)
        while True:
            connection = self._connection
            if connection is not None and not connection.is_closed:
                try:
                    channel = await connection.channel()
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
            await asyncio.sleep(self.config.queue_poll_interval)

    async def _report_unmatched(self) -> None:
        while True:
            await asyncio.sleep(60)
            if self._unmatched_since_report:
                log.info(
                    "events under no collection in the last minute (acked, not cataloged)",
                    count=self._unmatched_since_report,
                )
                self._unmatched_since_report = 0


async def _settle(message: Delivery, *, ack: bool) -> None:
    """Ack or requeue; a closed channel means the broker redelivers anyway."""
    try:
        if ack:
            await message.ack()
        else:
            await message.nack()
    except Exception as exc:
        log.debug("could not settle a message (the broker will redeliver it)", error=str(exc))


async def _ack_all(items: Sequence[_Pending]) -> None:
    """Ack a whole batch with one frame per channel (`multiple`): deliveries reach the inbox in
    order and batches are settled in order, so every lower delivery tag is already settled. On a
    busy queue this halves the consumer's per-message cost."""
    last: dict[int, Delivery] = {}
    for item in items:
        message = item.message
        key = id(message.channel)
        if key not in last or message.delivery_tag > last[key].delivery_tag:
            last[key] = message
    for message in last.values():
        try:
            await message.ack(multiple=True)
        except Exception as exc:
            log.debug("could not ack (the broker will redeliver)", error=str(exc))
