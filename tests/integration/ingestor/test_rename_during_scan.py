"""A folder moved while the ingestor was down, and files in it renamed again while the startup
scan publishes that move: every file keeps its identity (a `moved` chain, never `deleted` +
`created`), and the scan's folder move comes out as one batch."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from apollonia.settings import sqlite_url
from ingestor.config import PipelineConfig
from ingestor.pipeline import Pipeline
from ingestor.records import FileState
from ingestor.sink import ListSink
from ingestor.state import StateDatabase
from shared.hashing import Hasher
from shared.schemas.file_event import FileEvent
from tests.integration.ingestor.conftest import embedded, until, write

pytestmark = pytest.mark.integration

FILES = 300
SETTLE = 0.3


class RenamingSink(ListSink):
    """Renames files the moment the first batch of the second run is submitted: while the scan's
    move is being published, whatever the pipeline's pace."""

    def __init__(self, renames: Sequence[tuple[Path, Path]]) -> None:
        super().__init__()
        self.renames = list(renames)

    async def submit(self, events: Sequence[FileEvent]) -> None:
        for src, dst in self.renames:
            os.rename(src, dst)
        self.renames = []
        await super().submit(events)


class RenamingState(StateDatabase):
    """The real state database; the first time the startup scan reads what it knows, files are
    renamed: after the scan walked the folder, before its findings are applied."""

    def __init__(self, url: str, renames: Sequence[tuple[Path, Path]]) -> None:
        super().__init__(url)
        self.renames = list(renames)

    async def under(self, directory: bytes) -> list[FileState]:
        if self.renames:
            for src, dst in self.renames:
                os.rename(src, dst)
            self.renames = []
            # Give the watcher time to report them first (without the fix that is the race).
            await asyncio.sleep(1.0)
        return await super().under(directory)


def follow(events: Sequence[FileEvent], start: str) -> str:
    """Where a file ends up by its `moved` chain."""
    path = start
    for event in events:
        if event.kind == "moved" and event.from_path == path:
            path = event.file_path
    return path


def config_for(data_dir: Path) -> PipelineConfig:
    return PipelineConfig(
        roots=(bytes(data_dir),),
        ingestor_id="t",
        watch_mode="inotify",
        settle_seconds=SETTLE,
        reconcile_interval=0,
    )


async def catalog_then_move_while_down(data_dir: Path, state_url: str) -> tuple[Path, Path]:
    """A folder of FILES files, all cached by a first run; then renamed while it is down."""
    old, new = data_dir / "Show A", data_dir / "Show B"
    old.mkdir()
    for i in range(FILES):
        write(old / episode(i), f"episode {i}".encode())
    async with embedded(config_for(data_dir), state_url) as (pipeline, sink):
        await until(lambda: len(sink.events) == FILES, what="every file created")
        await pipeline.wait_idle()
    os.rename(old, new)
    return old, new


def episode(i: int) -> str:
    return f"Show - S01E{i:03d}.mkv"


async def every_chain_ends_where_the_file_is(
    sink: ListSink, old: Path, where: dict[int, Path]
) -> None:
    def done() -> bool:
        return all(
            follow(sink.events, str(old / episode(i))) == str(path) for i, path in where.items()
        )

    try:
        await until(done, what="every file's moved chain to end where the file is")
    except AssertionError as exc:
        broken = [(e.kind, e.event_type, e.file_path) for e in sink.events if e.kind != "moved"]
        raise AssertionError(f"{exc}; not moved: {broken[:10]}") from None


async def test_renames_racing_the_startup_scan_keep_every_file(
    data_dir: Path, config_dir: Path
) -> None:
    state_url = sqlite_url(config_dir / "state.db")
    old, new = await catalog_then_move_while_down(data_dir, state_url)
    where = {i: new / episode(i) for i in range(FILES)}
    early = [(new / episode(i), new / f"early {i}.mkv") for i in range(0, 10)]
    during = [(new / episode(i), new / f"during {i}.mkv") for i in range(10, 20)]
    twice = [(new / "during 10.mkv", new / "twice 10.mkv")]
    where.update({i: dst for i, (_, dst) in enumerate([*early, *during])})
    where[10] = twice[0][1]
    racing = RenamingSink([*during, *twice])
    async with embedded(config_for(data_dir), state_url, sink=racing) as (pipeline, sink):
        for src, dst in early:  # at once: while the startup scan walks or publishes
            os.rename(src, dst)
        await until(lambda: not racing.renames, what="the renames during publishing")
        await every_chain_ends_where_the_file_is(sink, old, where)
        await pipeline.wait_idle()

    assert {e.kind for e in sink.events} == {"moved"}
    scan_moves = [
        batch
        for batch in sink.batches
        if any(e.from_path and e.from_path.startswith(f"{old}/") for e in batch)
    ]
    assert len(scan_moves) == 1  # the folder move as one batch
    assert len(scan_moves[0]) == FILES
    assert {e.event_type for e in scan_moves[0]} == {"rescan"}


async def test_a_rename_while_the_scan_runs_waits_for_its_findings(
    data_dir: Path, config_dir: Path
) -> None:
    state_url = sqlite_url(config_dir / "state.db")
    old, new = await catalog_then_move_while_down(data_dir, state_url)
    renames = [(new / episode(i), new / f"early {i}.mkv") for i in range(10)]
    where = {i: new / episode(i) for i in range(FILES)}
    where.update({i: dst for i, (_, dst) in enumerate(renames)})
    state = RenamingState(state_url, renames)
    await state.open()
    hasher = Hasher(2)
    sink = ListSink()
    pipeline = Pipeline(config_for(data_dir), state=state, sink=sink, hasher=hasher)
    await pipeline.start()
    try:
        await until(lambda: not state.renames, what="the renames during the scan")
        await every_chain_ends_where_the_file_is(sink, old, where)
        await pipeline.wait_idle()
    finally:
        await pipeline.stop()
        hasher.close()
        await state.close()
    assert {e.kind for e in sink.events} == {"moved"}
