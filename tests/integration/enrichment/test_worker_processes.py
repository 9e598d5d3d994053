"""Real worker processes on one SQLite catalog: two of them never run the same job, and a worker
SIGKILLed mid-job leaves a job the next worker takes once its lease has run out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.integration.enrichment.helpers import copy, rows
from tests.media import media, needs_ffmpeg

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends, needs_ffmpeg]
__all__ = ["media"]
Media = Callable[[str], Path]


@contextmanager
def worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "enricher"],
        env={**os.environ, "APOLLONIA_ENRICHMENT_POLL_INTERVAL": "0.2", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.2)


def setup(root: Path) -> None:
    assert (
        run_cli("source", "add", "--type", "filesystem", "--name", "L", "--path", str(root)).code
        == 0
    )
    assert run_cli(
        "collection", "add", "--source", "L", "--name", "F", "--path", str(root),
        "--enricher", "ffprobe:1",
    ).code == 0  # fmt: skip


def test_two_worker_processes_never_run_the_same_job(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    for n in range(8):
        copy(media("movie.mkv"), root / f"film{n}.mkv")
    setup(root)
    assert run_cli("collection", "ingest", "F").code == 0
    db = cli_catalog_ref
    env = {"APOLLONIA_ENRICHMENT_CONCURRENCY": "2"}
    with (
        worker({**env, "APOLLONIA_INGESTOR_ID": "one"}),
        worker({**env, "APOLLONIA_INGESTOR_ID": "two"}),
    ):
        wait_for(lambda: rows(db, "SELECT count(*) FROM assets WHERE state = 'ready'") == [(8,)])
    claims = rows(
        db, "SELECT job_uuid, count(*) FROM job_logs WHERE message LIKE 'claimed by%' GROUP BY 1"
    )
    assert len(claims) == 8 and all(n == 1 for _, n in claims)
    assert rows(db, "SELECT count(*), count(DISTINCT job_uuid) FROM enrichment_results") == [(8, 8)]


def test_a_worker_killed_mid_job_leaves_it_to_the_next_one(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    copy(media("movie.mkv"), root / "film.mkv")
    setup(root)
    assert run_cli("collection", "ingest", "F").code == 0
    db = cli_catalog_ref
    hang = tmp_path / "ffprobe-that-hangs"
    hang.write_text("#!/bin/sh\nexec sleep 5\n")  # ends by itself: the killed worker cannot
    hang.chmod(0o755)
    lease = {"APOLLONIA_ENRICHMENT_LEASE_SECONDS": "1"}
    with worker({**lease, "APOLLONIA_FFPROBE_PATH": str(hang)}) as doomed:
        wait_for(lambda: rows(db, "SELECT status FROM jobs") == [("in_progress",)])
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    assert rows(db, "SELECT state FROM assets") == [("enriching",)]
    with worker(lease):
        wait_for(lambda: rows(db, "SELECT state FROM assets") == [("ready",)])
    claims = rows(db, "SELECT count(*) FROM job_logs WHERE message LIKE 'claimed by%'")
    assert claims == [(2,)]
    assert rows(db, "SELECT status, attempt FROM jobs") == [("completed", 1)]
