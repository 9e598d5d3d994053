"""Options and plumbing every command shares."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from apollonia.cli.output import ExitCode, Output
from apollonia.settings import Settings, load_settings

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
TestDbOpt = Annotated[bool, typer.Option("--test-db", help="Operate only on the test database.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Resolve and report what would happen; write nothing.")
]


def settings_or_exit(output: Output, **overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        output.fail(
            ExitCode.VALIDATION, f"invalid configuration: {problems}", error_code="invalid_settings"
        )


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    async def _main() -> T:
        return await factory()

    return asyncio.run(_main())
