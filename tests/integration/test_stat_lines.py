"""The rescan line written three ways — GNU find over the tree, SQLite's printf over catalog rows,
Python — agrees byte for byte on an awkward tree (consumer/domain/stat_lines.py)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from consumer.domain.stat_lines import FIND_FILE_FORMAT, SQL_LINE, key_of, stat_line

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("find") is None, reason="GNU find is not installed"),
]

# (relative path, size, mtime_ns): whole seconds, nanoseconds with leading zeros, the epoch,
# a far future, an empty file, spaces and shell characters in names, deep folders.
TREE = [
    ("a.mkv", 10, 1_700_000_000_000_000_000),
    ("Show/Season 01/Show - S01E01.mkv", 0, 1_700_000_000_000_000_001),
    ("Show/Season 01/two  spaces & $dollar.mkv", 123_456, 1_600_000_000_123_456_789),
    ("Film (1999)/Film (1999).mkv", 7, 1_000_000_000),
    ("deep/a/b/c/d/e.mkv", 1, 0),
    ("far/future.mkv", 2, 4_102_444_800_999_999_999),
    ("x/semi;colon 'quote'.mkv", 3, 1_234_567_890_000_000_500),
]


def test_find_sqlite_and_python_write_the_same_lines(tmp_path: Path) -> None:
    for rel, size, mtime_ns in TREE:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, ns=(mtime_ns, mtime_ns))

    out = subprocess.run(
        ["find", str(tmp_path), "-type", "f", "-printf", FIND_FILE_FORMAT],
        capture_output=True,
        check=True,
        env={"LC_ALL": "C", "PATH": os.environ.get("PATH", os.defpath)},
    ).stdout.decode()
    from_find = set(out.split("\0")[:-1])

    from_python = {stat_line(size, mtime_ns, rel) for rel, size, mtime_ns in TREE}
    with sqlite3.connect(":memory:") as conn:
        conn.execute("CREATE TABLE assets (size INTEGER, mtime_ns INTEGER, canonical_key TEXT)")
        conn.executemany("INSERT INTO assets VALUES (?, ?, ?)", [(s, m, r) for r, s, m in TREE])
        from_sqlite = {row[0] for row in conn.execute(f"SELECT {SQL_LINE} FROM assets")}

    assert from_find == from_python == from_sqlite
    assert {key_of(line) for line in from_find} == {rel for rel, _, _ in TREE}


def test_a_changed_mtime_changes_the_line() -> None:
    assert stat_line(1, 1_000_000_001, "a") != stat_line(1, 1_000_000_010, "a")
    assert stat_line(1, 5, "a") == "1 0.0000000050 a"
