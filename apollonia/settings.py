"""Runtime configuration, read once from the environment, `.env` and `/run/secrets`.

Every setting has the `APOLLONIA_` prefix; the names the user's first documents used
(`AMQP_CONNECTION_STRING`, `DATA_DIRECTORY`, `LOG_LEVEL`) are accepted as aliases so an existing
deployment keeps working. `docs/configuration.md` is generated from this model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from consumer.domain.catalog import PathMapping
from shared.files import DEFAULT_MEDIA_EXTENSIONS
from shared.runtime.masking import mask_url
from shared.topology import Topology

SECRETS_DIR = Path("/run/secrets")
DEFAULT_CONFIG_DIR = Path("/config")

DEFAULT_METRICS_PORTS = {"ingestor": 9108, "consumer": 9109, "enricher": 9110}

LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
WatchMode = Literal["auto", "inotify", "poll"]
LOG_FORMATS: tuple[str, ...] = get_args(LogFormat)
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)


def _user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "apollonia"


def default_config_dir() -> Path:
    """`/config` when it exists and is writable (the container layout), else the user data dir."""
    if DEFAULT_CONFIG_DIR.is_dir() and os.access(DEFAULT_CONFIG_DIR, os.W_OK | os.X_OK):
        return DEFAULT_CONFIG_DIR
    return _user_data_dir()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _alias(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(f"APOLLONIA_{name.upper()}", *aliases)


class Settings(BaseSettings):
    """All of Apollonia's settings. Field descriptions are the operator documentation."""

    model_config = SettingsConfigDict(
        env_prefix="APOLLONIA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        validate_default=True,
    )

    amqp_url: str = Field(
        default="amqp://guest:guest@localhost:5672/",
        validation_alias=_alias("amqp_url", "AMQP_CONNECTION_STRING"),
        description="AMQP broker URL. The password is masked wherever the URL is printed.",
    )
    exchange: str = Field(
        default="apollonia",
        min_length=1,
        description="Fanout exchange name; every queue and stream name derives from it.",
    )
    data_directory: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [Path("/data")],
        validation_alias=_alias("data_directory", "DATA_DIRECTORY"),
        description="Folder(s) to watch and catalog; a comma-separated list is allowed.",
    )
    config_dir: Path = Field(
        default_factory=default_config_dir,
        description="Where the catalog and ingestor state live: `/config` when it exists and is "
        "writable, else `$XDG_DATA_HOME/apollonia` (`~/.local/share/apollonia`).",
    )
    database_url: str = Field(
        default="",
        description="Catalog database URL. Default: SQLite file `apollonia.db` in `config_dir`. "
        "PostgreSQL: `postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE` (docs/operations.md, "
        '"PostgreSQL catalog"); the password is masked wherever the URL is shown.',
    )
    test_database_url: str = Field(
        default="",
        description="Catalog used by `--test-db`. Default: `apollonia-test.db` in `config_dir`.",
    )
    log_level: LogLevel = Field(
        default="INFO",
        validation_alias=_alias("log_level", "LOG_LEVEL"),
        description="Minimum level the services (`run`, `consumer`, `ingestor`) log. Other "
        "commands log warnings and errors only, unless given `-v` (info), `-vv` (debug) or "
        "`--log-level`.",
    )
    log_format: LogFormat = Field(
        default="auto",
        description="`json` lines, readable `console`, or `auto` (console on a terminal).",
    )

    # --- broker topology -----------------------------------------------------------------
    delivery_limit: int = Field(
        default=5,
        ge=1,
        description="Deliveries of one message to the catalog queue before it is dead-lettered.",
    )
    stream_max_age: str = Field(
        default="7D",
        pattern=r"^\d+(Y|M|D|h|m|s)$",
        description="Retention of the `<exchange>.events` stream by age (RabbitMQ `x-max-age`, "
        "e.g. `7D`, `12h`). Applied when the stream is first declared.",
    )
    stream_max_bytes: int = Field(
        default=5_000_000_000,
        gt=0,
        description="Retention of the `<exchange>.events` stream by size in bytes.",
    )
    rabbitmq_api_url: str | None = Field(
        default=None,
        description="RabbitMQ management API (e.g. `http://guest:guest@localhost:15672`); "
        "enables unacked counts and broker-side rates in `apollonia queue stats`.",
    )

    # --- services: health and metrics -----------------------------------------------------
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="HTTP port for /healthz, /readyz and /metrics. Unset: 9108 for the ingestor, "
        "9109 for the consumer, 9110 for the enricher; 0 disables the server.",
    )
    metrics_host: str = Field(default="0.0.0.0", description="Address the HTTP server binds.")
    shutdown_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a service may take on SIGTERM to finish in-flight work.",
    )

    # --- ingestor -------------------------------------------------------------------------
    watch_mode: WatchMode = Field(
        default="auto",
        description="`inotify`, `poll`, or `auto` (poll roots on nfs, cifs/smb3 and fuse mounts, "
        "where inotify sees nothing).",
    )
    poll_interval: float = Field(
        default=30.0, gt=0, description="Seconds between polls of a polled root."
    )
    reconcile_interval: float = Field(
        default=6 * 3600.0,
        ge=0,
        description="Seconds between full reconciliation scans of every root (catches writes "
        "inotify cannot see, e.g. an Unraid mover). 0 disables.",
    )
    settle_seconds: float = Field(
        default=2.0,
        ge=0,
        description="A file is complete when its size and mtime have not changed for this long.",
    )
    hash_chunk_size: int = Field(
        default=1024 * 1024,
        ge=64 * 1024,
        description="Read size for hashing. 1 MiB: python-xxhash releases the GIL only above "
        "64 KiB, and larger reads are faster.",
    )
    hash_workers: int = Field(
        default=2, ge=1, description="Files hashed in parallel (worker threads)."
    )
    publish_window: int = Field(
        default=500, ge=1, description="Publishes in flight awaiting broker confirms."
    )
    ingestor_id: str = Field(
        default_factory=lambda: os.uname().nodename,
        description="Name of this ingestor in the events it publishes (default: host name).",
    )
    state_database_url: str = Field(
        default="",
        description="Ingestor state and outbox. Default: SQLite file `ingestor-state.db` in "
        "`config_dir`.",
    )

    # --- consumer -------------------------------------------------------------------------
    batch_size: int = Field(default=1000, ge=1, description="Most messages applied per batch.")
    batch_ms: int = Field(
        default=100, ge=1, description="Longest wait (ms) for a batch to fill before applying."
    )
    prefetch: int = Field(
        default=2000, ge=1, description="Unacknowledged deliveries the broker may send ahead."
    )
    max_message_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Larger message bodies are dead-lettered unread.",
    )
    queue_poll_interval: float = Field(
        default=15.0, gt=0, description="Seconds between queue depth samples for metrics."
    )
    writer_process: bool = Field(
        default=True,
        description="Apply event batches in a child process, so receiving and writing use two "
        "cores (false: one process; in-memory catalogs always use one).",
    )

    move_inference_window_s: float = Field(
        default=600.0,
        ge=0,
        description="Seconds within which a file deleted at one key and created with the same "
        "sha256 at another key of the same collection counts as one move that keeps the asset "
        "(the producer could not pair the rename); 0 turns the inference off.",
    )

    # --- enrichment -----------------------------------------------------------------------
    enrichment_worker: bool = Field(
        default=True,
        description="Run the enrichment worker beside the apply path in `apollonia run` and "
        "`apollonia consumer` (false: only `apollonia enricher` or `apollonia enrich` enrich).",
    )
    enrichment_concurrency: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="Jobs one enrichment worker runs at a time (default: one per core).",
    )
    enrichment_poll_interval: float = Field(
        default=2.0, gt=0, description="Seconds an idle enrichment worker waits between claims."
    )
    enrichment_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a claimed job is a worker's; a running worker renews it, and a "
        "killed worker's jobs are taken again once it runs out.",
    )
    enrichment_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Attempts of a failing enrichment job before it waits for an operator "
        "(`apollonia job retry`).",
    )
    enrichment_retry_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Backoff before the second attempt; it doubles per attempt, up to an hour.",
    )
    enricher_path_mappings: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Where this enrichment worker finds the media when it is mounted elsewhere "
        "than on the consumer's host: `SERVER_PREFIX=LOCAL_PREFIX` pairs, comma-separated, "
        "absolute paths; the longest matching prefix wins, unmatched paths are used as they are "
        "(docs/operations.md, 'Scaling out').",
    )
    ffprobe_path: str = Field(
        default="ffprobe", min_length=1, description="The ffprobe program (a name or a path)."
    )
    ffmpeg_path: str = Field(
        default="ffmpeg",
        min_length=1,
        description="The ffmpeg program, which decodes the tail of each file for quality control.",
    )
    ffprobe_deadline: float = Field(
        default=30.0,
        gt=0,
        description="Seconds ffprobe (and the tail decode) may run on one file before it is "
        "killed.",
    )

    # --- catalog --------------------------------------------------------------------------
    db_busy_timeout_ms: int = Field(
        default=30_000,
        ge=0,
        description="How long a catalog write waits for SQLite's lock before failing (ms).",
    )
    media_extensions: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_MEDIA_EXTENSIONS),
        description="File extensions cataloged as media (comma-separated, case-insensitive).",
    )

    @field_validator("media_extensions", mode="before")
    @classmethod
    def _split_extensions(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return [str(v).strip().lower().lstrip(".") for v in value if str(v).strip()]
        return value

    @field_validator("enricher_path_mappings", mode="before")
    @classmethod
    def _split_path_mappings(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            # Parsed here so a malformed pair fails at start, not at the first job.
            mappings = [PathMapping.parse(str(v).strip()) for v in value if str(v).strip()]
            return [f"{m.from_prefix}={m.to_prefix}" for m in mappings]
        return value

    @field_validator("data_directory", mode="before")
    @classmethod
    def _split_directories(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [Path(part.strip()) for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("config_dir", mode="after")
    @classmethod
    def _expand_config_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _derive_database_urls(self) -> Settings:
        if not self.database_url:
            self.database_url = sqlite_url(self.config_dir / "apollonia.db")
        if not self.test_database_url:
            self.test_database_url = sqlite_url(self.config_dir / "apollonia-test.db")
        if not self.state_database_url:
            self.state_database_url = sqlite_url(self.config_dir / "ingestor-state.db")
        return self

    def topology(self) -> Topology:
        return Topology(
            exchange=self.exchange,
            delivery_limit=self.delivery_limit,
            stream_max_age=self.stream_max_age,
            stream_max_bytes=self.stream_max_bytes,
        )

    def service_metrics_port(self, service: str) -> int:
        """The HTTP port of `service` (`ingestor`, `consumer` or `enricher`); 0: disabled."""
        if self.metrics_port is not None:
            return self.metrics_port
        return DEFAULT_METRICS_PORTS[service]

    def catalog_url(self, *, test_db: bool = False) -> str:
        return self.test_database_url if test_db else self.database_url

    def masked(self) -> dict[str, Any]:
        """The settings as they may be logged or printed: every URL's password masked."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump(mode="json").items():
            out[name] = (
                mask_url(value) if name.endswith("_url") and isinstance(value, str) else value
            )
        return out


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; `/run/secrets` is read only when it exists, so no warning otherwise."""
    secrets_dir = SECRETS_DIR if SECRETS_DIR.is_dir() else None
    return Settings(_secrets_dir=secrets_dir, **overrides)
