"""Structured logging: one pipeline for structlog and the stdlib loggers, always to stderr.

stdout belongs to command output (`--json` documents), so nothing here ever writes to it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from shared.runtime.masking import mask_text

# Libraries that are chatty at INFO; they still reach the pipeline at WARNING and above.
_QUIET_LIBRARIES = ("aio_pika", "aiormq", "sqlalchemy", "alembic", "aiosqlite", "asyncio", "rebulk")


def _mask_secrets(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """Last line of defence: no `user:password@` survives into a log line."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str) and "://" in value:
            event_dict[key] = mask_text(value)
    return event_dict


# Console lines in an operator's words, by event name: the top of the application installs them
# (`use_console_words`); JSON lines keep the event name and every structured field.
ConsoleWords = Mapping[str, Callable[[EventDict], str]]
_console_words: dict[str, Callable[[EventDict], str]] = {}
_KEPT_ON_CONSOLE = ("level", "timestamp", "exc_info", "exception", "stack_info")


def use_console_words(words: ConsoleWords) -> None:
    _console_words.clear()
    _console_words.update(words)


def _operator_words(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    say = _console_words.get(str(event_dict.get("event")))
    if say is None:
        return event_dict
    try:
        text = say(event_dict)
    except (KeyError, TypeError, ValueError):  # a field missing: the plain line is still true
        return event_dict
    kept = {k: event_dict[k] for k in _KEPT_ON_CONSOLE if k in event_dict}
    return {"event": text, **kept}


def _wants_json(log_format: str, stream: TextIO) -> bool:
    if log_format == "json":
        return True
    if log_format == "console":
        return False
    return not (hasattr(stream, "isatty") and stream.isatty())


def configure_logging(
    level: str = "INFO", log_format: str = "auto", stream: TextIO | None = None
) -> None:
    """Configure structlog and the stdlib root logger. Safe to call more than once."""
    out = stream if stream is not None else sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _mask_secrets,
    ]
    renderer: Processor
    rendering: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if _wants_json(log_format, out):
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=hasattr(out, "isatty") and out.isatty())
        rendering.append(_operator_words)

    structlog.configure(
        processors=[
            # Drop below-level calls first: otherwise every debug() runs the whole pipeline.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[*rendering, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))


def get_logger(name: str, **initial: Any) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **initial)
    return logger


def bind_context(**values: Any) -> None:
    structlog.contextvars.bind_contextvars(**values)
