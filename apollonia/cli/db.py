"""`apollonia db ...`: create and upgrade the catalog schema; copy it to PostgreSQL."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from apollonia.cli.common import (
    JsonOpt,
    TestDbOpt,
    database_error_text,
    run_async,
    settings_or_exit,
)
from apollonia.cli.output import ExitCode, Output
from consumer.adapters.db import migrate
from consumer.adapters.db.copy import CopyError, copy_catalog
from shared.database import is_postgres
from shared.runtime.masking import mask_text, mask_url
from shared.sqlite import CatalogNotFoundError

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


@app.command("copy")
def copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL",
            help="The empty PostgreSQL catalog to copy into "
            "(postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE).",
        ),
    ],
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Copy this catalog (SQLite) into an empty PostgreSQL database, then verify the copy.

    Every table is copied (sources, collections, assets and their history, runs, jobs and
    results, the approvals trail) in one transaction; then each table's row count and a SHA-256
    of its rows are compared on both sides. A target holding any rows is refused. The source
    is only read. Afterwards point APOLLONIA_DATABASE_URL at the target (docs/operations.md,
    "Moving the catalog to PostgreSQL").

    \b
    Examples:
      apollonia db copy --to postgresql+psycopg://apollonia:secret@db:5432/apollonia
      apollonia db copy --to "$NEW_CATALOG_URL" --json
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    url = settings.catalog_url(test_db=test_db)
    if is_postgres(url) and make_url(url) == make_url(to):
        output.fail(
            ExitCode.VALIDATION,
            "the source and the target are the same database",
            error_code="copy_same_database",
        )

    async def _copy() -> dict[str, Any]:
        report = await copy_catalog(url, to)
        return {
            "status": "success",
            "source": report.source,
            "target": report.target,
            "revision": report.revision,
            "rows": report.rows,
            "tables": [
                {"table": t.name, "rows": t.rows, "sha256": t.checksum} for t in report.tables
            ],
            "verified": True,
        }

    try:
        doc = run_async(_copy)
    except CopyError as exc:
        output.fail(ExitCode.VALIDATION, str(exc), error_code=exc.code)
    except (CatalogNotFoundError, migrate.SchemaError) as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"cannot copy {mask_url(url)}: {exc}",
            error_code="catalog_unavailable",
        )
    except OperationalError as exc:
        output.fail(
            ExitCode.UNREACHABLE,
            f"cannot reach {mask_url(to)}: {mask_text(database_error_text(exc))}",
            error_code="database_unreachable",
        )
    except DBAPIError as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"copy failed, nothing was written: {mask_text(database_error_text(exc))}",
            error_code="database_error",
        )

    def human(console: Console) -> None:
        console.print(
            f"Copied {doc['source']} to {doc['target']} (revision {doc['revision']}):",
            markup=False,
        )
        for table in doc["tables"]:
            console.print(
                f"  {table['table']:<20} {table['rows']:>9}  sha256 {table['sha256'][:16]}",
                markup=False,
            )
        console.print(
            "Verified: every table's row count and checksum match. "
            "Now set APOLLONIA_DATABASE_URL to the target.",
            markup=False,
        )

    output.emit(doc, human)
