"""The file event: what the ingestor publishes and everything downstream consumes.

The first ten fields are the user's original message (seed 003) and keep its names exactly; a
message carrying only those ten is valid. Everything after them was added for delivery guarantees
(ids, ordering, moves) and is optional on the wire. `file_event.schema.json` next to this module is
generated from this model (`python -m shared.schemas.export`); a test fails when the two drift.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, model_validator

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION})

EventKind = Literal["created", "modified", "deleted", "moved"]
EVENT_KINDS: tuple[EventKind, ...] = ("created", "modified", "deleted", "moved")

# Namespace for event ids derived from a message that did not carry one (seed-shaped producers),
# so a redelivery of the same body maps to the same id and is applied once.
EVENT_ID_NAMESPACE = uuid.UUID("6f0c7f5e-4a38-4c4e-9b55-5d3c4f1e2a90")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_XXH128 = re.compile(r"^[0-9a-f]{32}$")
ABSOLUTE_PATH_PATTERN = r"^/[^\u0000]*$"

# inotify mask names the reference ingestor put in `event_type`, mapped to our kinds.
_KIND_BY_EVENT_TYPE: dict[str, EventKind] = {
    "IN_CREATE": "created",
    "IN_CLOSE_WRITE": "created",
    "IN_MOVED_TO": "created",
    "IN_MODIFY": "modified",
    "IN_DELETE": "deleted",
    "IN_MOVED_FROM": "deleted",
}


def _absolute_path(value: str) -> str:
    if "\x00" in value:
        raise ValueError("path must not contain a NUL byte")
    if not value.startswith("/"):
        raise ValueError(f"path must be absolute (start with '/'), got {value!r}")
    return value


def _sha256(value: str | None) -> str | None:
    if value is not None and not _SHA256.fullmatch(value):
        raise ValueError("sha256_hash must be 64 lowercase hexadecimal characters")
    return value


def _xxh128(value: str | None) -> str | None:
    if value is not None and not _XXH128.fullmatch(value):
        raise ValueError("xxh128_hash must be 32 lowercase hexadecimal characters")
    return value


AbsolutePath = Annotated[
    str,
    AfterValidator(_absolute_path),
    Field(min_length=1, json_schema_extra={"pattern": ABSOLUTE_PATH_PATTERN}),
]
Sha256Hex = Annotated[
    str | None,
    AfterValidator(_sha256),
    Field(json_schema_extra={"pattern": _SHA256.pattern}),
]
Xxh128Hex = Annotated[
    str | None,
    AfterValidator(_xxh128),
    Field(json_schema_extra={"pattern": _XXH128.pattern}),
]

_CONDITIONAL_REQUIREMENTS: list[dict[str, Any]] = [
    {
        "if": {"properties": {"kind": {"const": "moved"}}, "required": ["kind"]},
        "then": {
            "required": ["from_path"],
            "properties": {"from_path": {"type": "string", "pattern": ABSOLUTE_PATH_PATTERN}},
        },
    },
    {
        "if": {
            "properties": {"kind": {"enum": ["created", "modified"]}},
            "required": ["kind"],
        },
        "then": {
            "properties": {
                "sha256_hash": {"type": "string"},
                "xxh128_hash": {"type": "string"},
            }
        },
    },
]


def _schema_extra(schema: dict[str, Any]) -> None:
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://apollonia.dev/schemas/file_event.schema.json"
    schema["allOf"] = _CONDITIONAL_REQUIREMENTS


class FileEvent(BaseModel):
    """A file noticed by an ingestor: where it is, what it contains, when, and what changed."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        title="FileEvent",
        json_schema_extra=_schema_extra,
    )

    # --- the seed's ten fields, names unchanged -------------------------------------------
    file_path: AbsolutePath = Field(
        description="Absolute path of the file as the ingestor sees it. A name that is not valid "
        "UTF-8 is carried with each undecodable byte written as `\\xNN` and its raw bytes in "
        "`file_path_b64`.",
    )
    event_type: str = Field(
        min_length=1,
        description="What the ingestor observed, e.g. `IN_CLOSE_WRITE`, `IN_MOVED_TO`, `rescan`.",
    )
    sha256_hash: Sha256Hex = Field(
        description="SHA-256 of the content (lowercase hex). Required for created/modified; may "
        "be null for deleted when the content was never hashed.",
    )
    xxh128_hash: Xxh128Hex = Field(
        description="xxHash128 (XXH3 128-bit) of the content, lowercase hex; same rules as "
        "sha256_hash.",
    )
    size: int = Field(ge=0, description="Size in bytes (last known size for deleted).")
    modified_time: datetime | None = Field(description="mtime, ISO 8601.")
    accessed_time: datetime | None = Field(description="atime, ISO 8601.")
    changed_time: datetime | None = Field(description="ctime, ISO 8601.")
    timestamp: datetime = Field(description="When the ingestor observed the event, ISO 8601.")
    neighbors: list[str] = Field(
        description="Related files (same stem, metadata files, same prefix), absolute paths, "
        "at most 10, in a deterministic order.",
    )

    # --- added for delivery guarantees -----------------------------------------------------
    schema_version: int = Field(
        default=SCHEMA_VERSION,
        description="Version of this contract. Consumers reject versions they do not know.",
        json_schema_extra={"enum": list[JsonValue](sorted(SUPPORTED_SCHEMA_VERSIONS))},
    )
    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4,  # never used on the wire: _fill_defaults derives one
        description="Unique id of this event, also the AMQP `message_id`. When absent it is "
        "derived from the message content, so redeliveries keep one id.",
    )
    kind: EventKind = Field(
        default="created",
        description="created | modified | deleted | moved. When absent it is derived from "
        "`event_type` (seed-shaped producers), defaulting to created.",
    )
    from_path: AbsolutePath | None = Field(
        default=None, description="Previous absolute path; required when kind is `moved`."
    )
    mtime_ns: int | None = Field(
        default=None, ge=0, description="mtime in integer nanoseconds (exact, unlike ISO text)."
    )
    inode: int | None = Field(default=None, ge=0, description="Inode number on `device`.")
    device: int | None = Field(default=None, ge=0, description="st_dev of the file.")
    ingestor_id: str | None = Field(
        default=None, description="Which ingestor instance published the event."
    )
    file_path_b64: str | None = Field(
        default=None,
        description="Base64 of the raw path bytes, present only when the name is not valid UTF-8.",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        if out.get("kind") is None:
            event_type = out.get("event_type")
            if isinstance(event_type, str):
                out["kind"] = _KIND_BY_EVENT_TYPE.get(event_type.upper(), "created")
        if out.get("event_id") is None:
            out["event_id"] = derive_event_id(data)
        return out

    @model_validator(mode="after")
    def _check_consistency(self) -> FileEvent:
        if self.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
            known = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
            raise ValueError(
                f"unsupported schema_version {self.schema_version} (this consumer knows {known})"
            )
        if self.kind == "moved" and self.from_path is None:
            raise ValueError("a moved event requires from_path")
        if self.kind in ("created", "modified") and (
            self.sha256_hash is None or self.xxh128_hash is None
        ):
            raise ValueError(f"a {self.kind} event requires sha256_hash and xxh128_hash")
        return self

    @property
    def routing_key(self) -> str:
        return f"file.{self.kind}"

    @cached_property
    def observed_at(self) -> datetime:
        """`timestamp` as an aware UTC datetime (naive values from old producers count as UTC)."""
        return as_utc(self.timestamp)

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=False).encode("utf-8")


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def derive_event_id(data: dict[str, Any]) -> uuid.UUID:
    """A stable id for a message that carries none: same body, same id."""
    canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return uuid.uuid5(EVENT_ID_NAMESPACE, hashlib.sha256(canonical.encode()).hexdigest())


def json_schema() -> dict[str, Any]:
    """The JSON Schema describing what a consumer accepts (validation mode)."""
    return FileEvent.model_json_schema(mode="validation")
