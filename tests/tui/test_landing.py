"""The landing and an item's detail, driven by keys on a real catalog: the items by type with
their counts, active only until Tab, the name filter, drilling down to an asset's job and its
logs, and the item's actions (approve / revoke confirmed with the actor and a note, enrich one
asset, ingest the collection)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import DataTable, RichLog

from apollonia.tui.screens.item import ItemScreen
from apollonia.tui.screens.jobs import JobScreen
from apollonia.tui.screens.landing import LandingScreen
from apollonia.tui.screens.modals import ConfirmDecision
from consumer.service_layer import approval, enrichment_ops, media
from tests.tui.conftest import Library, landing_names, landing_rows, loaded, rows
from tests.wait import until

pytestmark = pytest.mark.integration

HEADS = ["Movies (4)", "TV seasons (1)"]


async def test_items_by_type_with_counts(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(100, 30)):
        screen = await loaded(app, LandingScreen)
        # Files, in work (new or enriching), ready, approved, failed.
        assert landing_rows(screen) == [
            ["Movies (4)", "", "", "", "", "", ""],
            ["Alien (1979)", "Films", "1", "0", "1", "0", "0"],
            ["Brazil (1985)", "Films", "1", "0", "1", "0", "0"],
            ["Dune (2021)", "Films", "0", "0", "0", "0", "0"],
            ["Zardoz (1974)", "Films", "1", "0", "0", "0", "1"],
            ["TV seasons (1)", "", "", "", "", "", ""],
            ["Firefly S01", "TV", "3", "0", "3", "0", "0"],
        ]
        assert "Active items: 5" in str(screen.query_one("#title").render())


async def test_tab_shows_the_items_the_active_view_leaves_out(library: Library) -> None:
    page = await media.list_media(library.catalog, active_only=False)
    brazil = next(s for s in page if s.item.name == "Brazil")
    detail = await media.show_media(library.catalog, brazil.item.id)
    await approval.approve(library.catalog, by="bob", asset_ids=[detail.assets[0].asset_id])
    # With no grace for recent changes, a wholly approved item is not active.
    app = library.app(recent=timedelta(0))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(app, LandingScreen)
        names = landing_names(screen)
        assert "Brazil (1985)" not in names
        assert "Alien (1979)" in names
        loads = screen.loads
        await pilot.press("tab")
        await loaded(app, LandingScreen, after=loads)
        table = landing_rows(screen)
        assert ["Brazil (1985)", "Films", "1", "0", "0", "1", "0"] in table
        assert "All items: 5" in str(screen.query_one("#title").render())
        await pilot.press("tab")
        await loaded(app, LandingScreen, after=loads + 1)
        assert "Brazil (1985)" not in landing_names(screen)


async def test_slash_filters_by_name(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await loaded(app, LandingScreen)
        await pilot.press("slash", *"FIRE")
        await until(lambda: len(rows(screen)) == 2)
        assert landing_names(screen) == ["TV seasons (1)", "Firefly S01"]
        assert "matching 'FIRE'" in str(screen.query_one("#title").render())
        await pilot.press("enter")  # back to the table, the filter kept
        await pilot.press("enter")  # opens the one item
        item = await loaded(app, ItemScreen)
        assert item.detail is not None and item.detail.summary.item.name == "Firefly"
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, LandingScreen))
        await pilot.press("escape")  # clears the filter
        await until(lambda: len(rows(screen)) == 7)


async def open_item(app: object, pilot: object, label: str) -> ItemScreen:
    from textual.app import App
    from textual.pilot import Pilot

    assert isinstance(app, App) and isinstance(pilot, Pilot)
    screen = await loaded(app, LandingScreen)
    index = landing_names(screen).index(label)
    screen.query_one(DataTable).move_cursor(row=index)
    await pilot.press("enter")
    return await loaded(app, ItemScreen)


async def test_a_season_in_episode_order_with_its_gap_and_the_logs_below(
    library: Library,
) -> None:
    app = library.app()
    async with app.run_test(size=(100, 30)) as pilot:
        item = await open_item(app, pilot, "Firefly S01")
        assert rows(item) == [
            ["E01", "Firefly - S01E01 - Serenity.mkv", "ready", "passed", "completed"],
            ["E02", "Firefly - S01E02 - The Train Job.mkv", "ready", "passed", "completed"],
            ["E03", "(missing)", "", "", ""],
            ["E04", "Firefly - S01E04 - Shindig.mkv", "ready", "passed", "completed"],
        ]
        assert "Missing: E03" in str(item.query_one("#meta").render())
        await pilot.press("enter")
        job = await loaded(app, JobScreen)
        assert job.detail is not None
        assert job.detail.row.canonical_key == "Firefly/Season 01/Firefly - S01E01 - Serenity.mkv"
        assert any("quality control passed" in line.message for line in job.detail.logs)
        shown = "\n".join(line.text for line in job.query_one("#logs", RichLog).lines)
        assert "quality control passed" in shown


async def test_approve_and_revoke_an_asset_with_confirmation(library: Library) -> None:
    app = library.app(actor="carol")
    async with app.run_test(size=(100, 30)) as pilot:
        item = await open_item(app, pilot, "Alien (1979)")
        loads = item.loads
        await pilot.press("a")
        await until(lambda: isinstance(app.screen, ConfirmDecision))
        question = str(app.screen.query_one("#question").render())
        assert question == "Approve 'Alien (1979)/Alien (1979).mkv' as carol?"
        await pilot.press("escape")  # cancelled: nothing written
        await until(lambda: isinstance(app.screen, ItemScreen))
        asset_id = rows(item) and item.detail and item.detail.assets[0].asset_id
        assert isinstance(asset_id, str)
        assert (await approval.history(library.catalog, asset_id)).approvals == []
        await pilot.press("a")
        await until(lambda: isinstance(app.screen, ConfirmDecision))
        await pilot.press(*"checked", "enter")
        await until(lambda: item.loads > loads and rows(item)[0][2] == "approved")
        await pilot.press("v")
        await until(lambda: isinstance(app.screen, ConfirmDecision))
        await pilot.press(*"audio drift", "enter")
        await until(lambda: rows(item)[0][2] == "ready")
        story = await approval.history(library.catalog, asset_id)
        assert [(r.action.value, r.actor, r.note) for r in story.approvals] == [
            ("approve", "carol", "checked"),
            ("revoke", "carol", "audio drift"),
        ]


async def test_enrich_the_failed_asset_and_ingest_the_collection(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(100, 30)) as pilot:
        item = await open_item(app, pilot, "Zardoz (1974)")
        assert rows(item)[0][2:] == ["new", "FAILED", "failed"]
        said = str(item.query_one("#asset").render())
        assert "QC failed: enricher:ffprobe: ffprobe failed" in said
        before = await enrichment_ops.list_jobs(library.catalog)
        await pilot.press("E")  # retries the failed job and runs it: it fails again
        await until(
            lambda: (
                item.detail is not None
                and item.detail.assets[0].job_id not in {j.job.uuid for j in before}
            ),
            what="a new attempt",
        )
        jobs = await enrichment_ops.list_jobs(library.catalog)
        zardoz = [j for j in jobs if j.canonical_key == "Zardoz (1974)/Zardoz (1974).mkv"]
        assert sorted(j.job.attempt for j in zardoz) == [1, 2]
        runs = len(await library_runs(library))

        async def ingested() -> bool:
            return len(await library_runs(library)) > runs

        await pilot.press("i")
        await until(ingested, what="an ingest run")


async def library_runs(library: Library) -> list[object]:
    async with library.catalog.unit_of_work(read_only=True) as uow:
        return list(await uow.runs.recent(limit=100))
