"""`apollonia tui`: the terminal UI, in this terminal or served as a web page.

Textual is imported here, inside the command, never at the CLI's import: every other command
(and `apollonia --version`) starts without it.
"""

from __future__ import annotations

import logging
import shlex
import sys
from typing import Annotated

import typer

from apollonia.cli.common import TestDbOpt, settings_or_exit
from apollonia.cli.output import ExitCode, Output
from shared.runtime.log import configure_logging

DEFAULT_HOST = "127.0.0.1"
LOG_FILE = "tui.log"  # in APOLLONIA_CONFIG_DIR


def parse_listen(value: str) -> tuple[str, int]:
    """`[HOST:]PORT` -> (host, port); the host defaults to loopback."""
    host, sep, port = value.rpartition(":")
    if not sep:
        host = DEFAULT_HOST
    host = host.strip("[]") or DEFAULT_HOST
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not [HOST:]PORT (a port is 1-65535)")
    return host, int(port)


def tui_command(
    serve: Annotated[
        str | None,
        typer.Option(
            "--serve",
            metavar="[HOST:]PORT",
            help="Serve the UI as a web page on this port (host 127.0.0.1 unless given) instead "
            "of running it in this terminal. Put it behind a reverse proxy with authentication "
            "to reach it from elsewhere (docs/tui.md).",
        ),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            metavar="URL",
            help="With --serve: the address browsers use, when it differs from HOST:PORT "
            "(behind a reverse proxy, e.g. https://media.example.org/tui).",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            metavar="NAME",
            help="Your name, recorded as the actor of approvals (asked once otherwise).",
        ),
    ] = None,
    test_db: TestDbOpt = False,
) -> None:
    """Browse and drive the catalog in a terminal UI: media items and their progress, an
    item's assets, the review queue, jobs and their logs, ingest runs, and forms for sources,
    collections and wanted items. Keys are shown in the footer.

    \b
    Examples:
      apollonia tui
      apollonia tui --actor alice
      apollonia tui --serve 8080
      apollonia tui --serve 0.0.0.0:8080 --public-url https://media.example.org/tui
    """
    output = Output(False)
    settings = settings_or_exit(output)
    if serve is not None:
        try:
            host, port = parse_listen(serve)
        except ValueError as exc:
            output.fail(ExitCode.VALIDATION, f"Error: --serve {exc}", error_code="usage")
        from textual_serve.server import Server  # noqa: PLC0415 - lazy: only this command

        command = [sys.executable, "-m", "apollonia", "tui"]
        if actor:
            command += ["--actor", actor]
        if test_db:
            command.append("--test-db")
        Server(
            shlex.join(command), host=host, port=port, title="Apollonia", public_url=public_url
        ).serve()
        return
    from apollonia.tui.app import ApolloniaApp  # noqa: PLC0415 - lazy: only this command
    from apollonia.tui.backend import Backend  # noqa: PLC0415

    # The terminal belongs to the UI: log lines written to it would tear the screen.
    settings.config_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.config_dir / LOG_FILE, "a", encoding="utf-8") as log_file:
        level = logging.getLevelName(logging.getLogger().level)
        configure_logging(level if isinstance(level, str) else "WARNING", "json", stream=log_file)
        ApolloniaApp(Backend(settings, test_db=test_db), actor=actor).run()
