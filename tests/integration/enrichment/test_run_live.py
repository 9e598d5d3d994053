"""`apollonia run --data D`, live: a media file dropped into the watched folder reaches `ready`
through the enrichment worker running beside the apply path, with no restart."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.enrichment.helpers import copy
from tests.media import media, needs_ffmpeg

pytestmark = [pytest.mark.integration, needs_ffmpeg]
__all__ = ["media"]


def state_of(db: Path, key: str) -> str | None:
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT state FROM assets WHERE canonical_key = ? AND NOT is_deleted", (key,)
        ).fetchone()
    except sqlite3.OperationalError:  # not migrated yet
        return None
    finally:
        conn.close()
    return None if row is None else str(row[0])


def test_run_brings_a_new_file_to_ready_without_a_restart(
    tmp_path: Path, media: Callable[[str], Path]
) -> None:
    watched, config = tmp_path / "watched", tmp_path / "live-config"
    watched.mkdir()
    config.mkdir()
    clip = media("movie.mkv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLONIA_")}
    env.update(
        APOLLONIA_CONFIG_DIR=str(config),
        APOLLONIA_LOG_FORMAT="json",
        APOLLONIA_SETTLE_SECONDS="0.3",
        APOLLONIA_ENRICHMENT_POLL_INTERVAL="0.2",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "run", "--data", str(watched)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watching = threading.Event()
    log: list[str] = []

    def read_log() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            if '"watching"' in line:
                watching.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    db = config / "apollonia.db"
    try:
        assert watching.wait(60), "run never started watching:\n" + "".join(log[-20:])
        copy(clip, watched / "film.mkv")
        deadline = time.monotonic() + 90
        state = state_of(db, "film.mkv")
        while state != "ready" and time.monotonic() < deadline:
            time.sleep(0.2)
            state = state_of(db, "film.mkv")
        assert state == "ready", "".join(log[-30:])
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        reader.join(10)
        assert proc.stderr is not None
        proc.stderr.close()
    assert code == 0, "".join(log[-30:])
