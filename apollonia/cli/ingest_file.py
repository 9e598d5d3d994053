"""`apollonia ingest-file PATH`: seed 000's single-path ingest. It must start fast, so this module
imports only what that one command needs (not the asset commands' tables and queries)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from apollonia.cli.common import JsonOpt, TestDbOpt, run_operation, settings_or_exit
from apollonia.cli.output import Output


def ingest_file_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The file to catalog.")],
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Catalog one file now: prospect it (stat, SHA-256 + xxh128, neighbours) and apply it straight
    to the catalog, then exit. Safe to run many at once.

    \b
    Examples:
      apollonia ingest-file '/mnt/media/Movies/Heat (1995)/Heat (1995).mkv'
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    raw = os.path.abspath(os.fsencode(path))
    from apollonia.oneshot import ingest_file  # noqa: PLC0415 - loads the hashing and apply path

    doc = run_operation(output, lambda: ingest_file(settings, raw, test_db=test_db))
    output.emit(
        doc,
        lambda c: c.print(
            f"{doc['decision']}: {doc['canonical_key']} in '{doc['collection_name']}' "
            f"({doc['reason']})",
            markup=False,
        ),
    )
