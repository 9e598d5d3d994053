"""The landing: media items grouped by type, each with a progress bar and its counts. Active
items only by default (anything not yet approved, with a job pending, running or failed, or
changed recently); `Tab` shows all, `/` filters by name, Enter opens an item."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from apollonia.tui import actions
from apollonia.tui.progress import bar
from apollonia.tui.screens.base import CatalogScreen

if TYPE_CHECKING:
    from consumer.service_layer.media import MediaSummary

GROUPS = (("movie", "Movies"), ("tv", "TV seasons"))
GROUP_KEY = "group:"


# The counts in one cell, in fixed widths under one heading: a table cell costs a measurement
# each time the table is built, and 5,000 items x 5 counts is most of the landing's drawing.
COUNTS_HEADING = "Files  Work Ready  Appr  Fail"


def counts(summary: MediaSummary) -> Text:
    """Files, in work (new or enriching), ready, approved, failed."""
    p = summary.progress
    values = (p.total, p.new + p.enriching, p.ready, p.approved, p.failed)
    return Text(f"{values[0]:>5}" + "".join(f"{v:>6}" for v in values[1:]))


class LandingScreen(CatalogScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "toggle_all", "All/active", priority=True),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("n", "new_item", "New item"),
        Binding("s", "new_source", "New source"),
        Binding("c", "new_collection", "New collection"),
    ]
    COLUMNS = ("Item", "Collection", "Progress", COUNTS_HEADING)

    def __init__(self) -> None:
        super().__init__()
        self.active_only = True
        self.name_filter = ""
        self.items: list[MediaSummary] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading...", id="title", classes="title", markup=False)
        yield Input(placeholder="filter by name (Enter: done, Escape: clear)", id="filter")
        yield DataTable(id="items", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*self.COLUMNS)

    async def load(self) -> None:
        active, recent = self.active_only, self.apollonia.recent
        self.items = await self.call(lambda c: actions.media(c, active_only=active, recent=recent))
        self.show()

    def shown(self) -> list[MediaSummary]:
        needle = self.name_filter.casefold()
        if not needle:
            return self.items
        return [s for s in self.items if needle in s.item.label.casefold()]

    def show(self) -> None:
        table = self.query_one(DataTable)
        current = self.current_key()
        table.clear()
        shown = self.shown()
        for media_type, heading in GROUPS:
            group = [s for s in shown if s.item.media_type == media_type]
            if not group:
                continue
            table.add_row(
                Text(f"{heading} ({len(group)})", style="bold"),
                *([""] * (len(self.COLUMNS) - 1)),
                key=GROUP_KEY + media_type,
            )
            for s in group:
                table.add_row(
                    Text(s.item.label),
                    Text(s.collection_name),
                    bar(s.progress.fraction_done, failed=s.progress.failed > 0),
                    counts(s),
                    key=s.item.id,
                )
        which = "Active items" if self.active_only else "All items"
        other = "all" if self.active_only else "active only"
        title = f"{which}: {len(shown)}"
        if self.name_filter:
            title += f" matching '{self.name_filter}'"
        self.query_one("#title", Static).update(f"{title}   (Tab: {other})")
        if current is not None and current in table.rows:
            table.move_cursor(row=table.get_row_index(current))
        elif table.row_count > 1:
            table.move_cursor(row=1)

    def current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_toggle_all(self) -> None:
        self.active_only = not self.active_only
        self.reload()

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("shown")
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.remove_class("shown")
        self.query_one(DataTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.name_filter = event.value.strip()
            self.show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value.strip():
                event.input.remove_class("shown")
            self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None or key.startswith(GROUP_KEY):
            return
        from apollonia.tui.screens.item import ItemScreen  # noqa: PLC0415

        self.app.push_screen(ItemScreen(key))

    def action_new_item(self) -> None:
        from apollonia.tui.screens.create import CreateMediaScreen  # noqa: PLC0415

        self.app.push_screen(CreateMediaScreen())

    def action_new_source(self) -> None:
        from apollonia.tui.screens.create import CreateSourceScreen  # noqa: PLC0415

        self.app.push_screen(CreateSourceScreen())

    def action_new_collection(self) -> None:
        from apollonia.tui.screens.create import CreateCollectionScreen  # noqa: PLC0415

        self.app.push_screen(CreateCollectionScreen())
