"""`apollonia run` speaks to a terminal in an operator's words; JSON logs keep the fields."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from apollonia.cli.run import catalog_location
from apollonia.console_words import RUN_WORDS
from shared.runtime.log import configure_logging, get_logger, use_console_words

SCAN = {
    "root": "/media",
    "reason": "startup",
    "mode": "inotify",
    "files": 7,
    "new": 2,
    "changed": 0,
    "unchanged": 5,
    "moved": 0,
    "deleted": 0,
    "suppressed": 0,
    "seconds": 0.01,
}


@pytest.fixture(autouse=True)
def run_words() -> Iterator[None]:
    use_console_words(RUN_WORDS)
    yield
    use_console_words({})


def console(event: str, **fields: object) -> str:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream=stream)
    get_logger("apollonia.embedded").info(event, **fields)
    return stream.getvalue()


def test_internal_event_names_read_as_operator_words() -> None:
    primed = console("hash cache primed from the catalog", files=3)
    assert "ready: 3 files already known, not read again" in primed
    assert "hash cache" not in primed and "files=3" not in primed
    scan = console("reconciled", **SCAN)
    assert "startup scan of /media: 2 new (7 files in all)" in scan
    assert "reconciled" not in scan and "new=2" not in scan
    assert "1 change applied" in console("stopped", applied=1)


def test_json_lines_keep_the_event_and_its_fields() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    get_logger("ingestor.pipeline").info("reconciled", **SCAN)
    record = json.loads(stream.getvalue())
    assert record["event"] == "reconciled"
    assert record["new"] == 2 and record["files"] == 7


def test_an_event_missing_a_field_keeps_its_plain_line() -> None:
    assert "reconciled" in console("reconciled", root="/media")


def test_the_catalog_location_is_the_file() -> None:
    assert catalog_location("sqlite+aiosqlite:////config/apollonia.db") == "/config/apollonia.db"
    assert "hunter2" not in catalog_location("postgresql://u:hunter2@db/x")
