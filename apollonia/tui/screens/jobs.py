"""Enrichment jobs: the latest ones, and one job's metadata with its logs (`R` retries a failed
job, as `apollonia job retry JOB` does)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, RichLog, Static

from apollonia.tui import actions
from apollonia.tui.screens.base import CatalogScreen, cells
from consumer.service_layer.enrichment_ops import JobDetail, JobRow


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def mid_when(value: datetime | None) -> str:
    return value.strftime("%m-%d %H:%M:%S") if value is not None else "-"


def short_when(value: datetime | None) -> str:
    """Month, day and time: what fits a column at 80 columns."""
    return value.strftime("%m-%d %H:%M") if value is not None else "-"


class JobsScreen(CatalogScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f", "failed", "Failed only"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.failed_only = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Jobs (newest first)", id="title", classes="title")
        yield DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Queued", "Status", "Stage", "Try", "Asset", "Collection", "Job")

    async def load(self) -> None:
        status = "failed" if self.failed_only else None
        rows = await self.call(lambda c: actions.jobs(c, status))
        self.show(rows)

    def show(self, rows: list[JobRow]) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(
                *cells(
                    short_when(r.job.queued_at),
                    r.job.status.value,
                    r.job.stage,
                    str(r.job.attempt),
                    r.canonical_key or "-",
                    r.collection or "-",
                    r.job.uuid[:8],
                ),
                key=r.job.uuid,
            )
        title = "Failed jobs" if self.failed_only else "Jobs"
        self.query_one("#title", Static).update(f"{title} (newest first): {len(rows)}")
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))

    def action_failed(self) -> None:
        self.failed_only = not self.failed_only
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(JobScreen(event.row_key.value))


class JobScreen(CatalogScreen):
    """One job: what, when, where, and its logs, scrollable."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("R", "retry", "Retry (failed)"),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.detail: JobDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="meta", classes="meta", markup=False)
        yield RichLog(id="logs", wrap=True, markup=False, highlight=False)
        yield Footer()

    async def load(self) -> None:
        self.detail = await self.call(lambda c: actions.job(c, self.job_id))
        self.show(self.detail)

    def show(self, detail: JobDetail) -> None:
        job = detail.row.job
        lines = [
            f"Job {job.uuid}  {job.stage}  attempt {job.attempt}  [{job.status.value}]",
            f"Asset: {detail.row.canonical_key or '-'}  ({job.asset_uuid})",
            f"Collection: {detail.row.collection or '-'}",
            f"Queued {mid_when(job.queued_at)}, started {mid_when(job.started_at)}, "
            f"done {mid_when(job.completed_at)}",
            f"Worker: {job.worker_id or '-'}  pid {job.pid or '-'}",
        ]
        if job.error:
            lines.append(f"Error: {job.error}")
        self.query_one("#meta", Static).update("\n".join(lines))
        log = self.query_one(RichLog)
        log.clear()
        for entry in detail.logs:
            log.write(f"{when(entry.time)} {entry.level.upper():5} {entry.message}")
        if not detail.logs:
            log.write("(no log lines)")

    def action_retry(self) -> None:
        def done(retried: object) -> None:
            self.notify("Retry queued: a new attempt waits for the enrichment worker.")

        self.act(lambda c: actions.retry_job(c, self.job_id), done)
