"""The Typer command tree, holding only the commands one invocation needs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Annotated

import typer

from apollonia.cli import usage
from apollonia.cli.main import COMMANDS
from apollonia.settings import LOG_FORMATS, LOG_LEVELS, LogFormat, load_settings
from shared.runtime.log import configure_logging

# Long-running commands log at APOLLONIA_LOG_LEVEL (INFO by default): their log is their output.
# Every other command reports on stdout and logs only warnings and errors unless asked (-v),
# so a script or a cron job sees no INFO lines on stderr.
SERVICES = frozenset({"run", "consumer", "ingestor"})
_VERBOSITY = ("WARNING", "INFO", "DEBUG")


def build_app(only: str | None = None) -> typer.Typer:
    """The command tree: every command, or just `only` (what one invocation runs)."""
    usage.install()
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


def _one_of(allowed: tuple[str, ...], *, upper: bool) -> Callable[[str | None], str | None]:
    """An option callback refusing a value outside `allowed` (case-insensitive) with the list."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        folded = value.upper() if upper else value.lower()
        if folded not in allowed:
            choices = ", ".join(a.lower() for a in allowed)
            raise typer.BadParameter(f"{value!r} is not one of {choices}")
        return folded

    return check


def log_level_for(
    command: str | None, *, explicit: str | None, verbose: int, configured: str | None
) -> str:
    """The level one invocation logs at: `--log-level`, else `-v`/`-vv`, else a service's
    configured level (INFO by default), else WARNING for a one-shot command."""
    if explicit:
        return explicit
    if verbose:
        return _VERBOSITY[min(verbose, len(_VERBOSITY) - 1)]
    if command in SERVICES:
        return configured or "INFO"
    return "WARNING"


def root(
    ctx: typer.Context,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            metavar="LEVEL",
            callback=_one_of(LOG_LEVELS, upper=True),
            help="Log at this level: " + ", ".join(v.lower() for v in LOG_LEVELS) + ". "
            "Default: APOLLONIA_LOG_LEVEL for the services (run, consumer, ingestor), "
            "warning for every other command.",
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            metavar="FORMAT",
            callback=_one_of(LOG_FORMATS, upper=False),
            help="Log lines as " + " | ".join(LOG_FORMATS) + " (auto: console on a terminal, "
            "json otherwise). Default: APOLLONIA_LOG_FORMAT.",
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="Log more: -v info, -vv debug (one-shot commands log only warnings otherwise).",
        ),
    ] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Configure logging before any command runs (logs always go to stderr)."""
    configured: str | None
    try:
        settings = load_settings()
        configured = settings.log_level
        fmt: LogFormat | str = log_format or settings.log_format
    except Exception:  # a bad setting is reported by the command that needs it
        configured, fmt = None, log_format or "auto"
    level = log_level_for(
        ctx.invoked_subcommand, explicit=log_level, verbose=verbose, configured=configured
    )
    configure_logging(level, str(fmt))
