"""`apollonia db ...`: create and upgrade the catalog schema."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from apollonia.cli.common import JsonOpt, TestDbOpt, run_async, settings_or_exit
from apollonia.cli.output import ExitCode, Output
from consumer.adapters.db import migrate
from shared.runtime.masking import mask_url

app = typer.Typer(help="Catalog database maintenance.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(test_db: TestDbOpt = False, json_out: JsonOpt = False) -> None:
    """Create the catalog, or migrate it to the newest schema. Safe to run any time.

    \b
    Examples:
      apollonia db upgrade
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    url = settings.catalog_url(test_db=test_db)

    async def _upgrade() -> dict[str, Any]:
        before, after = await migrate.upgrade_catalog(url)
        return {
            "status": "success",
            "database": mask_url(url),
            "mode": "test" if test_db else "production",
            "revision_before": before,
            "revision": after,
            "upgraded": before != after,
        }

    try:
        doc = run_async(_upgrade)
    except (OSError, migrate.SchemaError) as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"cannot upgrade {mask_url(url)}: {exc}",
            error_code="upgrade_failed",
        )

    def human(console: Console) -> None:
        if doc["upgraded"]:
            was = doc["revision_before"] or "empty"
            console.print(
                f"Catalog {doc['database']} upgraded from {was} to {doc['revision']}", markup=False
            )
        else:
            console.print(
                f"Catalog {doc['database']} is current (revision {doc['revision']})", markup=False
            )

    output.emit(doc, human)


@app.command("current")
def current(test_db: TestDbOpt = False, json_out: JsonOpt = False) -> None:
    """Show the catalog's schema revision and the one this version expects.

    \b
    Examples:
      apollonia db current --json
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    url = settings.catalog_url(test_db=test_db)

    try:
        revision = run_async(lambda: migrate.catalog_revision(url))
    except OSError as exc:
        output.fail(ExitCode.VALIDATION, f"cannot read {mask_url(url)}: {exc}")
    doc = {
        "status": "success",
        "database": mask_url(url),
        "revision": revision,
        "expected": migrate.HEAD_REVISION,
        "current": revision == migrate.HEAD_REVISION,
    }
    output.emit(
        doc,
        lambda c: c.print(
            f"{doc['database']}: revision {revision or 'none'} (expected {migrate.HEAD_REVISION})",
            markup=False,
        ),
    )
