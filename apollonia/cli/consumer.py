"""`apollonia consumer`: apply file events from the broker to the catalog."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from apollonia import bootstrap
from apollonia.cli.common import fail_on_storage, run_async, settings_or_exit
from apollonia.cli.output import ExitCode, Output
from consumer.adapters.db.migrate import SchemaError
from shared.runtime.masking import mask_text, mask_url
from shared.storage import StorageError


def consumer_command() -> None:
    """Consume `<exchange>.catalog` and apply every file event to the catalog, in batches, one
    transaction per collection. Runs until SIGINT/SIGTERM; survives broker outages.

    \b
    Examples:
      apollonia consumer
    """
    output = Output(False)
    settings = settings_or_exit(output)
    try:
        code = run_async(lambda: bootstrap.consumer_service(settings).run())
    except StorageError as exc:  # the config folder or the disk, with its path and owner
        fail_on_storage(output, exc)
    except (OSError, SQLAlchemyError, SchemaError) as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"the consumer could not start: {mask_text(str(exc))} "
            f"(catalog {mask_url(settings.database_url)})",
            error_code="startup_failed",
        )
    raise typer.Exit(code)
