from __future__ import annotations

from tests.tui.conftest import Library


async def test_review_and_jobs_open(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(1)
        await pilot.press("r")
        await pilot.pause(1)
        app.save_screenshot("review.svg", "/tmp/i14b_shots")
        await pilot.press("escape", "j")
        await pilot.pause(1)
        app.save_screenshot("jobs.svg", "/tmp/i14b_shots")
        await pilot.press("enter")
        await pilot.pause(1)
        app.save_screenshot("job.svg", "/tmp/i14b_shots")
