"""The `apollonia` command."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Annotated

import typer
from typer.main import get_command

from apollonia import __version__
from apollonia.cli import usage
from apollonia.cli.output import ExitCode, Output
from apollonia.settings import LOG_FORMATS, LOG_LEVELS, LogFormat, load_settings
from shared.runtime.gc import tune_gc
from shared.runtime.log import configure_logging

# name -> (module, attribute, is a group). Imported only when needed: the commands pull in
# SQLAlchemy, aio-pika, aiohttp and the ingestor, and one invocation needs one of them.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "run": ("apollonia.cli.run", "run_command", False),
    "db": ("apollonia.cli.db", "app", True),
    "source": ("apollonia.cli.source", "app", True),
    "collection": ("apollonia.cli.collection", "app", True),
    "asset": ("apollonia.cli.asset", "app", True),
    "ingest-file": ("apollonia.cli.asset", "ingest_file_command", False),
    "consumer": ("apollonia.cli.consumer", "consumer_command", False),
    "replay": ("apollonia.cli.replay", "replay_command", False),
    "dlq": ("apollonia.cli.dlq", "app", True),
    "queue": ("apollonia.cli.queue", "app", True),
    "health": ("apollonia.cli.health", "health", False),
    "ingestor": ("apollonia.cli.ingestor", "ingestor_command", False),
    "publish": ("apollonia.cli.ingestor", "publish_command", False),
}
# Root options that take a value (the command name is the first other word).
_VALUED_OPTIONS = frozenset({"--log-level", "--log-format"})
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


def command_of(args: list[str]) -> str | None:
    """The command an argument list invokes, if it names a known one."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _version(value: bool) -> None:
    if value:
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 1 with a message (JSON under --json), never a traceback."""
    tune_gc()
    args = sys.argv[1:] if argv is None else argv
    only = command_of(args)
    if only is None and "--version" in args:
        only = ""  # nothing to import for that
    command = get_command(build_app(only))
    try:
        result = command.main(args=args, prog_name="apollonia", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument, ...
        output = Output("--json" in args)
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `apollonia` or `apollonia db`
            sys.stdout.write(exc.format_message() + "\n")
            sys.exit(0)
        ctx = getattr(exc, "ctx", None)
        if not output.json_mode and ctx is not None:
            output.note(ctx.get_usage())
        try:
            output.fail(ExitCode.VALIDATION, exc.format_message(), error_code="usage")
        except typer.Exit as exit_exc:
            sys.exit(exit_exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("Aborted.\n")
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


def __getattr__(name: str) -> typer.Typer:
    """`app`: the whole command tree (documentation, tests), built on first use."""
    if name == "app":
        return build_app()
    raise AttributeError(name)
