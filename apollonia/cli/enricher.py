"""`apollonia enricher`: the enrichment worker as a service of its own (the compose service
`enricher`: the media read-only, the catalog volume shared with the consumer), and `apollonia
enricher list`: the enrichers installed (entry points of `apollonia.enrichers`)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from apollonia import bootstrap
from apollonia.cli.common import JsonOpt, run_async, settings_or_exit
from apollonia.cli.output import ExitCode, Output
from consumer.adapters.db.migrate import SchemaError
from consumer.service_layer.enrichers import enricher_statuses
from shared.runtime.masking import mask_text, mask_url

app = typer.Typer(
    help="Enrichers: the plugins that say what an asset is (ffprobe, filename, sidecars...). "
    "With no subcommand: run the enrichment worker alone.",
    invoke_without_command=True,
)


@app.callback()
def enricher(ctx: typer.Context) -> None:
    """Run the enrichment worker alone: claim jobs, run the enrichers and quality control,
    write the outcome; until SIGINT/SIGTERM (in-flight tools are killed, their jobs handed
    back).

    \b
    Examples:
      apollonia enricher
      apollonia enricher list
    """
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


@app.command("list")
def list_enrichers(json_out: JsonOpt = False) -> None:
    """List the installed enrichers: id, version, kind, and available or why not.

    \b
    Examples:
      apollonia enricher list
      apollonia enricher list --json
    """
    output = Output(json_out)
    rows = [
        s.as_dict()
        for s in enricher_statuses(bootstrap.enricher_registry(settings_or_exit(output)))
    ]

    def human(console: Console) -> None:
        lines = [("ID", "VERSION", "KIND", "STATUS")]
        lines += [
            (row["id"], row["version"] or "-", row["kind"] or "-", _status(row)) for row in rows
        ]
        widths = [max(len(line[i]) for line in lines) for i in range(3)]
        # Plain columns, not a table: the reason why an enricher cannot run is never cut short.
        for line in lines:
            cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
            console.print("  ".join([*cells, line[3]]), markup=False)

    doc: dict[str, Any] = {"status": "success", "enrichers": rows}
    output.emit(doc, human)


def _status(row: dict[str, Any]) -> str:
    if not row["loaded"]:
        return f"broken: {row['reason']}"
    return "available" if row["available"] else f"unavailable: {row['reason']}"
