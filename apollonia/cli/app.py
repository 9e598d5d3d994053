"""The Typer command tree, holding only the commands one invocation needs."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from apollonia.cli.main import COMMANDS
from apollonia.settings import LogFormat, load_settings
from shared.runtime.log import configure_logging


def build_app(only: str | None = None) -> typer.Typer:
    """The command tree: every command, or just `only` (what one invocation runs)."""
    cli = typer.Typer(
        name="apollonia",
        help="Watch media folders, fingerprint files and keep a trustworthy asset catalog.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    cli.callback()(root)
    for name, (module, attribute, group) in COMMANDS.items():
        if only is not None and name != only:
            continue
        target = getattr(importlib.import_module(module), attribute)
        if group:
            cli.add_typer(target, name=name)
        else:
            cli.command(name)(target)
    return cli


def _version(value: bool) -> None:
    if value:
        from apollonia import __version__  # noqa: PLC0415 - lazy: reads the package metadata

        typer.echo(f"apollonia {__version__}")
        raise typer.Exit(0)


def root(
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", help="Override APOLLONIA_LOG_LEVEL for this run."),
    ] = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="auto | json | console")
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Configure logging before any command runs (logs always go to stderr)."""
    try:
        settings = load_settings()
        level = (log_level or settings.log_level).upper()
        fmt: LogFormat | str = log_format or settings.log_format
    except Exception:  # a bad setting is reported by the command that needs it
        level, fmt = (log_level or "INFO").upper(), log_format or "auto"
    configure_logging(level, str(fmt))
