"""`apollonia run`: watch and catalog folders in one process (the README's main command)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from apollonia.cli import errors
from apollonia.cli.common import fail_on_storage, run_async, settings_or_exit
from apollonia.cli.output import ExitCode, Output
from apollonia.console_words import RUN_WORDS
from apollonia.embedded import EmbeddedRunner, check_roots, run_with_broker
from consumer.adapters.db.migrate import SchemaError
from consumer.adapters.db.single_consumer import SecondConsumerError
from consumer.domain.errors import OperationError
from ingestor.state import StateSchemaError
from shared.runtime.log import use_console_words
from shared.runtime.masking import mask_text, mask_url
from shared.sqlite import sqlite_path
from shared.storage import StorageError


def catalog_location(url: str) -> str:
    """The catalog file (or the masked URL of another database)."""
    path = sqlite_path(url)
    return str(path) if path is not None else mask_url(url)


def run_command(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            metavar="DIR",
            help="A folder to catalog and watch (repeatable). Default: APOLLONIA_DATA_DIRECTORY.",
        ),
    ] = None,
    amqp: Annotated[
        bool,
        typer.Option(
            "--amqp",
            help="Run the ingestor and the consumer over the "
            "configured broker instead of applying events in-process.",
        ),
    ] = False,
    once: Annotated[
        bool, typer.Option("--once", help="Ingest the folders once and exit (no watching).")
    ] = False,
) -> None:
    """Catalog the data folders, then keep the catalog in step with them until Ctrl-C.

    Creates a filesystem source `local` and a collection per folder when absent, runs an initial
    collection ingest, then applies live file events straight to the SQLite catalog (no broker
    needed). With --amqp, runs the ingestor and the consumer together over RabbitMQ.

    \b
    Examples:
      apollonia run --data /mnt/media
      apollonia run --data /mnt/movies --data /mnt/tv --once
    """
    output = Output(False)
    settings = settings_or_exit(output)
    try:
        roots = check_roots(data or settings.data_directory)
    except OperationError as exc:
        output.fail(errors.exit_code(exc), errors.message(exc), error_code=exc.error_code)
    output.note(f"Catalog: {catalog_location(settings.database_url)}")
    use_console_words(RUN_WORDS)
    status = sys.stderr.isatty()
    try:
        if amqp:
            code = run_async(lambda: run_with_broker(settings, roots))
        else:
            runner = EmbeddedRunner(settings, roots, live=not once)
            code = run_async(lambda: runner.run(status=status))
    except StorageError as exc:  # the config folder or the disk, with its path and owner
        fail_on_storage(output, exc)
    except OperationError as exc:  # e.g. a folder overlapping a collection already cataloged
        output.fail(errors.exit_code(exc), errors.message(exc), error_code=exc.error_code)
    except SecondConsumerError as exc:  # a SQLite catalog already has its consumer
        output.fail(ExitCode.VALIDATION, f"Error: {exc}", error_code="second_consumer")
    except (OSError, SQLAlchemyError, SchemaError, StateSchemaError) as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"could not run: {mask_text(str(exc))}",
            error_code="startup_failed",
        )
    raise typer.Exit(code)
