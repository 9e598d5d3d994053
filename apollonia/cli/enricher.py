"""`apollonia enricher ...`: the enrichers installed (entry points of `apollonia.enrichers`)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from apollonia.bootstrap import enricher_registry
from apollonia.cli.common import JsonOpt
from apollonia.cli.output import Output
from consumer.service_layer.enrichers import enricher_statuses

app = typer.Typer(
    help="Enrichers: the plugins that say what an asset is (ffprobe, filename, sidecars...).",
    no_args_is_help=True,
)


@app.command("list")
def list_enrichers(json_out: JsonOpt = False) -> None:
    """List the installed enrichers: id, version, kind, and available or why not."""
    output = Output(json_out)
    rows = [s.as_dict() for s in enricher_statuses(enricher_registry())]

    def human(console: Console) -> None:
        table = Table(box=None, pad_edge=False)
        for column in ("ID", "VERSION", "KIND", "STATUS"):
            table.add_column(column)
        for row in rows:
            if not row["loaded"]:
                status = f"broken: {row['reason']}"
            elif row["available"]:
                status = "available"
            else:
                status = f"unavailable: {row['reason']}"
            table.add_row(row["id"], row["version"] or "-", row["kind"] or "-", status)
        console.print(table)

    doc: dict[str, Any] = {"status": "success", "enrichers": rows}
    output.emit(doc, human)
