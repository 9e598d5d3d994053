"""The review queue, driven by keys: what waits (oldest first, with its technical summary and
QC result), approve with one key (the actor asked once per session), a note when wanted, skip,
and a revocation that insists on a note. Checked in the catalog through the service layer."""

from __future__ import annotations

import pytest

from apollonia.tui.screens.modals import AskActor, ConfirmDecision
from apollonia.tui.screens.review import ReviewScreen
from tests.tui.conftest import Library, loaded, rows, started
from tests.wait import until

pytestmark = pytest.mark.integration


async def trail(library: Library, key: str) -> list[tuple[str, str, str | None]]:
    async with library.catalog.unit_of_work(read_only=True) as uow:
        assets = await uow.assets.list_assets(collection_uuid=None, include_deleted=False)
        asset = next(a for a in assets if a.canonical_key == key)
        found = await uow.approvals.for_asset(asset.uuid)
    return [(r.action.value, r.actor, r.note) for r in found]


async def test_the_queue_shows_what_waits_with_its_summary(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await started(app)
        await pilot.press("r")
        screen = await loaded(app, ReviewScreen)
        table = rows(screen)
        files = [r[-1] for r in table]
        # Oldest first (the fixture enriched in key order); not the broken one.
        assert files == [
            "Alien (1979).mkv",
            "Brazil (1985).mp4",
            "Firefly - S01E01 - Serenity.mkv",
            "Firefly - S01E02 - The Train Job.mkv",
            "Firefly - S01E04 - Shindig.mkv",
        ]
        assert table[0][1:7] == ["0:02", "320x240", "h264/aac", "SDR", "passed", ""]
        said = str(screen.query_one("#asset").render())
        assert said.splitlines()[:2] == [
            "Alien (1979)/Alien (1979).mkv  (Films)",
            "Audio eng, subtitles -",
        ]


async def test_approve_skip_and_revoke_by_keys(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await started(app)
        await pilot.press("r")
        screen = await loaded(app, ReviewScreen)
        first = "Alien (1979)/Alien (1979).mkv"
        second = "Brazil (1985)/Brazil (1985).mp4"
        # The first decision asks who decides; the name is kept for the session.
        await pilot.press("a")
        await until(lambda: isinstance(app.screen, AskActor), what="asked for the actor")
        await pilot.press(*"alice", "enter")
        await until(lambda: screen.decided, what="the approval")
        assert await trail(library, first) == [("approve", "alice", None)]
        # Skip leaves the second alone; back on the first, revoking needs a note.
        await pilot.press("s")
        assert await trail(library, second) == []
        await pilot.press("up", "up", "v")
        await until(lambda: isinstance(app.screen, ConfirmDecision), what="the confirmation")
        question = str(app.screen.query_one("#question").render())
        assert question == f"Revoke '{first}' as alice?"
        await pilot.press("enter")  # an empty note is refused in the dialog
        assert isinstance(app.screen, ConfirmDecision)
        assert "needs a note" in str(app.screen.query_one("#problem").render())
        await pilot.press(*"wrong cut", "enter")
        await until(lambda: "revoked" in screen.decided.get(_id(screen, first), ""))
        assert await trail(library, first) == [
            ("approve", "alice", None),
            ("revoke", "alice", "wrong cut"),
        ]
        # The revocation moved on to the next: approve it with a note (`n`), the actor known.
        await until(lambda: screen.current_id() == _id(screen, second))
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, ConfirmDecision))
        await pilot.press(*"looks fine", "enter")
        await until(lambda: _id(screen, second) in screen.decided)
        assert await trail(library, second) == [("approve", "alice", "looks fine")]
        assert screen.query_one("#title").render()
        assert [r[6] for r in rows(screen)][:2] == ["revoked", "approved"]
        await pilot.press("up")
        await until(lambda: "Approved by alice" in str(screen.query_one("#asset").render()))


def _id(screen: ReviewScreen, key: str) -> str:
    return next(uuid for uuid, item in screen.items.items() if item.asset.canonical_key == key)
