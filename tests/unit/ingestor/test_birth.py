"""`ingestor.birth`: the inode and birth time of a real file, through statx."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ingestor.birth import birth_ns


def test_a_files_inode_and_birth_time(tmp_path: Path) -> None:
    before = time.time_ns()
    path = tmp_path / "x.mkv"
    path.write_bytes(b"x")
    after = time.time_ns()
    born = birth_ns(bytes(path))
    assert born is not None, "this machine's tmp filesystem keeps birth times (ext4, tmpfs)"
    inode, birth = born
    assert inode == os.lstat(path).st_ino
    # The filesystem's clock is the kernel's coarse one: allow a tick either side.
    assert before - 20_000_000 <= birth <= after + 20_000_000


def test_a_rename_or_a_rewrite_keeps_the_birth_time_and_a_new_file_gets_its_own(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.mkv"
    path.write_bytes(b"first")
    first = birth_ns(bytes(path))
    time.sleep(0.05)
    path.write_bytes(b"rewritten in place")
    os.rename(path, tmp_path / "b.mkv")
    assert birth_ns(bytes(tmp_path / "b.mkv")) == first
    (tmp_path / "b.mkv").unlink()
    (tmp_path / "c.mkv").write_bytes(b"another file")
    later = birth_ns(bytes(tmp_path / "c.mkv"))
    assert first is not None and later is not None and later[1] > first[1]


def test_no_birth_for_a_missing_file_or_a_dangling_symlink(tmp_path: Path) -> None:
    assert birth_ns(bytes(tmp_path / "missing.mkv")) is None
    (tmp_path / "link").symlink_to(tmp_path / "missing.mkv")
    born = birth_ns(bytes(tmp_path / "link"))  # the link itself, not followed
    assert born is not None and born[0] == os.lstat(tmp_path / "link").st_ino
