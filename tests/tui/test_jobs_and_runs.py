"""Jobs and ingest runs, reached from anywhere (`j`, `u`): the list, a job's metadata and its
logs, `R` retrying a failed job (and refusing a completed one in the CLI's words), a run and its
log."""

from __future__ import annotations

import pytest
from textual.widgets import RichLog

from apollonia.tui.screens.jobs import JobScreen, JobsScreen
from apollonia.tui.screens.runs import RunScreen, RunsScreen
from consumer.service_layer import enrichment_ops
from tests.tui.conftest import Library, loaded, rows, started
from tests.wait import until

pytestmark = pytest.mark.integration

ZARDOZ = "Zardoz (1974)/Zardoz (1974).mkv"


def log_text(screen: JobScreen | RunScreen) -> str:
    return "\n".join(line.text for line in screen.query_one("#logs", RichLog).lines)


async def test_a_failed_job_its_logs_and_retry(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await started(app)
        await pilot.press("j")
        jobs = await loaded(app, JobsScreen)
        assert len(rows(jobs)) == 6  # one per file
        loads = jobs.loads
        await pilot.press("f")  # failed only
        await loaded(app, JobsScreen, after=loads)
        assert [(r[1], r[4]) for r in rows(jobs)] == [("failed", ZARDOZ)]
        await pilot.press("enter")
        job = await loaded(app, JobScreen)
        meta = str(job.query_one("#meta").render())
        assert "[failed]" in meta and "Error: " in meta
        assert "could not be probed" in log_text(job)
        await pilot.press("R")

        async def retried() -> bool:
            found = await enrichment_ops.list_jobs(library.catalog)
            return any(r.job.attempt == 2 and r.canonical_key == ZARDOZ for r in found)

        await until(retried, what="the retried job")
        pending = [r for r in await enrichment_ops.list_jobs(library.catalog) if r.job.attempt == 2]
        assert [(r.canonical_key, r.job.status.value) for r in pending] == [(ZARDOZ, "pending")]
        # Once followed by another attempt, it cannot be retried again: the CLI's refusal.
        job.last_error = None
        await pilot.press("R")
        await until(lambda: job.last_error is not None)
        assert "already followed by another attempt" in str(job.last_error)


async def test_ingest_runs_and_a_run_log(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await started(app)
        await pilot.press("u")
        runs = await loaded(app, RunsScreen)
        table = rows(runs)
        assert sorted((r[1], r[2], r[3]) for r in table) == [
            ("collection_ingest", "success", "Films"),
            ("collection_ingest", "success", "TV"),
        ]
        await pilot.press("enter")
        run = await loaded(app, RunScreen)
        assert "collection_ingest" in str(run.query_one("#meta").render())
        assert "validation gate passed" in log_text(run)
