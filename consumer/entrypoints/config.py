"""What the consumer's services are told: small frozen config objects, built from the settings
at the top (`apollonia.bootstrap`), so this package never reads the application's settings."""

from __future__ import annotations

from dataclasses import dataclass

from shared.topology import Topology


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    amqp_url: str
    topology: Topology
    database_url: str
    media_extensions: tuple[str, ...]
    busy_timeout_ms: int
    writer_process: bool
    log_level: str
    log_format: str
    metrics_host: str
    metrics_port: int  # 0: no HTTP server
    batch_size: int
    batch_ms: int
    prefetch: int
    max_message_bytes: int
    queue_poll_interval: float
    shutdown_timeout: float
    # Seconds within which a deletion and a creation of the same content are one move (0: off).
    move_inference_window_s: float = 600.0
