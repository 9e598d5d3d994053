"""The `apollonia` command.

Every invocation pays for what this module imports, so it imports nothing heavy: the command tree
(Typer, Rich, the settings, logging) lives in `apollonia.cli.app` and is built only for a
command, and `apollonia --version` is answered before any of it is loaded.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from shared.runtime.gc import tune_gc

if TYPE_CHECKING:
    import typer

# name -> (module, attribute, is a group). Imported only when needed: the commands pull in
# SQLAlchemy, aio-pika, aiohttp and the ingestor, and one invocation needs one of them.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "run": ("apollonia.cli.run", "run_command", False),
    "db": ("apollonia.cli.db", "app", True),
    "source": ("apollonia.cli.source", "app", True),
    "collection": ("apollonia.cli.collection", "app", True),
    "asset": ("apollonia.cli.asset", "app", True),
    "enricher": ("apollonia.cli.enricher", "app", True),
    "ingest-file": ("apollonia.cli.ingest_file", "ingest_file_command", False),
    "consumer": ("apollonia.cli.consumer", "consumer_command", False),
    "enrich": ("apollonia.cli.enrich", "enrich_command", False),
    "job": ("apollonia.cli.job", "app", True),
    "media": ("apollonia.cli.media", "app", True),
    "replay": ("apollonia.cli.replay", "replay_command", False),
    "dlq": ("apollonia.cli.dlq", "app", True),
    "queue": ("apollonia.cli.queue", "app", True),
    "health": ("apollonia.cli.health", "health", False),
    "ingestor": ("apollonia.cli.ingestor", "ingestor_command", False),
    "publish": ("apollonia.cli.ingestor", "publish_command", False),
    "tui": ("apollonia.cli.tui", "tui_command", False),
}
# Root options that take a value (the command name is the first other word).
_VALUED_OPTIONS = frozenset({"--log-level", "--log-format"})


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


def build_app(only: str | None = None) -> typer.Typer:
    """The command tree: every command, or just `only` (what one invocation runs)."""
    from apollonia.cli.app import build_app as build  # noqa: PLC0415 - lazy, see the docstring

    return build(only)


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors exit 1 with a message (JSON under --json), never a traceback."""
    tune_gc()
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        # What the eager --version option prints, without loading the command tree for it.
        from apollonia import __version__  # noqa: PLC0415 - lazy: reads the package metadata

        sys.stdout.write(f"apollonia {__version__}\n")
        sys.stdout.flush()
        sys.exit(0)
    _run(args)


def _run(args: list[str]) -> None:
    import typer  # noqa: PLC0415 - lazy, see the docstring
    from typer.main import get_command  # noqa: PLC0415

    from apollonia.cli.output import ExitCode, Output  # noqa: PLC0415

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


def __getattr__(name: str) -> Any:
    """`app`: the whole command tree (documentation, tests), built on first use."""
    if name == "app":
        return build_app()
    raise AttributeError(name)
