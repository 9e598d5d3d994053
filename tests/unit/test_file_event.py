"""The wire contract: the model, and the committed JSON Schema generated from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from shared.schemas import FileEvent
from shared.schemas.export import SCHEMA_FILE, render

SEED_MESSAGE: dict[str, Any] = {
    "file_path": "/data/music/album/01 - intro.flac",
    "event_type": "IN_CLOSE_WRITE",
    "sha256_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "xxh128_hash": "99aa06d3014798d86001c324468d497f",
    "size": 0,
    "modified_time": "2026-11-22T10:00:00+00:00",
    "accessed_time": "2026-11-22T10:00:00+00:00",
    "changed_time": "2026-11-22T10:00:00+00:00",
    "timestamp": "2026-11-22T10:00:01.250000+00:00",
    "neighbors": ["/data/music/album/cover.jpg"],
}


def committed_schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def with_(**changes: Any) -> dict[str, Any]:
    message = dict(SEED_MESSAGE)
    for key, value in changes.items():
        if value is ...:
            message.pop(key, None)
        else:
            message[key] = value
    return message


MALFORMED = {
    "missing file_path": with_(file_path=...),
    "relative file_path": with_(file_path="music/x.flac"),
    "NUL in file_path": with_(file_path="/data/a\x00b.flac"),
    "NUL in from_path": with_(kind="moved", from_path="/data/a\x00b.flac"),
    "short sha256": with_(sha256_hash="abc"),
    "uppercase sha256": with_(sha256_hash=SEED_MESSAGE["sha256_hash"].upper()),
    "xxh128 of 31 chars": with_(xxh128_hash="9" * 31),
    "xxh128 not hex": with_(xxh128_hash="z" * 32),
    "negative size": with_(size=-1),
    "unknown schema_version": with_(schema_version=2),
    "moved without from_path": with_(kind="moved"),
    "created without hashes": with_(kind="created", sha256_hash=None, xxh128_hash=None),
}


def test_committed_schema_matches_the_model() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        "shared/schemas/file_event.schema.json drifted: run python -m shared.schemas.export"
    )


def test_seed_shaped_message_is_accepted_by_model_and_schema() -> None:
    event = FileEvent.model_validate(SEED_MESSAGE)
    jsonschema.validate(SEED_MESSAGE, committed_schema())
    assert event.kind == "created"
    assert event.schema_version == 1
    assert event.routing_key == "file.created"
    assert event.observed_at == datetime(2026, 11, 22, 10, 0, 1, 250000, tzinfo=UTC)


def test_seed_message_gets_a_stable_event_id() -> None:
    first = FileEvent.model_validate(SEED_MESSAGE)
    again = FileEvent.model_validate(dict(SEED_MESSAGE))
    other = FileEvent.model_validate(with_(size=1))
    assert first.event_id == again.event_id
    assert first.event_id != other.event_id


def test_kind_is_derived_from_event_type() -> None:
    deleted = FileEvent.model_validate(
        with_(event_type="IN_DELETE", sha256_hash=None, xxh128_hash=None)
    )
    assert deleted.kind == "deleted"


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_messages_are_rejected_by_model_and_schema(name: str) -> None:
    message = MALFORMED[name]
    with pytest.raises(ValidationError):
        FileEvent.model_validate(message)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(message, committed_schema())


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"file_path": "x.flac"}, "must be absolute"),
        ({"file_path": "/a\x00"}, "NUL"),
        ({"sha256_hash": "abc"}, "64 lowercase hexadecimal"),
        ({"xxh128_hash": "abc"}, "32 lowercase hexadecimal"),
        ({"size": -5}, "greater than or equal to 0"),
        ({"schema_version": 9}, "unsupported schema_version 9"),
        ({"kind": "moved"}, "requires from_path"),
    ],
)
def test_rejections_say_what_is_wrong(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FileEvent.model_validate(with_(**changes))
    assert fragment in str(caught.value)


def test_full_event_round_trips_through_json() -> None:
    event = FileEvent.model_validate(
        with_(
            kind="moved",
            from_path="/data/old.flac",
            mtime_ns=123,
            inode=7,
            device=2,
            ingestor_id="host-1",
        )
    )
    again = FileEvent.model_validate_json(event.to_json_bytes())
    assert again == event
    jsonschema.validate(json.loads(event.to_json_bytes()), committed_schema())


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(committed_schema())
