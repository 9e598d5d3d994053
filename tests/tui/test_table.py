"""BulkTable.add_rows_at_once files rows as DataTable.add_row does: the same rows, keys,
cursor and highlight message, and the same drawing (it writes DataTable's own bookkeeping, so a
Textual that files rows differently fails here first)."""

from __future__ import annotations

import re

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import DuplicateKey

from apollonia.tui.table import BulkTable

ROWS = [(f"k{i}", (Text(f"row {i}"), Text("x" * i))) for i in range(30)]


class TableApp(App[None]):
    def __init__(self, bulk: bool) -> None:
        super().__init__()
        self.bulk = bulk
        self.highlighted: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield BulkTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(BulkTable)
        table.add_columns("A", "B")
        if self.bulk:
            table.add_rows_at_once(ROWS)
        else:
            for key, cells in ROWS:
                table.add_row(*cells, key=key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.highlighted.append(event.row_key.value)


async def drawn(bulk: bool) -> tuple[list[list[str]], list[str | None], list[str | None], str]:
    app = TableApp(bulk)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(BulkTable)
        await pilot.press("down", "down")
        await pilot.pause()
        cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        keys = [table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value for i in range(3)]
        return (
            cells,
            keys,
            list(app.highlighted),
            re.sub(r"terminal-\d+", "", app.export_screenshot()),
        )


async def test_rows_at_once_are_rows_one_by_one() -> None:
    bulk = await drawn(bulk=True)
    assert bulk[2] == ["k0", "k1", "k2"]  # highlighted: the first row, then two downs
    assert bulk == await drawn(bulk=False)


async def test_a_key_twice_is_refused() -> None:
    app = TableApp(bulk=True)
    async with app.run_test(size=(40, 12)):
        table = app.query_one(BulkTable)
        with pytest.raises(DuplicateKey):
            table.add_rows_at_once([("k1", (Text("again"),))])
        with pytest.raises(ValueError, match="More values"):
            table.add_rows_at_once([("new", (Text("a"), Text("b"), Text("c")))])
