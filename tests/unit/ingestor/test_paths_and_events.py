"""Raw paths, their text form in events, and the event builders."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from ingestor.events import deleted_event, file_event, from_ns
from ingestor.paths import (
    b64_if_not_utf8,
    children_range,
    display,
    from_event,
    is_at_or_under,
    is_under,
    rebase,
)
from ingestor.records import FileState, StatInfo
from shared.schemas.file_event import FileEvent

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
STAT = StatInfo(3, 1_700_000_000_123_456_789, 1_700_000_000_000_000_000, 1_700_000_001_0, 7, 9)


@pytest.mark.parametrize(
    "raw",
    [b"/data/plain.mkv", b"/data/caf\xc3\xa9.mkv", b"/data/caf\xe9.mkv", b"/d/\xff\xfe\\x41"],
)
def test_display_and_b64_round_trip(raw: bytes) -> None:
    text, b64 = display(raw), b64_if_not_utf8(raw)
    assert text.startswith("/")
    assert from_event(text, b64) == raw
    if b64 is None:
        assert text == raw.decode("utf-8")
    else:
        assert base64.b64decode(b64) == raw


def test_undecodable_bytes_are_written_as_escapes() -> None:
    assert display(b"/data/caf\xe9.mkv") == "/data/caf\\xe9.mkv"


def test_ranges_and_prefixes() -> None:
    low, high = children_range(b"/data/a")
    inside = [b"/data/a/x", b"/data/a/b/c"]
    outside = [b"/data/a", b"/data/ab", b"/data/a0", b"/data/b"]
    assert all(low <= p < high for p in inside)
    assert not any(low <= p < high for p in outside)
    assert is_under(b"/data/a/x", b"/data/a") and not is_under(b"/data/ab", b"/data/a")
    assert is_at_or_under(b"/data/a", b"/data/a")
    assert is_under(b"/x", b"/")
    assert rebase(b"/data/a/b/c", b"/data/a", b"/data/z") == b"/data/z/b/c"


def test_file_event_for_a_name_that_is_not_utf8() -> None:
    event = file_event(
        path=b"/data/caf\xe9.mkv",
        kind="created",
        event_type="IN_CLOSE_WRITE",
        stat=STAT,
        sha256="a" * 64,
        xxh128="b" * 32,
        neighbors=[b"/data/caf\xe9.srt"],
        ingestor_id="test",
        now=NOW,
    )
    again = FileEvent.model_validate_json(event.to_json_bytes())
    assert again.file_path == "/data/caf\\xe9.mkv"
    assert base64.b64decode(again.file_path_b64 or "") == b"/data/caf\xe9.mkv"
    assert again.neighbors == ["/data/caf\\xe9.srt"]
    assert again.mtime_ns == STAT.mtime_ns and again.inode == 7 and again.device == 9
    assert again.modified_time == from_ns(STAT.mtime_ns)


def test_event_ids_are_unique_even_for_identical_content() -> None:
    state = FileState(b"/data/x", 1, 2, 3, 4, "a" * 64, "b" * 32)
    first = deleted_event(state, event_type="IN_DELETE", ingestor_id="t", now=NOW)
    second = deleted_event(state, event_type="IN_DELETE", ingestor_id="t", now=NOW)
    assert first.event_id != second.event_id
    assert first.kind == "deleted" and first.sha256_hash == "a" * 64 and first.neighbors == []
