"""The ingestor service: the pipeline with the outbox sink, the publisher and the HTTP side.

    Pipeline (watch → settle → prospect) ─▶ OutboxSink ─▶ state DB outbox ─▶ OutboxPublisher ─▶ AMQP
    HealthServer: /healthz (event loop responsive), /readyz (broker connected, state DB writable),
                  /metrics (Prometheus)

SIGINT / SIGTERM: stop watching, finish in-flight hashes, flush the outbox within
`shutdown_timeout`, close the connection, exit 0. Whatever is still in the outbox then is published
on the next start; nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from ingestor import metrics
from ingestor.config import IngestorConfig
from ingestor.pipeline import Pipeline
from ingestor.publisher import APP_ID, BrokerPublisher, OutboxPublisher
from ingestor.sink import OutboxSink
from ingestor.state import StateDatabase
from shared.hashing import Fingerprint, Hasher
from shared.retry import Backoff
from shared.runtime.health import HealthServer
from shared.runtime.log import get_logger
from shared.runtime.masking import mask_url
from shared.runtime.signals import stop_on_signals

log = get_logger(__name__)


def observe_hash(fingerprint: Fingerprint, seconds: float) -> None:
    """Hasher observer (runs in the worker thread; prometheus_client is thread-safe)."""
    metrics.HASHED_BYTES.inc(fingerprint.size)
    metrics.HASHED_FILES.inc()
    metrics.HASH_DURATION.observe(seconds)


class IngestorService:
    def __init__(
        self,
        config: IngestorConfig,
        *,
        republish_all: bool = False,
        backoff: Backoff | None = None,
        reconnect_interval: float = 5.0,
    ) -> None:
        self.service_config = config
        self.republish_all = republish_all
        self.config = config.pipeline
        self.backoff = backoff or Backoff()
        self.reconnect_interval = reconnect_interval
        self.state = StateDatabase(config.state_database_url)
        self.hasher: Hasher | None = None
        self.broker = BrokerPublisher(
            config.broker.amqp_url,
            config.broker.topology,
            app_id=APP_ID,
            connection_name=f"{APP_ID} {config.broker.ingestor_id}",
            reconnect_interval=reconnect_interval,
        )
        self.publisher = OutboxPublisher(
            self.state, self.broker, window=config.publish_window, backoff=self.backoff
        )
        self.pipeline: Pipeline | None = None
        self.health: HealthServer | None = None
        self._publisher_task: asyncio.Task[None] | None = None
        self._stop_requested = asyncio.Event()
        self._started = False
        self._stopped = False

    async def start(self) -> None:
        settings = self.service_config
        await self.state.open()
        metrics.OUTBOX_PENDING.set(self.state.outbox_pending)
        self.hasher = Hasher(settings.hashing.workers, settings.hashing.chunk_size, observe_hash)
        sink = OutboxSink(self.state, on_enqueued=self.publisher.wake)
        self.pipeline = Pipeline(self.config, state=self.state, sink=sink, hasher=self.hasher)
        port = settings.metrics_port
        if port:
            self.health = HealthServer(
                settings.metrics_host,
                port,
                service="ingestor",
                ready_checks={
                    "broker": lambda: self.broker.connected,
                    "state_db": self.state.writable,
                },
            )
            await self.health.start()
        self._publisher_task = asyncio.create_task(self.publisher.run(), name="publisher")
        log.info(
            "ingestor starting",
            ingestor_id=settings.broker.ingestor_id,
            roots=[r.decode("utf-8", "backslashreplace") for r in self.config.roots],
            watch_mode=self.config.watch_mode,
            amqp_url=mask_url(settings.broker.amqp_url),
            exchange=settings.broker.topology.exchange,
            state_database=mask_url(settings.state_database_url),
            outbox_pending=self.state.outbox_pending,
            metrics_port=self.health.bound_port if self.health else 0,
            republish_all=self.republish_all,
        )
        await self.pipeline.start(republish_all=self.republish_all)
        self._started = True

    def request_stop(self) -> None:
        if not self._stop_requested.is_set():
            log.info("stop requested; finishing in-flight work")
        self._stop_requested.set()

    async def wait_idle(self) -> None:
        """Everything observed so far is published (tests and tools)."""
        if self.pipeline is None:
            return
        while True:
            await self.pipeline.wait_idle()
            if self.publisher.idle and self.pipeline.is_idle():
                return
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        budget = self.service_config.shutdown_timeout
        deadline = time.monotonic() + budget
        if self.pipeline is not None:
            await self.pipeline.stop(grace=budget)
        flushed = True
        if self._publisher_task is not None and not self._publisher_task.done():
            flushed = await self.publisher.flush(max(0.0, deadline - time.monotonic()))
            self._publisher_task.cancel()
            await asyncio.gather(self._publisher_task, return_exceptions=True)
        await self.broker.close()
        if self.health is not None:
            await self.health.stop()
        if self.hasher is not None:
            await asyncio.to_thread(self.hasher.close)
        pending = self.state.outbox_pending
        with contextlib.suppress(Exception):
            await self.state.close()
        if not self._started:
            return  # start() failed; the caller reports why
        if flushed:
            log.info("ingestor stopped", outbox_pending=pending)
        else:
            log.warning(
                "ingestor stopped before the outbox was empty; the rest goes out on next start",
                outbox_pending=pending,
            )

    async def run(self) -> int:
        """Run until SIGINT or SIGTERM; 0 after a clean shutdown."""
        async with stop_on_signals(self.request_stop):
            try:
                await self.start()
                await self._stop_requested.wait()
            finally:
                await self.stop()
        return 0
