"""A DataTable that takes thousands of rows at once.

`DataTable.add_row` assigns the cursor to itself after every row (to clamp it), which runs
Textual's reactive machinery, and asks for an idle check; with the landing's 5,000 rows that
was a third of building the table. `add_rows_at_once` files the rows as `add_row` does (height
1, no label) and does the per-table part once. The rows are in the table, measured and drawn
as any other: the table only learns of them in one step.

It writes DataTable's own row bookkeeping (`_row_locations`, `_data`, `rows`, `_new_rows`,
`_update_count`), as `add_row` in Textual 8 does; tests/tui/test_table.py compares it with
`add_row`, so a Textual that files rows differently fails there first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import zip_longest

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import DuplicateKey, Row, RowKey


class BulkTable(DataTable[Text]):
    def add_rows_at_once(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """Add `(key, cells)` rows at the bottom, as `add_row(*cells, key=key)` each."""
        columns = self.ordered_columns
        locations, data, metadata, new = self._row_locations, self._data, self.rows, self._new_rows
        was_empty = self.row_count == 0
        index = start = self.row_count
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            if len(cells) > len(columns):
                raise ValueError("More values provided than there are columns.")
            locations[row_key] = index
            index += 1
            data[row_key] = {
                column.key: cell for column, cell in zip_longest(columns, cells) if column
            }
            metadata[row_key] = Row(row_key, 1)
            new.add(row_key)
        if index == start:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        # A cursor that has a row to be on now, as after `add_row`'s first row.
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()
