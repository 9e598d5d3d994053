"""Screenshots of the main screens at 80x24, compared with the committed ones, which are also
the pictures in docs/tui.md (so the docs show what the UI shows).

After a deliberate change of a screen, write them anew and review the difference:

    APOLLONIA_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/tui/test_snapshots.py

The comparison is of each line's text and styles, with what differs from run to run (ids,
times, process ids, the ffprobe version) masked, and without the pixel positions that follow
from those lengths; the files themselves are Textual's SVG screenshots, unmasked.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from apollonia.tui.app import ApolloniaApp
from apollonia.tui.screens.create import CreateMediaScreen
from apollonia.tui.screens.item import ItemScreen
from apollonia.tui.screens.jobs import JobScreen, JobsScreen
from apollonia.tui.screens.landing import LandingScreen
from apollonia.tui.screens.modals import ConfirmDecision
from apollonia.tui.screens.review import ReviewScreen
from apollonia.tui.screens.runs import RunsScreen
from tests.tui.conftest import Library, landing_names, loaded, rows, started
from tests.wait import until

pytestmark = pytest.mark.integration

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "images" / "tui"
UPDATE = os.environ.get("APOLLONIA_UPDATE_SNAPSHOTS") == "1"
SIZE = (80, 24)

_TEXT = re.compile(r'<text class="([^"]*)"[^>]*?y="([\d.]+)"[^>]*>([^<]*)</text>')
_MASKS = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{8}\b"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\d|\b\d\d-\d\d\b"), "<date>"),
    (re.compile(r"\d\d:\d\d(:\d\d)?"), "<time>"),
    (re.compile(r"pid \d+"), "pid <n>"),
    (re.compile(r"(Worker:|claimed by) \S+"), r"\1 <worker>"),
    (re.compile(r"\(ffprobe [^)]*\)"), "(ffprobe <version>)"),
)


def lines(svg: str) -> list[str]:
    """The screen as text: per line, its segments with their style classes, masked."""
    by_line: dict[str, list[str]] = {}
    for style, y, text in _TEXT.findall(svg):
        plain = html.unescape(text).replace("\xa0", " ")
        for pattern, mask in _MASKS:
            plain = pattern.sub(mask, plain)
        short = re.sub(r"terminal-\d+-", "", style)
        by_line.setdefault(y, []).append(f"{short}:{plain}")
    joined = ["".join(parts) for _, parts in sorted(by_line.items(), key=lambda i: float(i[0]))]
    # Adjacent segments of one style are split where a masked value's length differs.
    return [re.sub(r"\s+", " ", line) for line in joined]


async def settle(pilot: Pilot[None]) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def check(app: ApolloniaApp, name: str) -> None:
    svg = app.export_screenshot(title=f"apollonia tui: {name}")
    target = SHOTS / f"{name}.svg"
    if UPDATE or not target.exists():
        SHOTS.mkdir(parents=True, exist_ok=True)
        target.write_text(svg, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{target} was missing and has been written: review and commit it")
        return
    assert lines(svg) == lines(target.read_text(encoding="utf-8")), (
        f"{name} differs from {target}: if the change is meant, "
        "rerun with APOLLONIA_UPDATE_SNAPSHOTS=1 and review the SVG"
    )


def select_row(app: ApolloniaApp, label: str, column: int = 0) -> None:
    screen = app.screen
    table = screen.query_one(DataTable)
    if isinstance(screen, LandingScreen):
        labels = landing_names(screen)
    else:
        labels = [r[column] for r in rows(screen)]
    index = labels.index(label)
    table.move_cursor(row=index)


async def test_the_main_screens(library: Library) -> None:
    app = library.app(actor="alice")
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await started(app)
        await settle(pilot)
        check(app, "landing")

        select_row(app, "Firefly S01")
        await pilot.press("enter")
        await loaded(app, ItemScreen)
        await settle(pilot)
        check(app, "item")

        await pilot.press("a")
        await until(lambda: isinstance(app.screen, ConfirmDecision))
        await pilot.press(*"checked the pilot")
        await settle(pilot)
        check(app, "confirm")
        await pilot.press("escape", "escape")

        await until(lambda: isinstance(app.screen, LandingScreen))
        await pilot.press("r")
        await loaded(app, ReviewScreen)
        await settle(pilot)
        check(app, "review")
        await pilot.press("escape", "j")

        jobs = await loaded(app, JobsScreen)
        failed = jobs.loads
        await pilot.press("f")
        await loaded(app, JobsScreen, after=failed)
        await pilot.press("enter")
        await loaded(app, JobScreen)
        await settle(pilot)
        check(app, "job")
        await pilot.press("escape", "escape", "u")

        await loaded(app, RunsScreen)
        await settle(pilot)
        check(app, "runs")
        await pilot.press("escape", "n")

        form = await loaded(app, CreateMediaScreen)
        form.query_one("#name", Input).value = "Dune"
        form.query_one("#year", Input).value = "1984"
        await settle(pilot)
        check(app, "create")
