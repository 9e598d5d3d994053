"""The inotify watcher on its own, with real inotify: what it reports for what happens."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ingestor.observations import Gone, Moved, Observation, Seen
from ingestor.watch import InotifyWatcher
from tests.integration.ingestor.conftest import until, write

pytestmark = pytest.mark.integration


@pytest.fixture
async def watcher() -> AsyncIterator[tuple[InotifyWatcher, list[Observation]]]:
    seen: list[Observation] = []
    w = InotifyWatcher(seen.append, move_window=0.2)
    try:
        yield w, seen
    finally:
        w.close()


async def run_until_quiet(w: InotifyWatcher) -> None:
    task = asyncio.create_task(w.run())
    try:
        await asyncio.sleep(0)
        await until(lambda: w.quiet, what="the watcher to drain its queue")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_events_become_observations(
    watcher: tuple[InotifyWatcher, list[Observation]], tmp_path: Path
) -> None:
    w, seen = watcher
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    assert await w.add_root(bytes(root))
    assert w.watch_count == 2
    write(root / "a" / "x.mkv", b"x")  # create, modify, close
    write(root / ".hidden.mkv", b"h")  # temporary names are not reported
    os.rename(root / "a" / "x.mkv", root / "y.mkv")  # a pair: one move
    os.rename(root / "a", root / "b")  # a directory rename keeps its watch
    (root / "y.mkv").unlink()
    await run_until_quiet(w)
    write(root / "b" / "z.mkv", b"z")  # reported under the directory's new name
    await run_until_quiet(w)
    assert [(type(o).__name__, getattr(o, "event_type", "")) for o in seen] == [
        ("Seen", "IN_CREATE"),
        ("Seen", "IN_MODIFY"),
        ("Seen", "IN_CLOSE_WRITE"),
        ("Moved", "IN_MOVED_TO"),
        ("Moved", "IN_MOVED_TO"),
        ("Gone", "IN_DELETE"),
        ("Seen", "IN_CREATE"),
        ("Seen", "IN_MODIFY"),
        ("Seen", "IN_CLOSE_WRITE"),
    ]
    assert seen[3] == Moved(
        bytes(root / "a" / "x.mkv"), bytes(root / "y.mkv"), False, "IN_MOVED_TO"
    )
    assert seen[4] == Moved(bytes(root / "a"), bytes(root / "b"), True, "IN_MOVED_TO")
    assert seen[5] == Gone(bytes(root / "y.mkv"), False, "IN_DELETE")
    assert isinstance(seen[-1], Seen) and seen[-1].path == bytes(root / "b" / "z.mkv")


async def test_moved_out_is_gone_and_a_rescan_adds_missing_watches(
    watcher: tuple[InotifyWatcher, list[Observation]], tmp_path: Path
) -> None:
    w, seen = watcher
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "d").mkdir(parents=True)
    outside.mkdir()
    assert await w.add_root(bytes(root))
    os.rename(root / "d", outside / "d")  # no other half: gone after the move window
    (root / "late").mkdir()  # its IN_CREATE is still unread when the rescan runs
    assert await w.ensure_watched(bytes(root), [bytes(root), bytes(root / "late")]) == 1
    assert w.watch_count == 3  # root, late, and d (its move is not read yet)
    await run_until_quiet(w)
    assert Gone(bytes(root / "d"), True, "IN_MOVED_FROM") in seen
    assert w.watch_count == 2  # d's watch went with it
    assert not any(isinstance(o, Seen) and o.path.startswith(bytes(outside)) for o in seen)
