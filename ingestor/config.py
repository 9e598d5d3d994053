"""What the ingestor is told: small frozen config objects, built from the settings at the top
(`apollonia.bootstrap`), so this package never reads the application's settings itself."""

from __future__ import annotations

from dataclasses import dataclass

from ingestor.poll import WatchModeName
from ingestor.settle import DEFAULT_OPEN_GRACE
from shared.files import DEFAULT_MEDIA_EXTENSIONS
from shared.topology import Topology


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    roots: tuple[bytes, ...]
    ingestor_id: str
    watch_mode: WatchModeName = "auto"
    settle_seconds: float = 2.0
    poll_interval: float = 30.0
    reconcile_interval: float = 6 * 3600.0
    open_grace: float = DEFAULT_OPEN_GRACE
    move_window: float = 0.5
    batch_size: int = 512
    prospect_concurrency: int = 3
    # Media files are assets of their own, never another file's neighbours.
    media_extensions: tuple[str, ...] = DEFAULT_MEDIA_EXTENSIONS


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where events are published."""

    amqp_url: str
    topology: Topology
    ingestor_id: str


@dataclass(frozen=True, slots=True)
class HashConfig:
    workers: int = 2
    chunk_size: int = 1 << 20


@dataclass(frozen=True, slots=True)
class IngestorConfig:
    """Everything the ingestor service needs."""

    pipeline: PipelineConfig
    broker: BrokerConfig
    state_database_url: str
    hashing: HashConfig = HashConfig()
    publish_window: int = 500
    metrics_host: str = "0.0.0.0"
    metrics_port: int = 0  # 0: no HTTP server
    shutdown_timeout: float = 10.0
