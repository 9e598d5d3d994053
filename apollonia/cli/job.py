"""`apollonia job ...`: enrichment jobs and their logs (seed 002's jobs), and retrying them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from apollonia.cli.common import (
    CatalogTarget,
    JsonOpt,
    TestDbOpt,
    run_operation,
    settings_or_exit,
)
from apollonia.cli.errors import plural
from apollonia.cli.output import ExitCode, Output
from apollonia.cli.render import iso
from consumer.domain.jobs import JobStatus
from consumer.service_layer import enrichment_ops
from consumer.service_layer.enrichment import utcnow

app = typer.Typer(help="Enrichment jobs: list, show with logs, retry.", no_args_is_help=True)

STATUSES = [s.value for s in JobStatus]


def job_dict(row: enrichment_ops.JobRow) -> dict[str, Any]:
    job = row.job
    return {
        "id": job.uuid,
        "asset_id": job.asset_uuid,
        "canonical_key": row.canonical_key,
        "collection": row.collection,
        "stage": job.stage,
        "status": job.status.value,
        "attempt": job.attempt,
        "worker_id": job.worker_id,
        "pid": job.pid,
        "queued_at": iso(job.queued_at),
        "started_at": iso(job.started_at),
        "completed_at": iso(job.completed_at),
        "lease_until": iso(job.lease_until),
        "next_attempt_at": iso(job.next_attempt_at),
        "error": job.error,
    }


@app.command("list")
def list_command(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", metavar="STATUS", help=f"Only jobs in this status: {', '.join(STATUSES)}."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, metavar="N", help="Show at most N jobs.")
    ] = None,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """List jobs, oldest first.

    \b
    Examples:
      apollonia job list --status failed
      apollonia job list --json --limit 20
    """
    output = Output(json_out)
    if status is not None and status not in STATUSES:
        output.fail(
            ExitCode.VALIDATION,
            f"--status must be one of {', '.join(STATUSES)}, got {status!r}",
            error_code="usage",
        )
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _list() -> list[dict[str, Any]]:
        async with target.open() as catalog:
            rows = await enrichment_ops.list_jobs(catalog, status=status, limit=limit)
        return [job_dict(r) for r in rows]

    rows = run_operation(output, _list)

    def human(console: Console) -> None:
        if not rows:
            console.print("No jobs.", markup=False)
            return
        table = Table("ID", "Status", "Attempt", "Collection", "Asset", "Queued", "Error")
        for row in rows:
            table.add_row(
                row["id"],
                row["status"],
                str(row["attempt"]),
                row["collection"] or "-",
                row["canonical_key"] or row["asset_id"],
                row["queued_at"] or "-",
                row["error"] or "",
            )
        console.print(table)

    output.emit({"status": "success", "mode": target.mode, "jobs": rows}, human)


@app.command("show")
def show_command(
    job_sel: Annotated[str, typer.Argument(metavar="JOB_ID", help="Job UUID or unique prefix.")],
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Show a job and its log lines.

    \b
    Examples:
      apollonia job show 3f2a9c
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _show() -> dict[str, Any]:
        async with target.open() as catalog:
            detail = await enrichment_ops.show_job(catalog, job_sel)
        doc = job_dict(detail.row)
        doc["logs"] = [
            {"time": iso(e.time), "level": e.level, "message": e.message} for e in detail.logs
        ]
        return {"status": "success", "mode": target.mode, "job": doc}

    doc = run_operation(output, _show)

    def human(console: Console) -> None:
        job = doc["job"]
        console.print(f"Job {job['id']}", markup=False)
        for name in (
            "status", "stage", "attempt", "collection", "canonical_key", "asset_id",
            "worker_id", "pid", "queued_at", "started_at", "completed_at", "next_attempt_at",
            "error",
        ):  # fmt: skip
            console.print(f"  {name}: {job[name] if job[name] is not None else '-'}", markup=False)
        for entry in job["logs"]:
            console.print(f"  {entry['time']} {entry['level']:<7} {entry['message']}", markup=False)

    output.emit(doc, human)


@app.command("retry")
def retry_command(
    job_sel: Annotated[
        str | None, typer.Argument(metavar="[JOB_ID]", help="A failed job (UUID or prefix).")
    ] = None,
    collection_sel: Annotated[
        str | None,
        typer.Option(
            "--collection", metavar="COLLECTION", help="Every failed job of this collection."
        ),
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every failed job waiting for an operator.")
    ] = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Queue a new attempt for failed jobs whose retries are spent (an operator's decision).

    \b
    Examples:
      apollonia job retry 3f2a9c
      apollonia job retry --collection Movies
      apollonia job retry --all-failed
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _retry() -> dict[str, Any]:
        async with target.open() as catalog:
            queued = await enrichment_ops.retry_jobs(
                catalog,
                job_sel=job_sel,
                collection_sel=collection_sel,
                all_failed=all_failed,
                now=utcnow(),
            )
        return {
            "status": "success",
            "mode": target.mode,
            "queued": [
                {"id": j.uuid, "asset_id": j.asset_uuid, "attempt": j.attempt} for j in queued
            ],
        }

    doc = run_operation(output, _retry)

    def human(console: Console) -> None:
        console.print(f"Queued {plural(len(doc['queued']), 'new attempt')}", markup=False)
        for job in doc["queued"]:
            console.print(
                f"  {job['id']} asset {job['asset_id']} attempt {job['attempt']}", markup=False
            )

    output.emit(doc, human)
