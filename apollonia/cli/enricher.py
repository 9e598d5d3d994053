"""`apollonia enricher`: the enrichment worker as a service of its own (the compose service
`enricher`: the media read-only, the catalog volume shared with the consumer)."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from apollonia import bootstrap
from apollonia.cli.common import run_async, settings_or_exit
from apollonia.cli.output import ExitCode, Output
from consumer.adapters.db.migrate import SchemaError
from shared.runtime.masking import mask_text, mask_url

app = typer.Typer(
    help="The enrichment worker (run alone with no subcommand).",
    invoke_without_command=True,
)


@app.callback()
def enricher(ctx: typer.Context) -> None:
    """Run the enrichment worker alone: claim jobs, run the enrichers and quality control,
    write the outcome; until SIGINT/SIGTERM (in-flight tools are killed, their jobs handed
    back)."""
    if ctx.invoked_subcommand is not None:
        return
    output = Output(False)
    settings = settings_or_exit(output)
    try:
        code = run_async(lambda: bootstrap.enrichment_worker(settings).run())
    except (OSError, SQLAlchemyError, SchemaError) as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"the enrichment worker could not start: {mask_text(str(exc))} "
            f"(catalog {mask_url(settings.database_url)})",
            error_code="startup_failed",
        )
    raise typer.Exit(code)
