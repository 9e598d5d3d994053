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

`ConsumerService` is the composition of the pieces, each in its own module:
`amqp_transport` (connect, subscribe, reconnect), `batching` (deliveries into batches),
`batch_apply` (parse, route, plan, apply), `poison` (parsing and dead-lettering), `acks` (which
deliveries may be acked, in how few frames), `queue_depth` and `unmatched_report` (background).
Two stages run as tasks: the batch loop prepares the next batch while the writer applies this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from datetime import timedelta

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.db.single_consumer import ConsumerLock, refuse_second_consumer
from consumer.entrypoints.acks import Acknowledger
from consumer.entrypoints.amqp_transport import AmqpTransport, Delivery
from consumer.entrypoints.batch_apply import BatchApplier, Prepared
from consumer.entrypoints.batching import Batcher
from consumer.entrypoints.config import ConsumerConfig
from consumer.entrypoints.poison import DeadLetters
from consumer.entrypoints.queue_depth import poll_queue_depth
from consumer.entrypoints.unmatched_report import UnmatchedReport
from consumer.entrypoints.worker_log import log
from consumer.entrypoints.writer import ProcessWriter
from shared.runtime.health import HealthServer
from shared.runtime.masking import mask_url
from shared.runtime.signals import stop_on_signals
from shared.sqlite import sqlite_path


class ConsumerService:
    def __init__(self, config: ConsumerConfig, *, catalog: CatalogDatabase | None = None) -> None:
        self.config = config
        self.topology = config.topology
        self.catalog = catalog or CatalogDatabase(
            config.database_url, busy_timeout_ms=config.busy_timeout_ms
        )
        self._owns_catalog = catalog is None
        self._stop_requested = asyncio.Event()
        self._stopping = False
        self._acks: Acknowledger[Delivery] = Acknowledger()
        self._batcher: Batcher[Delivery] = Batcher(
            config.batch_size, config.batch_ms / 1000, self._stop_requested
        )
        self.transport = AmqpTransport(
            config.amqp_url, self.topology, prefetch=config.prefetch, on_delivery=self._delivered
        )
        self._unmatched = UnmatchedReport()
        self.batches = BatchApplier(
            config,
            self.catalog,
            acks=self._acks,
            dead_letter=DeadLetters(lambda: self.transport.dead_exchange, self._acks),
            unmatched=self._unmatched,
        )
        # Prepared batches waiting for the writer: one in the making, one waiting, at most.
        self._prepared: asyncio.Queue[Prepared | None] = asyncio.Queue(maxsize=1)
        self._tasks: list[asyncio.Task[None]] = []
        self.health: HealthServer | None = None
        self._consumer_lock: ConsumerLock | None = None

    @property
    def applied(self) -> int:
        """Messages acked after a commit (tests and benchmarks)."""
        return self.batches.applied

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        # A SQLite catalog takes one consumer (SecondConsumerError names PostgreSQL).
        self._consumer_lock = refuse_second_consumer(self.catalog.url)
        await self.catalog.open()
        if self.config.writer_process and sqlite_path(self.catalog.url) is not None:
            self.batches.writer = ProcessWriter(
                self.catalog.url,
                busy_timeout_ms=self.catalog.busy_timeout_ms,
                log_level=self.config.log_level,
                log_format=self.config.log_format,
                move_window=timedelta(seconds=self.config.move_inference_window_s),
            )
        await self.batches.writer.start()
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
        await self.transport.connect_until_up(self._stop_requested)
        queues = (self.topology.catalog_queue, self.topology.dead_queue)
        self._tasks = [
            asyncio.create_task(self._batch_loop(), name="consumer-batches"),
            asyncio.create_task(self._write_loop(), name="consumer-writer"),
            asyncio.create_task(
                poll_queue_depth(
                    lambda: self.transport.connection, queues, self.config.queue_poll_interval
                ),
                name="consumer-queue-depth",
            ),
            asyncio.create_task(self._unmatched.run(), name="consumer-unmatched-report"),
        ]

    def broker_connected(self) -> bool:
        return self.transport.connected

    def database_ok(self) -> bool:
        path = sqlite_path(self.catalog.url)
        if path is not None and not (
            os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
        ):
            return False
        return self.batches.db_ok

    def request_stop(self) -> None:
        if not self._stop_requested.is_set():
            log.info("stop requested; finishing the current batch")
        self._stop_requested.set()

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._stop_requested.set()
        await self.transport.stop_consuming()
        # The batch loop sees the stop, prepares what was delivered and returns; the writer
        # applies it and returns.
        if len(self._tasks) >= 2:
            draining = asyncio.gather(*self._tasks[:2])
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(draining), self.config.shutdown_timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.batches.writer.close()
        await self.transport.close()
        if self.health is not None:
            await self.health.stop()
        if self._owns_catalog:
            await self.catalog.close()
        if self._consumer_lock is not None:
            self._consumer_lock.release()
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
    def _delivered(self, delivery: Delivery) -> None:
        # Tracked on arrival, in the channel's order: no ack can cover it before it is settled.
        self._acks.track(delivery)
        self._batcher.put(delivery)

    async def _batch_loop(self) -> None:
        """Gather deliveries into batches and prepare them (parse, route, plan); the writer
        applies them. Two stages, so the next batch is parsed while SQLite writes this one."""
        try:
            while (batch := await self._batcher.next_batch()) is not None:
                try:
                    prepared = await self.prepare(batch)
                except Exception:  # a bug here must not stop the consumer: redeliver, go on
                    log.exception("batch failed unexpectedly; messages returned to the queue")
                    await self._acks.settle(nacks=batch)
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
                await self._acks.settle(
                    nacks=[item.message for item in prepared.pending if not item.settled]
                )

    async def process(self, messages: Sequence[Delivery]) -> None:
        """Apply one batch; every message ends acked, nacked or dead-lettered."""
        await self.finish(await self.prepare(messages))

    async def prepare(self, messages: Sequence[Delivery]) -> Prepared:
        """Parse and route a batch; poison is dead-lettered here, nothing is written."""
        return await self.batches.prepare(messages)

    async def finish(self, prepared: Prepared) -> None:
        """Apply each collection's group in its own transaction, then settle every message."""
        await self.batches.finish(prepared)
