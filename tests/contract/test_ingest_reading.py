"""Collection ingest and what it reads: an unreadable file is an error for that item (its old stat
kept, checked again next time), per-item errors show in the summary and in `run`'s log, and a dry
run reads no file content unless `--hash` asks for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli import Result
from tests.contract.conftest import Library, touch_later

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

EPISODE = "The Show (2005)/Season 01/The Show - S01E01 - Pilot.mkv"


def run_unprivileged(*args: str) -> Result:
    """The CLI as a process that file permissions apply to. Tests run as root here, and root
    reads a mode-000 file: the child drops the two capabilities that let it (uid stays 0, so it
    still reaches the interpreter and the catalog)."""
    command = [sys.executable, "-m", "apollonia", *args]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    env = dict(os.environ)
    env.setdefault("APOLLONIA_LOG_FORMAT", "json")
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def stored_stat(library: Library, key: str) -> tuple[int, int]:
    asset = library.asset(key)
    return asset["size"], asset["mtime_ns"]


def test_unreadable_changed_file_is_an_error_and_keeps_its_old_stat(library: Library) -> None:
    library.setup()
    library.ok("collection", "ingest", "TV")
    before = stored_stat(library, EPISODE)
    episode = library.tv / EPISODE
    touch_later(episode)
    episode.chmod(0)
    try:
        for _ in range(2):  # and the next run checks it again: it was not taken as unchanged
            result = run_unprivileged("collection", "ingest", "TV", "--json")
            assert result.code == 0, result.stderr
            stats = result.json()["stats"]
            assert stats["errors_total"] == 1
            (error,) = stats["errors"]
            assert error["path"] == str(episode)
            assert "cannot read" in error["message"]
            assert stats["assets_skipped"] == len(stats_keys(library)) - 1
            assert stored_stat(library, EPISODE) == before

        human = run_unprivileged("collection", "ingest", "TV")
        assert human.code == 0
        assert "Completed with 1 error" in human.stdout
        assert f"{episode}: cannot read" in human.stdout
    finally:
        episode.chmod(0o644)

    # Readable again, same bytes: now read, and its new stat is what the catalog keeps.
    doc = library.ok("collection", "ingest", "TV")
    assert doc["stats"]["errors_total"] == 0
    assert doc["stats"]["stats_refreshed"] == 1
    st = episode.stat()
    assert stored_stat(library, EPISODE) == (st.st_size, st.st_mtime_ns)


def stats_keys(library: Library) -> list[Any]:
    return library.query("SELECT canonical_key FROM assets WHERE NOT is_deleted")


def test_source_ingest_summary_says_with_errors(library: Library) -> None:
    library.setup()
    library.ok("source", "ingest", "Local")
    episode = library.tv / EPISODE
    touch_later(episode)
    episode.chmod(0)
    try:
        human = run_unprivileged("source", "ingest", "Local")
        as_json = run_unprivileged("source", "ingest", "Local", "--json")
    finally:
        episode.chmod(0o644)
    assert human.code == 0, human.stderr  # the contract's exit code: the collections succeeded
    last = human.stdout.strip().splitlines()[-1]
    assert last.startswith("Source ingest complete: 2 collections processed")
    assert "Success with 1 error" in last
    doc = as_json.json()
    assert doc["status"] == "ok"
    assert doc["total_errors"] == 1


def test_clean_ingest_has_no_error_line(library: Library) -> None:
    library.setup()
    human = library.cli("collection", "ingest", "TV")
    assert human.code == 0
    assert "Completed with" not in human.stdout


def test_run_logs_each_item_error_at_warning(library: Library, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "Film (2001)").mkdir(parents=True)
    (data / "Film (2001)" / "Film (2001).mkv").write_bytes(b"film")
    (data / "Other (2002).mkv").write_bytes(b"other")
    first = run_unprivileged("run", "--once", "--data", str(data))
    assert first.code == 0, first.stderr
    locked = data / "Other (2002).mkv"
    touch_later(locked)
    locked.chmod(0)
    try:
        result = run_unprivileged("run", "--once", "--data", str(data))
    finally:
        locked.chmod(0o644)
    assert result.code == 0, result.stderr
    warnings = [
        line
        for line in map(_json_line, result.stderr.splitlines())
        if line and line.get("level") == "warning"
    ]
    assert any(
        w.get("path") == str(locked) and "cannot read" in str(w.get("error")) for w in warnings
    ), result.stderr


def _json_line(line: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


# --- dry runs ---------------------------------------------------------------------------------


def test_dry_run_reads_no_file_content(library: Library) -> None:
    library.setup()
    doc = library.ok("collection", "ingest", "TV", "--dry-run")
    stats = doc["stats"]
    assert stats["assets_ingested"] == 4 + 1  # would create, every media file
    assert stats["files_hashed"] == 0
    assert stats["bytes_hashed"] == 0
    assert stats["duplicates"] is None  # unknown: the new files' content was not read
    assert set(stats) >= {"duplicates", "files_hashed", "bytes_hashed"}

    human = library.cli("collection", "ingest", "TV", "--dry-run")
    assert human.code == 0
    assert "Duplicates:         unknown without --hash" in human.stdout
    assert "judged by size and modification time, not read" in human.stdout


def test_dry_run_with_hash_reads_and_counts_duplicates(library: Library) -> None:
    library.setup()
    (library.tv / "Other Show" / "Season 1" / "Other.Show.S01E09.mkv").write_bytes(b"other s1e1")
    doc = library.ok("collection", "ingest", "TV", "--dry-run", "--hash")
    stats = doc["stats"]
    assert stats["files_hashed"] == 6
    assert stats["bytes_hashed"] > 0
    assert stats["duplicates"] == 2
    assert library.query("SELECT count(*) FROM assets") == [(0,)]


def test_dry_run_of_an_unchanged_collection_knows_its_duplicates(library: Library) -> None:
    """Nothing new or changed: nothing to read, and the catalog's count is exact."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    doc = library.ok("collection", "ingest", "TV", "--dry-run")
    assert doc["stats"]["bytes_hashed"] == 0
    assert doc["stats"]["duplicates"] == 0


def test_source_dry_run_reads_nothing(library: Library) -> None:
    library.setup()
    doc = library.ok("source", "ingest", "Local", "--dry-run")
    assert doc["total_duplicates"] is None
    for entry in doc["collection_results"]:
        assert entry["stats"]["bytes_hashed"] == 0
    hashed = library.ok("source", "ingest", "Local", "--dry-run", "--hash")
    assert hashed["total_duplicates"] == 0
    assert sum(e["stats"]["bytes_hashed"] for e in hashed["collection_results"]) > 0


@pytest.mark.parametrize("rescan", ["find listing", "python walk"])
def test_file_that_cannot_be_looked_at_is_an_error_not_missing(
    library: Library, tmp_path: Path, rescan: str
) -> None:
    """A symlinked film whose target sits in a folder we may not enter: the asset stays (not
    soft-deleted as missing) and the file is reported, on both listing paths."""
    private = tmp_path / "private"
    private.mkdir()
    (private / "real.mkv").write_bytes(b"linked film")
    link = library.films / "Linked (2003).mkv"
    link.symlink_to(private / "real.mkv")
    library.setup()
    library.ok("collection", "ingest", "Films")
    if rescan == "python walk":  # find complains about an unreadable folder: Python walks
        (library.films / "Locked").mkdir(mode=0)
    private.chmod(0)
    try:
        result = run_unprivileged("collection", "ingest", "Films", "--json")
    finally:
        private.chmod(0o755)
        if rescan == "python walk":
            (library.films / "Locked").chmod(0o755)
    assert result.code == 0, result.stderr
    stats = result.json()["stats"]
    assert stats["assets_missing"] == 0
    assert {"path": str(link), "message": "cannot read: Permission denied"} in stats["errors"]
    assert library.asset("Linked (2003).mkv")["is_deleted"] == 0
