"""The `apollonia` command."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer.main import get_command

from apollonia import __version__
from apollonia.cli import asset, collection, db, dlq, queue, source
from apollonia.cli.asset import ingest_file_command
from apollonia.cli.consumer import consumer_command
from apollonia.cli.health import health
from apollonia.cli.ingestor import ingestor_command, publish_command
from apollonia.cli.output import ExitCode, Output
from apollonia.cli.replay import replay_command
from apollonia.cli.run import run_command
from apollonia.log import configure_logging
from apollonia.settings import LogFormat, load_settings

app = typer.Typer(
    name="apollonia",
    help="Watch media folders, fingerprint files and keep a trustworthy asset catalog.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("run")(run_command)
app.add_typer(db.app, name="db")
app.add_typer(source.app, name="source")
app.add_typer(collection.app, name="collection")
app.add_typer(asset.app, name="asset")
app.command("ingest-file")(ingest_file_command)
app.command("consumer")(consumer_command)
app.command("replay")(replay_command)
app.add_typer(dlq.app, name="dlq")
app.add_typer(queue.app, name="queue")
app.command("health")(health)
app.command("ingestor")(ingestor_command)
app.command("publish")(publish_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"apollonia {__version__}")
        raise typer.Exit(0)


@app.callback()
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 1 with a message (JSON under --json), never a traceback."""
    args = sys.argv[1:] if argv is None else argv
    command = get_command(app)
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
