"""Ingest runs (collection and source ingests, live batches) and one run's log."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, RichLog, Static

from apollonia.tui import actions
from apollonia.tui.screens.base import CatalogScreen, cells
from apollonia.tui.screens.jobs import short_when, when


def stats_words(stats: dict[str, object]) -> str:
    shown = [f"{k} {v}" for k, v in stats.items() if isinstance(v, int) and v]
    return ", ".join(shown[:4]) or "-"


class RunsScreen(CatalogScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Ingest runs (newest first)", id="title", classes="title")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Started", "Kind", "Status", "Collection", "Stats", "Run"
        )

    async def load(self) -> None:
        rows = await self.call(actions.runs)
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for r in rows:
            kind = r.run.kind + (" (dry run)" if r.run.dry_run else "")
            table.add_row(
                *cells(
                    short_when(r.run.started_at),
                    kind,
                    r.run.status,
                    r.collection or "-",
                    stats_words(r.run.stats),
                    r.run.uuid[:8],
                ),
                key=r.run.uuid,
            )
        self.query_one("#title", Static).update(f"Ingest runs (newest first): {len(rows)}")
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(RunScreen(event.row_key.value))


class RunScreen(CatalogScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="meta", classes="meta", markup=False)
        yield RichLog(id="logs", wrap=True, markup=False, highlight=False)
        yield Footer()

    async def load(self) -> None:
        detail = await self.call(lambda c: actions.run(c, self.run_id))
        meta = self.query_one("#meta", Static)
        log = self.query_one(RichLog)
        log.clear()
        if detail is None:
            meta.update(f"Run {self.run_id} not found")
            return
        run = detail.row.run
        lines = [
            f"Run {run.uuid}  {run.kind}  [{run.status}]" + ("  dry run" if run.dry_run else ""),
            f"Collection: {detail.row.collection or '-'}",
            f"Started {when(run.started_at)}, finished {when(run.finished_at)}",
            f"Stats: {stats_words(run.stats)}",
        ]
        if run.error:
            lines.append(f"Error: {run.error}")
        meta.update("\n".join(lines))
        for entry in detail.logs:
            log.write(f"{when(entry.get('time'))} {entry.get('level')!s:5} {entry.get('message')}")
        if not detail.logs:
            log.write("(no log lines)")
