"""Failures an operator can act on: a stable error code and the facts behind it.

The layers below the CLI say *what* went wrong (`error_code`, plus names, paths and counts as
`facts`); how that is worded, and which exit code it means, is presentation and belongs to the
application on top (`apollonia.cli.errors`), which installs itself with `present_with()`. The
service layer still needs the text in a few places (a failed run's audit record, log lines), so
`message` and `exit_code` ask the installed presenter; without one they fall back to a plain
rendering of the code and facts.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol


class Presenter(Protocol):
    """Words an error and picks its exit code (the CLI's table is the real one)."""

    def message(self, error: OperationError) -> str: ...

    def exit_code(self, error: OperationError) -> int: ...


class PlainPresenter:
    """Code and facts as they are; exit code 1. Used until the application installs its own."""

    def message(self, error: OperationError) -> str:
        key = f"{error.error_code}.{error.case}" if error.case else error.error_code
        facts = ", ".join(f"{name}={value!r}" for name, value in error.facts.items())
        return f"{key} ({facts})" if facts else key

    def exit_code(self, error: OperationError) -> int:
        return 1


class OperationError(Exception):
    """An operation that cannot proceed.

    `case` tells apart situations that share one public error code (several kinds of invalid
    argument, say) and so are worded differently; most errors have none.
    """

    presenter: ClassVar[Presenter] = PlainPresenter()

    def __init__(self, error_code: str, /, *, case: str = "", **facts: Any) -> None:
        super().__init__(error_code)
        self.error_code = error_code
        self.case = case
        self.facts: dict[str, Any] = facts

    @property
    def message(self) -> str:
        return self.presenter.message(self)

    @property
    def exit_code(self) -> int:
        return self.presenter.exit_code(self)

    def __str__(self) -> str:
        return self.message


def present_with(presenter: Presenter) -> None:
    """Install how every OperationError is worded from now on (once, at start-up)."""
    OperationError.presenter = presenter
