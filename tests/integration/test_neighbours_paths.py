"""One neighbour rule for every way in: the quick start's episode gets the same neighbours from
`run`'s initial ingest (collection ingest) as from the watcher."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "media"
EPISODE = "Tears of Steel/Season 01/Tears of Steel - S01E01.mkv"


def env_for(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLONIA_")}
    env.update(
        APOLLONIA_CONFIG_DIR=str(config),
        APOLLONIA_LOG_FORMAT="json",
        APOLLONIA_SETTLE_SECONDS="0.3",
    )
    return env


def neighbours(config: Path, root: Path) -> list[str] | None:
    db = config / "apollonia.db"
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT neighbors FROM assets WHERE canonical_key = ? AND is_deleted = 0", (EPISODE,)
        ).fetchone()
    except sqlite3.OperationalError:  # not migrated yet
        return None
    finally:
        conn.close()
    if row is None:
        return None
    return [str(Path(p).relative_to(root)) for p in json.loads(row[0])]


def test_initial_ingest_and_watcher_give_the_same_neighbours(tmp_path: Path) -> None:
    # Through the initial ingest of `run` (the collection-ingest path).
    ingested, config_a = tmp_path / "ingested", tmp_path / "config-a"
    shutil.copytree(EXAMPLES, ingested)
    config_a.mkdir()
    once = subprocess.run(
        [sys.executable, "-m", "apollonia", "run", "--once", "--data", str(ingested)],
        env=env_for(config_a),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert once.returncode == 0, once.stderr
    by_ingest = neighbours(config_a, ingested)
    assert by_ingest == ["Tears of Steel/Season 01/Tears of Steel - S01E01.en.srt"]

    # Through the watcher: the files arrive while `run` is watching.
    watched, config_b = tmp_path / "watched", tmp_path / "config-b"
    watched.mkdir()
    config_b.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "run", "--data", str(watched)],
        env=env_for(config_b),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watching = threading.Event()

    def read_log() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if '"watching"' in line:
                watching.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        assert watching.wait(60), "run never started watching"
        season = watched / "Tears of Steel" / "Season 01"
        season.mkdir(parents=True)
        source = EXAMPLES / "Tears of Steel" / "Season 01"
        shutil.copy(source / "Tears of Steel - S01E01.en.srt", season)
        shutil.copy(source / "Tears of Steel - S01E01.mkv", season)
        deadline = time.monotonic() + 60
        by_watcher = neighbours(config_b, watched)
        while by_watcher is None and time.monotonic() < deadline:
            time.sleep(0.2)
            by_watcher = neighbours(config_b, watched)
    finally:
        proc.terminate()
        proc.wait(60)
        reader.join(10)
        assert proc.stderr is not None
        proc.stderr.close()
    assert by_watcher == by_ingest
