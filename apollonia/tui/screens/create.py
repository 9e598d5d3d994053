"""Forms for a source, a collection and a wanted media item. Each calls the function the CLI's
`add` command calls, so the validation and its messages are the CLI's: a bad path is refused
in the form and nothing is written."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from apollonia.tui import actions
from apollonia.tui.screens.base import CatalogScreen, error_text


def row(label: str, field: Widget) -> Horizontal:
    """A label and its field on one line (a form fits 80x24)."""
    return Horizontal(Label(label, classes="label"), field, classes="row")


class FormScreen(CatalogScreen):
    """A form: Enter in the last field or ctrl+s submits; Escape goes back unchanged."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Cancel"),
        Binding("ctrl+s", "submit", "Create"),
    ]
    TITLE_TEXT = ""
    AUTO_FOCUS = "Input, Select"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="form"):
            yield Static(self.TITLE_TEXT, classes="title")
            yield from self.fields()
            yield Label("", id="problem", classes="problem", markup=False)
            yield Button("Create", id="create", variant="primary")
        yield Footer()

    def fields(self) -> ComposeResult:
        yield from ()

    def value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def choice(self, field_id: str) -> Any:
        value = self.query_one(f"#{field_id}", Select).value
        return None if value is Select.NULL else value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_submit()

    def action_submit(self) -> None:
        self.query_one("#problem", Label).update("")
        self._submit()

    @work(exclusive=True, group="submit")
    async def _submit(self) -> None:
        try:
            message = await self.create()
        except Exception as exc:
            self.refuse(error_text(exc))
            return
        if message is None:
            return
        self.notify(message)
        self.app.pop_screen()

    def refuse(self, text: str) -> None:
        self.query_one("#problem", Label).update(text)

    async def create(self) -> str | None:
        """Create the thing; the message to show, or None when refused in the form already."""
        raise NotImplementedError


class CreateSourceScreen(FormScreen):
    TITLE_TEXT = "New source (filesystem)"

    def fields(self) -> ComposeResult:
        yield row("Name", Input(id="name", placeholder="Media"))
        yield row("Root folder", Input(id="path", placeholder="/mnt/media"))

    async def create(self) -> str | None:
        name, path = self.value("name"), self.value("path")
        source = await self.call(lambda c: actions.create_source(c, name=name, path=path))
        return f"Added source '{source.name}' ({source.uuid})"


class CreateCollectionScreen(FormScreen):
    TITLE_TEXT = "New collection"

    def fields(self) -> ComposeResult:
        yield row("Source", Select[str]([], id="source", prompt="choose a source"))
        yield row("Name", Input(id="name", placeholder="Movies"))
        yield row("Root folder", Input(id="path", placeholder="/mnt/media/Movies"))
        yield row(
            "Enrichers",
            Input(id="enrichers", value="filename:10, ffprobe:20", placeholder="ID:PRIORITY, ..."),
        )

    async def load(self) -> None:
        found = await self.call(actions.sources)
        self.query_one("#source", Select).set_options(
            [(s.source.name, s.source.uuid) for s in found]
        )

    def on_screen_resume(self) -> None:
        """Only loaded once: a refresh would drop the operator's choice."""

    async def create(self) -> str | None:
        source = self.choice("source")
        if source is None:
            self.refuse("Choose a source (create one first with `s` on the landing).")
            return None
        name, path = self.value("name"), self.value("path")
        enrichers = [e.strip() for e in self.value("enrichers").split(",") if e.strip()]
        settings = self.apollonia.backend.settings
        collection = await self.call(
            lambda c: actions.create_collection(
                c, settings, source=source, name=name, path=path, enrichers=enrichers
            )
        )
        return f"Added collection '{collection.name}' ({collection.uuid}) at {collection.root_path}"

    def reload(self) -> None:
        if not getattr(self, "_loaded", False):
            self._loaded = True
            super().reload()


class CreateMediaScreen(FormScreen):
    """A wanted movie or TV season: its files attach to it when they arrive."""

    TITLE_TEXT = "New media item (a movie, or a TV season)"

    def fields(self) -> ComposeResult:
        yield row("Collection", Select[str]([], id="collection", prompt="choose a collection"))
        yield row(
            "Type", Select[str]([("movie", "movie"), ("TV season", "tv")], id="type", value="movie")
        )
        yield row("Name", Input(id="name", placeholder="Alien"))
        yield row("Year", Input(id="year", placeholder="1979", type="integer"))
        yield row("Season (TV)", Input(id="season", placeholder="1", type="integer"))

    async def load(self) -> None:
        found = await self.call(actions.collections)
        self.query_one("#collection", Select).set_options(
            [(c.collection.name, c.collection.uuid) for c in found]
        )

    def reload(self) -> None:
        if not getattr(self, "_loaded", False):
            self._loaded = True
            super().reload()

    def number(self, field_id: str) -> int | None:
        text = self.value(field_id)
        return int(text) if text.lstrip("-").isdigit() else None

    async def create(self) -> str | None:
        collection = self.choice("collection")
        if collection is None:
            self.refuse("Choose a collection (create one first with `c` on the landing).")
            return None
        media_type = self.choice("type") or "movie"
        name = self.value("name")
        year, season = self.number("year"), self.number("season")
        item = await self.call(
            lambda c: actions.create_media(
                c, collection=collection, media_type=media_type, name=name, year=year, season=season
            )
        )
        return f"Added media item '{item.label}' ({item.id}): its files attach when they arrive"
