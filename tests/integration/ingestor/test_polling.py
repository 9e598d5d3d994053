"""Polling, root safety, the watch limit and queue overflow."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from asyncinotify import Inotify, Mask, Watch
from prometheus_client import REGISTRY

from apollonia.settings import sqlite_url
from ingestor.config import PipelineConfig
from ingestor.service import IngestorService
from tests.integration.ingestor.conftest import (
    SETTLE,
    BrokerTap,
    SettingsFactory,
    embedded,
    idle,
    running,
    until,
    write,
)

pytestmark = pytest.mark.integration


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


Step = tuple[str, str, str | None, str | None]


async def scenario(service: IngestorService, root: Path, tap: BrokerTap) -> list[list[Step]]:
    """Create, modify, move, delete; the events of each step, relative to the root."""

    def rel(path: str | None) -> str | None:
        return None if path is None else os.path.relpath(path, root)

    async def step(count: int) -> list[Step]:
        got = await tap.collect(count)
        return sorted(
            (
                r.event.kind,
                rel(r.event.file_path) or "",
                rel(r.event.from_path),
                r.event.sha256_hash,
            )
            for r in got
        )

    steps = []
    (root / "sub").mkdir()
    write(root / "sub" / "x.mkv", b"x content")
    write(root / "sub" / "y.mkv", b"y content")
    steps.append(await step(2))
    write(root / "sub" / "x.mkv", b"x content, edited")
    steps.append(await step(1))
    os.rename(root / "sub" / "y.mkv", root / "z.mkv")
    steps.append(await step(1))
    (root / "sub" / "x.mkv").unlink()
    steps.append(await step(1))
    await idle(service)
    assert await tap.drain() == []
    return steps


async def test_polling_mode_yields_the_same_events_as_inotify(
    make_settings: SettingsFactory, tmp_path: Path, tap: BrokerTap, config_dir: Path
) -> None:
    results = {}
    for mode in ("inotify", "poll"):
        root = tmp_path / mode
        root.mkdir()
        settings = make_settings(
            data_directory=[root],
            watch_mode=mode,
            state_database_url=sqlite_url(config_dir / f"{mode}.db"),
        )
        async with running(settings) as service:
            assert [u.mode for u in service.pipeline.units] == [mode]  # type: ignore[union-attr]
            results[mode] = await scenario(service, root, tap)
    assert results["poll"] == results["inotify"]
    assert [s[0] for s in results["inotify"]] == [
        ("created", "sub/x.mkv", None, sha(b"x content")),
        ("modified", "sub/x.mkv", None, sha(b"x content, edited")),
        ("moved", "z.mkv", "sub/y.mkv", sha(b"y content")),
        ("deleted", "sub/x.mkv", None, sha(b"x content, edited")),
    ]


@pytest.mark.parametrize("mode", ["poll", "inotify"])
async def test_a_missing_or_emptied_root_publishes_no_deletions(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap, tmp_path: Path, mode: str
) -> None:
    for i in range(3):
        write(data_dir / f"m{i}.mkv", f"movie {i}".encode())
    async with running(make_settings(watch_mode=mode)) as service:
        pipeline = service.pipeline
        assert pipeline is not None
        await tap.collect(3)
        await idle(service)

        # The mount disappears (the folder is gone): nothing is deleted.
        away = tmp_path / "unmounted"
        os.rename(data_dir, away)
        rescans = pipeline.stats.rescans
        await until(lambda: pipeline.stats.rescans >= rescans + 2 or mode == "inotify")
        await idle(service)
        assert await tap.drain() == []
        os.rename(away, data_dir)  # ...and comes back: still nothing to publish
        await until(lambda: pipeline.stats.rescans >= rescans + 1, what="a rescan")
        await idle(service)
        assert await tap.drain() == []
        assert pipeline.units and pipeline.units[0].root == bytes(data_dir)

        # The root is there but empty after it held files: a glitch, not a mass delete.
        if mode == "poll":
            stash = tmp_path / "stash"
            stash.mkdir()
            for i in range(3):
                shutil.move(data_dir / f"m{i}.mkv", stash / f"m{i}.mkv")
            rescans = pipeline.stats.rescans
            await until(lambda: pipeline.stats.rescans >= rescans + 2, what="two polls")
            await idle(service)
            assert await tap.drain() == []
            assert pipeline.stats.suppressed_deletions >= 3


class LimitedInotify(Inotify):
    """Real inotify whose watch limit is reached after a few directories (like a host whose
    fs.inotify.max_user_watches is exhausted)."""

    limit = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.added: set[int] = set()

    def add_watch(self, path: Any, mask: Mask) -> Watch:
        if len(self.added) >= self.limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        watch = super().add_watch(path, mask)
        self.added.add(watch.wd)
        return watch


async def test_when_the_watch_limit_is_reached_the_root_is_polled(
    data_dir: Path, config_dir: Path
) -> None:
    for name in ("a", "b", "c"):
        (data_dir / name / "deep").mkdir(parents=True)
    config = PipelineConfig(
        roots=(bytes(data_dir),),
        ingestor_id="t",
        watch_mode="inotify",
        settle_seconds=SETTLE,
        poll_interval=0.3,
        reconcile_interval=0,
    )
    async with embedded(
        config, sqlite_url(config_dir / "state.db"), inotify_factory=LimitedInotify
    ) as (pipeline, sink):
        await until(lambda: [u.mode for u in pipeline.units] == ["poll"], what="fallback")
        assert pipeline.watch_count == 0
        write(data_dir / "c" / "deep" / "found.mkv", b"found by polling")
        await until(lambda: len(sink.events) == 1, what="the polled file")
        await pipeline.wait_idle()
    (event,) = sink.events
    assert event.file_path == str(data_dir / "c" / "deep" / "found.mkv")
    assert event.sha256_hash == sha(b"found by polling")


def overflow_count() -> float:
    return REGISTRY.get_sample_value("apollonia_ingestor_inotify_overflows_total") or 0.0


async def test_an_overflowing_inotify_queue_is_recovered_by_a_rescan(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    queued = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    count = queued // 3 + 1000  # create, modify and close per file: more events than fit
    async with running(make_settings()) as service:
        before = overflow_count()
        # The event loop is blocked while the files are written, so nobody reads the queue.
        for i in range(count):
            write(data_dir / f"o{i:05d}.dat", b"%d" % i)
        got = await tap.collect(count)
        await idle(service)
        assert await tap.drain() == []
    assert overflow_count() > before
    assert len({r.event.file_path for r in got}) == count
