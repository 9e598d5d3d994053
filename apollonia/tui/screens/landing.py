"""The landing: media items grouped by type, each with a progress bar and its counts. Active
items only by default (anything not yet approved, with a job pending, running or failed, or
changed recently); `Tab` shows all, `/` filters by name, Enter opens an item."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Span, Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from apollonia.tui import actions, progress
from apollonia.tui.screens.base import CatalogScreen
from apollonia.tui.table import BulkTable

if TYPE_CHECKING:
    from consumer.service_layer.media import MediaSummary

GROUPS = (("movie", "Movies"), ("tv", "TV seasons"))
GROUP_KEY = "group:"


# A row is one cell, its fields in fixed widths under one heading: the table measures and
# formats every cell each time it is built, and with 5,000 items a cell per column was most of
# the landing's drawing.
ITEM_HEADING = "Item"
COLLECTION_HEADING = "Collection"
PROGRESS_HEADING = "Progress"
COUNTS_HEADING = "Files  Work Ready  Appr  Fail"
GAP = "  "


def counts(summary: MediaSummary) -> str:
    """Files, in work (new or enriching), ready, approved, failed."""
    p = summary.progress
    values = (p.total, p.new + p.enriching, p.ready, p.approved, p.failed)
    return f"{values[0]:>5}" + "".join(f"{v:>6}" for v in values[1:])


class Fields:
    """The widths of a row's fields, from the names shown (as wide as the widest)."""

    def __init__(self, shown: Iterable[MediaSummary], titles: Iterable[str] = ()) -> None:
        labels, collections = {ITEM_HEADING, *titles}, {COLLECTION_HEADING}
        for summary in shown:
            labels.add(summary.item.label)
            collections.add(summary.collection_name)
        self.item = max(cell_len(label) for label in labels)
        self.collection = max(cell_len(name) for name in collections)
        self.progress = progress.WIDTH + len(" 100%")

    def heading(self) -> str:
        return (
            f"{ITEM_HEADING:<{self.item}}{GAP}{COLLECTION_HEADING:<{self.collection}}{GAP}"
            f"{PROGRESS_HEADING:<{self.progress}}{GAP}{COUNTS_HEADING}"
        )

    def row(self, summary: MediaSummary) -> Text:
        """Item, collection, progress bar (styled as `progress.bar`) and counts."""
        label, collection = summary.item.label, summary.collection_name
        fraction = summary.progress.fraction_done
        left = (
            label
            + " " * (self.item - cell_len(label))
            + GAP
            + collection
            + " " * (self.collection - cell_len(collection))
            + GAP
        )
        start, full = len(left), progress.filled(fraction)
        done = "red" if summary.progress.failed > 0 else "green"
        return Text(
            left + progress.plain(fraction) + GAP + counts(summary),
            spans=[
                Span(start, start + full, done),
                Span(start + full, start + progress.WIDTH, "grey35"),
                # The percentage in the colour of the done part, as `progress.bar` draws it.
                Span(start + progress.WIDTH, start + self.progress, done),
            ],
        )

    def split(self, row: str) -> list[str]:
        """A row's fields as text (the bar left out), by characters: what tests read."""
        collection = self.item + len(GAP)
        counts = collection + self.collection + len(GAP) + self.progress + len(GAP)
        return [
            row[: self.item].rstrip(),
            row[collection : collection + self.collection].rstrip(),
            *(row[counts:].split() or [""] * 5),
        ]


class LandingScreen(CatalogScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "toggle_all", "All/active", priority=True),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("n", "new_item", "New item"),
        Binding("s", "new_source", "New source"),
        Binding("c", "new_collection", "New collection"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.active_only = True
        self.name_filter = ""
        self.items: list[MediaSummary] = []
        self.fields = Fields(())

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading...", id="title", classes="title", markup=False)
        yield Input(placeholder="filter by name (Enter: done, Escape: clear)", id="filter")
        yield BulkTable(id="items", cursor_type="row", zebra_stripes=True)
        yield Footer()

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
        table = self.query_one(BulkTable)
        current = self.current_key()
        shown = self.shown()
        # The column anew each time: its heading follows the widths of the names shown.
        table.clear(columns=True)
        groups = [
            (GROUP_KEY + media_type, f"{heading} ({len(group)})", group)
            for media_type, heading in GROUPS
            if (group := [s for s in shown if s.item.media_type == media_type])
        ]
        self.fields = fields = Fields(shown, (title for _, title, _ in groups))
        table.add_column(fields.heading())
        table.add_rows_at_once(self._rows(groups, fields))
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

    @staticmethod
    def _rows(
        groups: list[tuple[str, str, list[MediaSummary]]], fields: Fields
    ) -> Iterator[tuple[str, tuple[Text]]]:
        row = fields.row
        for key, title, group in groups:
            yield key, (Text(title, style="bold"),)
            for s in group:
                yield s.item.id, (row(s),)

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
