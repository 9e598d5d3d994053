"""Structured logging: one pipeline for structlog and the stdlib loggers, always to stderr.

stdout belongs to command output (`--json` documents), so nothing here ever writes to it.

structlog is imported on the first log line, not on start-up: with Rich installed, importing it
loads Rich's traceback and pretty-printer and attrs (~25 ms), which a one-shot command that logs
nothing would pay for nothing. `configure_logging` sets up the stdlib side at once (handler,
levels) and leaves structlog's configuration pending until a structlog logger is first used.
Everything reaches structlog through this module, so the pending configuration is always
applied before a line is logged.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO, cast

from shared.runtime.masking import mask_text

if TYPE_CHECKING:
    import structlog
    from structlog.typing import EventDict, Processor, WrappedLogger

# Libraries that are chatty at INFO; they still reach the pipeline at WARNING and above.
_QUIET_LIBRARIES = ("aio_pika", "aiormq", "sqlalchemy", "alembic", "aiosqlite", "asyncio", "rebulk")


@dataclass(frozen=True)
class _Pipeline:
    """How lines are rendered, decided when logging is configured."""

    json: bool
    colors: bool


_pending: _Pipeline | None = None  # configured, not yet handed to structlog
_pending_lock = threading.Lock()


def _mask_secrets(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """Last line of defence: no `user:password@` survives into a log line."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str) and "://" in value:
            event_dict[key] = mask_text(value)
    return event_dict


# Console lines in an operator's words, by event name: the top of the application installs them
# (`use_console_words`); JSON lines keep the event name and every structured field.
ConsoleWords = Mapping[str, Callable[["EventDict"], str]]
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


def _shared_processors(pipeline: _Pipeline) -> list[Processor]:
    """What every line runs through, from structlog and from the stdlib loggers alike."""
    import structlog  # noqa: PLC0415 - lazy, see the module docstring

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _mask_secrets,
    ]
    if pipeline.json:
        shared.append(structlog.processors.format_exc_info)
    return shared


def _renderer(pipeline: _Pipeline) -> Processor:
    import structlog  # noqa: PLC0415 - lazy, see the module docstring

    if pipeline.json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=pipeline.colors)


def _configure_structlog(pipeline: _Pipeline) -> None:
    import structlog  # noqa: PLC0415 - lazy, see the module docstring

    structlog.configure(
        processors=[
            # Drop below-level calls first: otherwise every debug() runs the whole pipeline.
            structlog.stdlib.filter_by_level,
            *_shared_processors(pipeline),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _apply_pending() -> None:
    """Hand a pending configuration to structlog (imports it). Cheap once done."""
    global _pending  # noqa: PLW0603 - the one piece of module state, guarded by the lock
    if _pending is None:
        return
    with _pending_lock:
        if _pending is not None:
            _configure_structlog(_pending)
            _pending = None


class _DeferredFormatter(logging.Formatter):
    """structlog's formatter for the stdlib handler, built on the first record formatted."""

    def __init__(self, pipeline: _Pipeline) -> None:
        super().__init__()
        self._pipeline = pipeline
        self._formatter: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._formatter is None:
            import structlog  # noqa: PLC0415 - lazy, see the module docstring

            self._formatter = structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=_shared_processors(self._pipeline),
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *([] if self._pipeline.json else [_operator_words]),
                    _renderer(self._pipeline),
                ],
            )
        return self._formatter.format(record)


def configure_logging(
    level: str = "INFO", log_format: str = "auto", stream: TextIO | None = None
) -> None:
    """Configure structlog and the stdlib root logger. Safe to call more than once."""
    global _pending  # noqa: PLW0603 - see _apply_pending
    out = stream if stream is not None else sys.stderr
    pipeline = _Pipeline(
        json=_wants_json(log_format, out), colors=hasattr(out, "isatty") and out.isatty()
    )
    with _pending_lock:
        _pending = pipeline
    if "structlog" in sys.modules:  # already loaded by someone: nothing to save by waiting
        _apply_pending()
    handler = logging.StreamHandler(out)
    handler.setFormatter(_DeferredFormatter(pipeline))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))


# structlog's logging methods and their levels (`structlog.processors.NAME_TO_LEVEL`).
_METHOD_LEVELS = {
    "critical": logging.CRITICAL,
    "exception": logging.ERROR,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}


def _dropped(*_args: Any, **_kwargs: Any) -> None:
    """A log call filtered out by level."""


class _Logger:
    """Stands in for structlog's logger of `name`; the first use imports and configures it.
    Every attribute (`info`, `bind`, ...) is structlog's own."""

    __slots__ = ("_initial", "_logger", "_name")

    def __init__(self, name: str, initial: dict[str, Any]) -> None:
        self._name = name
        self._initial = initial
        self._logger: Any = None

    def __getattr__(self, attribute: str) -> Any:
        level = _METHOD_LEVELS.get(attribute)
        if level is not None and _pending is not None and "structlog" not in sys.modules:
            # What filter_by_level, the pipeline's first step, would decide: a line below the
            # level (the catalog's per-transaction debug lines) needs no structlog.
            stdlib = logging.getLogger(self._name)
            if stdlib.disabled or level < stdlib.getEffectiveLevel():
                return _dropped
        logger = self._logger
        if logger is None:
            import structlog  # noqa: PLC0415 - lazy, see the module docstring

            logger = self._logger = structlog.stdlib.get_logger(self._name, **self._initial)
        _apply_pending()
        return getattr(logger, attribute)


def get_logger(name: str, **initial: Any) -> structlog.stdlib.BoundLogger:
    return cast("structlog.stdlib.BoundLogger", _Logger(name, initial))


def bind_context(**values: Any) -> None:
    import structlog  # noqa: PLC0415 - lazy, see the module docstring

    _apply_pending()
    structlog.contextvars.bind_contextvars(**values)
