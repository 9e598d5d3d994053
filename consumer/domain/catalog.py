"""Sources and collections: where assets come from and how they are grouped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from consumer.domain.signatures import EnricherRef, enricher_checksum

HashMode = Literal["full", "stat"]
HASH_MODES: tuple[HashMode, ...] = ("full", "stat")
MediaType = Literal["movie", "episode", "other"]
MEDIA_TYPES: tuple[MediaType, ...] = ("movie", "episode", "other")


@dataclass(frozen=True, slots=True)
class PathMapping:
    """A path prefix as another system reports it (`from_prefix`) and as this host sees it."""

    from_prefix: str
    to_prefix: str

    def as_dict(self) -> dict[str, str]:
        return {"from": self.from_prefix, "to": self.to_prefix}

    @classmethod
    def from_mapping(cls, value: dict[str, Any]) -> PathMapping:
        return cls(from_prefix=str(value["from"]), to_prefix=str(value["to"]))

    @classmethod
    def parse(cls, text: str) -> PathMapping:
        """`FROM=TO`, both absolute."""
        source, sep, target = text.partition("=")
        if not sep or not source.startswith("/") or not target.startswith("/"):
            raise ValueError(f"path mapping must be FROM=TO with absolute paths, got {text!r}")
        return cls(from_prefix=source.rstrip("/") or "/", to_prefix=target.rstrip("/") or "/")


def _strip_prefix(path: str, prefix: str) -> str | None:
    if prefix == "/":
        return path
    if path == prefix:
        return ""
    if path.startswith(prefix + "/"):
        return path[len(prefix) :]
    return None


def apply_mappings(path: str, mappings: list[PathMapping]) -> str:
    """Rewrite `path` with the mapping whose `from_prefix` is its longest whole-segment prefix."""
    best: tuple[int, PathMapping, str] | None = None
    for mapping in mappings:
        rest = _strip_prefix(path, mapping.from_prefix)
        if rest is not None and (best is None or len(mapping.from_prefix) > best[0]):
            best = (len(mapping.from_prefix), mapping, rest)
    if best is None:
        return path
    _, mapping, rest = best
    target = mapping.to_prefix.rstrip("/")
    return (target + rest) or "/"


SecretFrom = Literal["file", "env"]


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a media server's token or API key is read from when it is needed: a file (a
    Docker or systemd secret) or an environment variable. The catalog keeps only this."""

    kind: SecretFrom
    ref: str  # the file's path, or the variable's name

    def as_dict(self) -> dict[str, str]:
        return {"from": self.kind, "path" if self.kind == "file" else "variable": self.ref}

    def describe(self) -> str:
        if self.kind == "file":
            return f"read from the file {self.ref}"
        return f"read from the environment variable {self.ref}"

    @classmethod
    def from_mapping(cls, value: dict[str, Any]) -> SecretRef:
        kind: SecretFrom = "file" if value.get("from") == "file" else "env"
        return cls(kind, str(value.get("path") if kind == "file" else value.get("variable")))


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to reach a media server (Plex, Jellyfin): its base URL, the secret's reference and
    how long to wait for an answer."""

    url: str
    secret: SecretRef
    timeout: float = 10.0

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "secret": self.secret.as_dict(), "timeout": self.timeout}

    @classmethod
    def from_mapping(cls, value: dict[str, Any]) -> ServerConfig:
        return cls(
            url=str(value["url"]),
            secret=SecretRef.from_mapping(dict(value.get("secret") or {})),
            timeout=float(value.get("timeout") or 10.0),
        )


@dataclass(slots=True)
class Source:
    uuid: str
    name: str
    type: str
    root_path: str | None
    path_mappings: list[PathMapping] = field(default_factory=list)
    external_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    server: ServerConfig | None = None  # media-server sources only


@dataclass(slots=True)
class Collection:
    uuid: str
    source_uuid: str
    name: str
    root_path: str
    sync_enabled: bool = True
    ingestible: bool = False
    enrichers: list[EnricherRef] = field(default_factory=list)
    hash_mode: HashMode = "full"
    external_id: str | None = None
    last_ingest_time: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Enrichment: off means its jobs wait for an operator (`apollonia enrich`).
    auto_enrich: bool = True
    media_type: MediaType | None = None  # forced on every asset (editorial enrichers obey)
    audio_only: bool = False  # quality control then wants an audio stream, not video
    # A media-server importer's memory between ingests (library id and kind, high-water mark).
    importer_state: dict[str, Any] = field(default_factory=dict)

    @property
    def enricher_checksum(self) -> str:
        return enricher_checksum(self.enrichers)
