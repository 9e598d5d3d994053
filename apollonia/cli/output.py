"""How commands report: human text on stdout, or exactly one JSON document with `--json`.

Logs and progress go to stderr in both modes, so `apollonia ... --json | jq` always works.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID

import typer
from rich.console import Console


class ExitCode(IntEnum):
    OK = 0
    VALIDATION = 1
    PARTIAL = 2  # source ingest: some collections failed
    NOT_FOUND = 2  # collection ingest: title/season/episode scope not found
    UNREACHABLE = 3


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, UUID | Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(document: Any) -> str:
    return json.dumps(document, default=_default, indent=2, ensure_ascii=False)


ERROR_PREFIX = "Error: "
UNBOUNDED_WIDTH = 10_000


def one_prefix(message: str) -> str:
    """A message that already says "Error: " (a worded service error, maybe wrapping another)
    says it once."""
    while message.startswith(ERROR_PREFIX * 2):
        message = message[len(ERROR_PREFIX) :]
    return message


class Output:
    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        # Off a terminal (a pipe, a file, cron) nothing is cut to a guessed 80 columns: a table
        # keeps whole IDs and paths, as wide as its content.
        width = None if sys.stdout.isatty() else UNBOUNDED_WIDTH
        self.out = Console(soft_wrap=True, highlight=False, width=width)
        self.err = Console(stderr=True, soft_wrap=True, highlight=False)

    def emit(self, document: dict[str, Any], human: Callable[[Console], None]) -> None:
        if self.json_mode:
            sys.stdout.write(to_json(document) + "\n")
            sys.stdout.flush()
        else:
            human(self.out)

    def line(self, text: str) -> None:
        """A human line on stdout; suppressed under --json, where stdout holds only JSON."""
        if not self.json_mode:
            self.out.print(text, markup=False)

    def note(self, text: str) -> None:
        """Progress or context on stderr, in both modes."""
        self.err.print(text, markup=False)

    def fail(
        self,
        code: int,
        message: str,
        *,
        error_code: str = "error",
        document: dict[str, Any] | None = None,
    ) -> NoReturn:
        """Print a clear error (JSON too) and exit with `code`."""
        message = one_prefix(message)
        if self.json_mode:
            body: dict[str, Any] = {"status": "error"}
            body.update(document or {})
            body["errors"] = [
                {"code": error_code, "message": message},
                *(body.get("errors") or []),
            ]
            sys.stdout.write(to_json(body) + "\n")
            sys.stdout.flush()
        else:
            self.err.print(
                message if message.startswith(ERROR_PREFIX) else ERROR_PREFIX + message,
                markup=False,
            )
        raise typer.Exit(code)
