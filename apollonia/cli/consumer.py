"""`apollonia consumer`: apply file events from the broker to the catalog."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import typer
from sqlalchemy.exc import SQLAlchemyError

from apollonia import bootstrap
from apollonia.cli.common import fail_on_storage, run_async, settings_or_exit
from apollonia.cli.output import ExitCode, Output
from consumer.adapters.db.migrate import SchemaError
from consumer.adapters.db.single_consumer import SecondConsumerError
from consumer.entrypoints.enrichment_worker import beside
from shared.runtime.masking import mask_text, mask_url
from shared.storage import StorageError


def consumer_command() -> None:
    """Consume `<exchange>.catalog` and apply every file event to the catalog, in batches, one
    transaction per collection. Runs until SIGINT/SIGTERM; survives broker outages. The
    enrichment worker runs beside it unless APOLLONIA_ENRICHMENT_WORKER=false.

    \b
    Examples:
      apollonia consumer
    """
    output = Output(False)
    settings = settings_or_exit(output)

    def services() -> Awaitable[int]:
        worker = bootstrap.enrichment_worker(settings) if settings.enrichment_worker else None
        return beside(worker, asyncio.ensure_future(bootstrap.consumer_service(settings).run()))

    try:
        code = run_async(services)
    except StorageError as exc:  # the config folder or the disk, with its path and owner
        fail_on_storage(output, exc)
    except SecondConsumerError as exc:  # a SQLite catalog already has its consumer
        output.fail(ExitCode.VALIDATION, f"Error: {exc}", error_code="second_consumer")
    except (OSError, SQLAlchemyError, SchemaError) as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"the consumer could not start: {mask_text(str(exc))} "
            f"(catalog {mask_url(settings.database_url)})",
            error_code="startup_failed",
        )
    raise typer.Exit(code)
