"""Fixtures for the consumer: the real broker, a real catalog (SQLite, or PostgreSQL in modules
marked `catalog_backends`) with two collections, and a real ConsumerService in-process."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import xxhash

from apollonia import bootstrap
from apollonia.settings import Settings, load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.entrypoints.amqp_worker import ConsumerService
from consumer.service_layer import admin
from shared.schemas.file_event import EventKind, FileEvent
from tests import catalog_sql
from tests.broker import AMQP_URL, Broker, broker

ROOT = Path("/media/library")  # the consumer never reads files: the roots need not exist
TV = ROOT / "tv"
FILMS = ROOT / "films"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def event(
    path: str,
    content: bytes = b"content",
    *,
    kind: EventKind = "created",
    at: datetime | None = None,
    from_path: str | None = None,
    size: int | None = None,
    **extra: Any,
) -> FileEvent:
    """A file event as an ingestor would publish it (the file need not exist)."""
    when = at or datetime.now(UTC)
    hashed = kind != "deleted"
    return FileEvent(
        file_path=path,
        event_type="IN_CLOSE_WRITE",
        kind=kind,
        sha256_hash=hashlib.sha256(content).hexdigest() if hashed else None,
        xxh128_hash=xxhash.xxh3_128(content).hexdigest() if hashed else None,
        size=len(content) if size is None else size,
        modified_time=when - timedelta(seconds=1),
        accessed_time=when,
        changed_time=when,
        timestamp=when,
        neighbors=[],
        mtime_ns=int((when - timedelta(seconds=1)).timestamp() * 1e9),
        from_path=from_path,
        event_id=uuid.uuid4(),
        ingestor_id="test",
        **extra,
    )


@dataclass
class Catalog:
    path: Path
    url: str
    ids: dict[str, str]

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return catalog_sql.rows(self.url, sql, params)

    def asset(self, key: str) -> dict[str, Any] | None:
        found = catalog_sql.dicts(self.url, "SELECT * FROM assets WHERE canonical_key = ?", (key,))
        return found[0] if found else None

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        catalog_sql.execute(self.url, sql, params)


@pytest.fixture
async def catalog(catalog_path: Path, catalog_url: str) -> Catalog:
    path, url = catalog_path, catalog_url
    now = datetime.now(UTC)
    importer = FilesystemImporter(["mkv", "mp3"])
    db = CatalogDatabase(url)
    async with db, db.unit_of_work() as uow:
        source = await admin.add_source(
            uow,
            name="Local",
            source_type="filesystem",
            root_path=str(ROOT),
            mappings=["/data=/media/library"],
            external_id=None,
            now=now,
        )
        tv = await admin.add_collection(
            uow,
            source,
            importer,
            name="TV",
            root_path=str(TV),
            enrichers=[],
            sync_enabled=True,
            hash_mode="full",
            external_id=None,
            now=now,
        )
        films = await admin.add_collection(
            uow,
            source,
            importer,
            name="Films",
            root_path=str(FILMS),
            enrichers=[],
            sync_enabled=True,
            hash_mode="full",
            external_id=None,
            now=now,
        )
        await uow.commit()
    return Catalog(path, url, {"source": source.uuid, "tv": tv.uuid, "films": films.uuid})


@pytest.fixture
async def bus() -> AsyncIterator[Broker]:
    async with broker(delivery_limit=2) as b:
        yield b


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def consumer_settings(catalog: Catalog, bus: Broker, config_dir: Path) -> SettingsFactory:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "amqp_url": AMQP_URL,
            "exchange": bus.topology.exchange,
            "delivery_limit": 2,
            "database_url": catalog.url,
            "metrics_port": 0,
            "batch_ms": 20,
            "queue_poll_interval": 0.2,
            "media_extensions": ["mkv", "mp3"],
            "shutdown_timeout": 10,
            "db_busy_timeout_ms": 2000,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[ConsumerService]:
    service = bootstrap.consumer_service(settings)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
