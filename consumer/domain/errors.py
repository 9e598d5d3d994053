"""Failures an operator can act on: each carries the CLI exit code and a clear message."""

from __future__ import annotations


class OperationError(Exception):
    """An operation that cannot proceed, with the exit code and message the CLI reports."""

    def __init__(self, exit_code: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.error_code = error_code
        self.message = message
