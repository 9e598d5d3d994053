"""The forms: a source, a collection and a wanted media item, each created, and each refused
in the CLI's words with nothing written (a path that is a file, a collection outside its
source, a TV item without a season)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select

from apollonia.tui.app import ApolloniaApp
from apollonia.tui.screens.create import (
    CreateCollectionScreen,
    CreateMediaScreen,
    CreateSourceScreen,
    FormScreen,
)
from apollonia.tui.screens.landing import LandingScreen
from consumer.service_layer import media, queries
from tests.tui.conftest import Library, loaded, started
from tests.wait import until

pytestmark = pytest.mark.integration


async def fill(pilot: Pilot[None], screen: FormScreen, **values: str) -> None:
    for field, value in values.items():
        screen.query_one(f"#{field}", Input).value = value
    await pilot.pause()


def problem(screen: FormScreen) -> str:
    return str(screen.query_one("#problem", Label).render())


async def submit_refused(app: ApolloniaApp, pilot: Pilot[None], screen: FormScreen) -> str:
    await pilot.press("ctrl+s")
    await until(lambda: problem(screen) != "", what="the refusal")
    assert app.screen is screen  # still in the form
    return problem(screen)


async def submitted(app: ApolloniaApp, pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+s")
    await until(lambda: isinstance(app.screen, LandingScreen), what="back on the landing")


async def test_a_source_created_and_a_file_refused_as_its_root(
    library: Library, tmp_path: Path
) -> None:
    app = library.app()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder\n")
    (tmp_path / "more").mkdir()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app)
        await pilot.press("s")
        form = await loaded(app, CreateSourceScreen)
        await fill(pilot, form, name="Elsewhere", path=str(a_file))
        said = await submit_refused(app, pilot, form)
        assert "not a folder" in said and str(a_file) in said
        assert [s.source.name for s in await queries.list_sources(library.catalog)] == ["Library"]
        await fill(pilot, form, path=str(tmp_path / "more"))
        await submitted(app, pilot)
    names = sorted(s.source.name for s in await queries.list_sources(library.catalog))
    assert names == ["Elsewhere", "Library"]


async def test_a_collection_created_and_one_outside_its_source_refused(
    library: Library, tmp_path: Path
) -> None:
    app = library.app()
    inside = library.root / "docs"
    inside.mkdir()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app)
        await pilot.press("c")
        form = await loaded(app, CreateCollectionScreen)
        (source,) = await queries.list_sources(library.catalog)
        form.query_one("#source", Select).value = source.source.uuid
        await fill(pilot, form, name="Docs", path=str(tmp_path))
        said = await submit_refused(app, pilot, form)
        assert said == (
            f"collection root {tmp_path} is outside the root {library.root} of source 'Library'"
        )
        listed = await queries.list_collections(library.catalog)
        assert "Docs" not in {c.collection.name for c in listed}
        await fill(pilot, form, path=str(inside))
        await submitted(app, pilot)
    names = {c.collection.name for c in await queries.list_collections(library.catalog)}
    assert names == {"Docs", "Films", "TV"}


async def test_a_wanted_season_needs_its_season_number(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app)
        await pilot.press("n")
        form = await loaded(app, CreateMediaScreen)
        tv = await queries.find_collection(library.catalog, "TV")
        form.query_one("#collection", Select).value = tv.uuid
        form.query_one("#type", Select).value = "tv"
        await fill(pilot, form, name="Serenity Again")
        said = await submit_refused(app, pilot, form)
        assert said == "a TV item is one season: give --season N for 'Serenity Again'"
        before = await media.list_media(library.catalog, active_only=False)
        assert "Serenity Again" not in {s.item.name for s in before}
        await fill(pilot, form, season="2")
        await submitted(app, pilot)
    after = await media.list_media(library.catalog, active_only=False)
    added = [s.item for s in after if s.item.name == "Serenity Again"]
    assert [(i.media_type, i.season) for i in added] == [("tv", 2)]
