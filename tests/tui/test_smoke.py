from __future__ import annotations

from apollonia.tui.screens.item import ItemScreen
from apollonia.tui.screens.landing import LandingScreen
from tests.tui.conftest import Library, loaded


async def test_screens(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(80, 24)) as pilot:
        s = await loaded(app, LandingScreen)
        await pilot.press("down", "down", "down", "down", "down")
        await pilot.press("enter")
        await pilot.pause(0.5)
        print(app.screen, s.last_error, s.current_key())
        await loaded(app, ItemScreen)
        await pilot.pause(0.5)
        app.save_screenshot("item.svg", "/tmp/i14b_shots")
