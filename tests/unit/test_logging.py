"""Logging: JSON lines off a TTY, stdlib loggers through the same pipeline, secrets masked."""

from __future__ import annotations

import io
import json
import logging

from shared.runtime.log import configure_logging, get_logger


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_when_not_a_tty() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "auto", stream=stream)
    get_logger("apollonia.test").info("decided", canonical_key="a/b.mkv", decision="create")
    (record,) = lines(stream)
    assert record["event"] == "decided"
    assert record["canonical_key"] == "a/b.mkv"
    assert record["level"] == "info"
    assert "timestamp" in record


def test_stdlib_loggers_share_the_pipeline() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    logging.getLogger("aiormq.connection").warning("connection lost")
    (record,) = lines(stream)
    assert record["event"] == "connection lost"
    assert record["logger"] == "aiormq.connection"


def test_level_filters() -> None:
    stream = io.StringIO()
    configure_logging("WARNING", "json", stream=stream)
    log = get_logger("apollonia.test")
    log.info("hidden")
    log.warning("shown")
    assert [r["event"] for r in lines(stream)] == ["shown"]


def test_passwords_never_reach_the_log() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    get_logger("x").info("connecting", url="amqp://u:hunter2@rabbit/")
    logging.getLogger("aio_pika").error("failed amqp://u:hunter2@rabbit/ refused")
    text = stream.getvalue()
    assert "hunter2" not in text
    assert "amqp://u:****@rabbit/" in text


def test_console_format_is_readable_text() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream=stream)
    get_logger("x").info("hello", n=1)
    out = stream.getvalue()
    assert "hello" in out and "n=1" in out
    assert not out.lstrip().startswith("{")
