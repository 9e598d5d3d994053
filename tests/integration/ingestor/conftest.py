"""Fixtures for the ingestor's integration tests: the real broker (a uniquely named topology per
test, deleted afterwards), real temporary folders and a real ingestor service in-process."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from apollonia import bootstrap
from apollonia.settings import Settings, load_settings
from ingestor.config import PipelineConfig
from ingestor.paths import from_event
from ingestor.pipeline import Pipeline
from ingestor.service import IngestorService
from ingestor.sink import ListSink
from ingestor.state import StateDatabase
from shared.hashing import Hasher
from shared.retry import Backoff
from shared.schemas.file_event import FileEvent
from shared.topology import Topology, declare_topology, delete_topology
from tests.broker_required import AMQP_URL, require_broker

SETTLE = 0.3
WAIT = 60.0  # the most any test waits for something that should take well under a second


@dataclass(frozen=True)
class Received:
    event: FileEvent
    message: AbstractIncomingMessage

    @property
    def raw_path(self) -> bytes:
        return from_event(self.event.file_path, self.event.file_path_b64)


class BrokerTap:
    """Reads the events an ingestor published off `<exchange>.catalog`."""

    def __init__(self, topology: Topology, channel: AbstractChannel, queue: AbstractQueue) -> None:
        self.topology = topology
        self.channel = channel
        self.queue = queue

    async def collect(self, count: int, *, within: float = WAIT) -> list[Received]:
        """Exactly the next `count` events (fails, showing what came, if they do not arrive)."""
        got: list[Received] = []
        deadline = time.monotonic() + within
        while len(got) < count:
            message = await self.queue.get(no_ack=True, fail=False)
            if message is None:
                if time.monotonic() > deadline:
                    seen = [(r.event.kind, r.event.file_path) for r in got[-10:]]
                    raise AssertionError(f"expected {count} events, got {len(got)}; last: {seen}")
                await asyncio.sleep(0.02)
                continue
            got.append(Received(FileEvent.model_validate_json(message.body), message))
        return got

    async def drain(self) -> list[Received]:
        """Whatever is in the queue right now."""
        got: list[Received] = []
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            got.append(Received(FileEvent.model_validate_json(message.body), message))
        return got


@pytest.fixture
async def tap() -> AsyncIterator[BrokerTap]:
    require_broker()
    topology = Topology(exchange=f"test-{uuid4().hex[:12]}")
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    declared = await declare_topology(channel, topology)
    try:
        yield BrokerTap(topology, channel, declared.catalog_queue)
    finally:
        await delete_topology(channel, topology)
        await connection.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(config_dir: Path, data_dir: Path, tap: BrokerTap) -> SettingsFactory:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_directory": [data_dir],
            "exchange": tap.topology.exchange,
            "amqp_url": AMQP_URL,
            "settle_seconds": SETTLE,
            "metrics_port": 0,
            "reconcile_interval": 0,
            "poll_interval": 0.3,
            "shutdown_timeout": 10,
            "ingestor_id": "test-ingestor",
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@asynccontextmanager
async def running(
    settings: Settings, *, republish_all: bool = False
) -> AsyncIterator[IngestorService]:
    """A real ingestor service, with short reconnect delays so outage tests stay quick."""
    service = IngestorService(
        bootstrap.ingestor_config(settings),
        backoff=Backoff(0.05, 0.5),
        reconnect_interval=0.3,
        republish_all=republish_all,
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@asynccontextmanager
async def embedded(
    config: PipelineConfig,
    state_url: str,
    *,
    hash_workers: int = 2,
    sink: ListSink | None = None,
    **kwargs: Any,
) -> AsyncIterator[tuple[Pipeline, ListSink]]:
    """The pipeline with a list sink and no broker: how the embedded mode uses it."""
    state = await StateDatabase(state_url).open()
    hasher = Hasher(hash_workers)
    sink = sink if sink is not None else ListSink()
    pipeline = Pipeline(config, state=state, sink=sink, hasher=hasher, **kwargs)
    await pipeline.start()
    try:
        yield pipeline, sink
    finally:
        await pipeline.stop()
        hasher.close()
        await state.close()


async def idle(service: IngestorService) -> None:
    async with asyncio.timeout(WAIT):
        await service.wait_idle()


async def until(condition: Callable[[], bool], *, within: float = WAIT, what: str = "") -> None:
    """Wait for a condition (a deadline to fail by, not a timing assertion)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


def write(path: Path | bytes, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
