"""`apollonia enricher ...`: the enrichers installed (entry points of `apollonia.enrichers`)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

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
    """List the installed enrichers: id, version, kind, and available or why not.

    \b
    Examples:
      apollonia enricher list
      apollonia enricher list --json
    """
    output = Output(json_out)
    rows = [s.as_dict() for s in enricher_statuses(enricher_registry())]

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
