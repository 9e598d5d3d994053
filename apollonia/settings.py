"""Runtime configuration, read once from the environment, `.env` and `/run/secrets`.

Every setting has the `APOLLONIA_` prefix; the names the user's first documents used
(`AMQP_CONNECTION_STRING`, `DATA_DIRECTORY`, `LOG_LEVEL`) are accepted as aliases so an existing
deployment keeps working. `docs/configuration.md` is generated from this model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from apollonia.masking import mask_url

SECRETS_DIR = Path("/run/secrets")
DEFAULT_CONFIG_DIR = Path("/config")

LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
WatchMode = Literal["auto", "inotify", "poll"]


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
        description="Catalog database URL. Default: SQLite file `apollonia.db` in `config_dir`.",
    )
    test_database_url: str = Field(
        default="",
        description="Catalog used by `--test-db`. Default: `apollonia-test.db` in `config_dir`.",
    )
    log_level: LogLevel = Field(
        default="INFO",
        validation_alias=_alias("log_level", "LOG_LEVEL"),
        description="Minimum level logged.",
    )
    log_format: LogFormat = Field(
        default="auto",
        description="`json` lines, readable `console`, or `auto` (console on a terminal).",
    )

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
        return self

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
