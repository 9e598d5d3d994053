"""Message schemas: pydantic models and the JSON Schema exported from them."""

from shared.schemas.file_event import (
    EVENT_KINDS,
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    EventKind,
    FileEvent,
)

__all__ = ["EVENT_KINDS", "SCHEMA_VERSION", "SUPPORTED_SCHEMA_VERSIONS", "EventKind", "FileEvent"]
