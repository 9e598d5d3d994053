"""Bytes off the wire into a FileEvent: one parser, one size limit, for every event source (the
consumer's queue, the replayed stream)."""

from __future__ import annotations

from pydantic import ValidationError

from shared.schemas.file_event import FileEvent


class PoisonError(ValueError):
    """A message that can never be applied, with a reason category for metrics and the DLQ.

    `summary` is the first problem alone, for listings that show one line per message."""

    def __init__(self, category: str, detail: str, summary: str | None = None) -> None:
        super().__init__(f"{category}: {detail}")
        self.category = category
        self.detail = detail
        self.summary = summary or detail


def parse_event(body: bytes, limit: int) -> FileEvent:
    """The event in a message body, or PoisonError saying exactly why not."""
    if len(body) > limit:
        raise PoisonError("too_large", f"body of {len(body)} bytes exceeds the {limit}-byte limit")
    try:
        return FileEvent.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = str(errors[0]["msg"])
        if any(e["type"] == "json_invalid" for e in errors):
            raise PoisonError("invalid_json", first) from None
        if any("schema_version" in str(e.get("msg", "")) for e in errors):
            raise PoisonError("unsupported_schema_version", first) from None
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in errors[:5]
        )
        raise PoisonError("schema_violation", detail, first) from None
