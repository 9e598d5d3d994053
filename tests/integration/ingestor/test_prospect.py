"""The prospector on real files: vanished or unreadable files are skipped, never published with
empty hashes; the same batch still publishes the good ones."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import xxhash
from structlog.testing import capture_logs

from apollonia.settings import sqlite_url
from ingestor.config import PipelineConfig
from ingestor.prospect import Hashed, Prospector, Skipped, Unchanged
from ingestor.records import FileState, StatInfo
from shared.hashing import Hasher
from tests.integration.ingestor.conftest import SETTLE, embedded, until, write

pytestmark = pytest.mark.integration


async def test_outcomes_for_good_vanished_odd_and_cached_files(tmp_path: Path) -> None:
    good, cached, fifo = tmp_path / "movie.mkv", tmp_path / "movie.nfo", tmp_path / "pipe"
    write(good, b"good content")
    write(cached, b"cached content")
    os.mkfifo(fifo)
    st = StatInfo.from_stat(cached.stat())
    known = {
        bytes(cached): FileState(
            bytes(cached), st.device, st.inode, st.size, st.mtime_ns, "c" * 64, "d" * 32
        )
    }
    hasher = Hasher(2)
    try:
        outcomes = await Prospector(hasher).prospect(
            [bytes(good), bytes(tmp_path / "vanished.mkv"), bytes(fifo), bytes(cached)], known
        )
        forced = await Prospector(hasher).prospect([bytes(cached)], known, force={bytes(cached)})
    finally:
        hasher.close()
    hashed, vanished, odd, unchanged = outcomes
    assert isinstance(hashed, Hashed)
    assert hashed.fingerprint.sha256 == hashlib.sha256(b"good content").hexdigest()
    assert hashed.fingerprint.xxh128 == xxhash.xxh3_128(b"good content").hexdigest()
    assert hashed.neighbors == [bytes(cached)]
    assert isinstance(vanished, Skipped) and vanished.reason == "vanished"
    assert isinstance(odd, Skipped) and odd.reason == "not_regular"
    assert isinstance(unchanged, Unchanged)  # same size and mtime as cached: not read
    assert isinstance(forced[0], Hashed)  # unless the kernel reported a write


async def test_a_file_that_vanishes_before_it_is_read_is_logged_and_skipped(
    data_dir: Path, config_dir: Path
) -> None:
    config = PipelineConfig(
        roots=(bytes(data_dir),),
        ingestor_id="t",
        watch_mode="inotify",
        settle_seconds=SETTLE,
        reconcile_interval=0,
    )
    with capture_logs() as logs:
        await vanish_while_queued(data_dir, config_dir, config)
    assert any(
        entry["event"].startswith("file vanished") and entry["file_path"].endswith("small.mkv")
        for entry in logs
    )


async def vanish_while_queued(data_dir: Path, config_dir: Path, config: PipelineConfig) -> None:
    async with embedded(config, sqlite_url(config_dir / "state.db"), hash_workers=1) as (
        pipeline,
        sink,
    ):
        big, small = data_dir / "big.bin", data_dir / "small.mkv"
        with open(big, "wb") as handle:
            handle.truncate(1 << 30)  # keeps the only hash worker busy for a while
        await until(lambda: pipeline.is_in_flight(bytes(big)), what="the big file in flight")
        write(small, b"short-lived")
        await until(lambda: pipeline.is_in_flight(bytes(small)), what="the small file in flight")
        small.unlink()  # settled, handed to the prospector, then gone before it is read
        await until(lambda: len(sink.events) == 1, what="the big file's event")
        await pipeline.wait_idle()
        assert pipeline.stats.skipped["vanished"] == 1
    assert [e.file_path for e in sink.events] == [str(big)]
    assert all(e.sha256_hash and e.xxh128_hash for e in sink.events)
