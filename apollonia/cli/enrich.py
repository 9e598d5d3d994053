"""`apollonia enrich`: run the due enrichment jobs once (a progress bar on a terminal), and the
`--enrich` report of `collection ingest` / `source ingest`."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from apollonia import bootstrap
from apollonia.cli.common import (
    CatalogTarget,
    DryRunOpt,
    JsonOpt,
    TestDbOpt,
    run_operation,
    settings_or_exit,
)
from apollonia.cli.errors import plural
from apollonia.cli.output import Output
from apollonia.settings import Settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.service_layer.enrichment import JobOutcome, utcnow
from consumer.service_layer.enrichment_ops import (
    CollectionTally,
    enrich_collections,
    enrich_pending,
)


async def enrich_after_ingest(
    settings: Settings, catalog: CatalogDatabase, collection_uuids: list[str]
) -> list[dict[str, Any]]:
    tallies = await enrich_collections(
        catalog, bootstrap.enrichment(settings, catalog), collection_uuids
    )
    return [t.as_dict() for t in tallies]


def enrichment_lines(tallies: list[dict[str, Any]]) -> list[str]:
    if not tallies:
        return ["Enrichment: nothing to enrich"]
    lines = []
    for row in tallies:
        lines.append(
            f"Enrichment of '{row['collection']}': {row['enriched']} enriched, "
            f"{row['failed']} failed" + (f", {row['other']} other" if row["other"] else "")
        )
        lines += [
            f"  failed: {f['canonical_key']} ({f['asset_id']}) {f['enricher']}: {f['reason']}"
            for f in row["failures"]
        ]
    return lines


class _Bar:
    """A Rich progress bar on stderr, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.progress: Progress | None = None
        self.enabled = enabled and sys.stderr.isatty()

    def start(self, total: int) -> None:
        if not self.enabled or not total:
            return
        self.progress = Progress(
            TextColumn("enriching"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("enrich", total=total)

    def advance(self, _outcome: JobOutcome) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def enrich_command(
    collection_sel: Annotated[
        str | None,
        typer.Option("--collection", metavar="COLLECTION", help="Only this collection's jobs."),
    ] = None,
    asset_sel: Annotated[
        str | None,
        typer.Option(
            "--asset", metavar="ASSET_ID", help="Only this asset's jobs (UUID or prefix)."
        ),
    ] = None,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="First queue a new attempt for failed jobs out of retries."
        ),
    ] = False,
    dry_run: DryRunOpt = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Run the due enrichment jobs once and report, per collection, what was enriched and what
    failed. Includes collections whose automatic enrichment is off: this is how an operator
    starts them. Exit code 0 even when some assets failed quality control (they are reported).

    \b
    Examples:
      apollonia enrich
      apollonia enrich --collection Movies --retry-failed
      apollonia enrich --asset 3f2a9c --dry-run --json
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, test_db=test_db)
    bar = _Bar(enabled=not json_out)

    async def _enrich() -> dict[str, Any]:
        async with target.open() as catalog:
            try:
                run = await enrich_pending(
                    catalog,
                    bootstrap.enrichment(settings, catalog),
                    collection_sel=collection_sel,
                    asset_sel=asset_sel,
                    retry_failed=retry_failed,
                    dry_run=dry_run,
                    now=utcnow(),
                    on_outcome=bar.advance,
                    on_start=bar.start,
                )
            finally:
                bar.stop()
        tallies: list[CollectionTally] = run.collections
        return {
            "status": "success",
            "mode": target.mode,
            "dry_run": dry_run,
            "would_run": [
                {"job_id": j.uuid, "asset_id": j.asset_uuid, "attempt": j.attempt}
                for j in run.would_run
            ],
            "retried": [j.uuid for j in run.retried],
            "jobs": [o.as_dict() for o in run.outcomes],
            "collections": [t.as_dict() for t in tallies],
        }

    doc = run_operation(output, _enrich)

    def human(console: Console) -> None:
        if dry_run:
            console.print(
                f"Would run {plural(len(doc['would_run']), 'job')}"
                + (f" and retry {len(doc['retried'])} failed" if retry_failed else ""),
                markup=False,
            )
            for job in doc["would_run"]:
                console.print(f"  {job['job_id']} asset {job['asset_id']}", markup=False)
            return
        if doc["retried"]:
            console.print(f"Queued {len(doc['retried'])} retry(ies)", markup=False)
        for line in enrichment_lines(doc["collections"]):
            console.print(line, markup=False)

    output.emit(doc, human)
