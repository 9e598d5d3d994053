"""Reconciliation: what a scan means against the state database (pure diff + the real walk)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ingestor.reconcile import Scan, diff, scan_tree
from ingestor.records import FileState, StatInfo


def st(size: int, mtime: int, inode: int, device: int = 1) -> StatInfo:
    return StatInfo(size, mtime, mtime, mtime, inode, device)


def known(path: bytes, size: int, mtime: int, inode: int, device: int = 1) -> FileState:
    return FileState(path, device, inode, size, mtime, "a" * 64, "b" * 32)


def scan(files: dict[bytes, StatInfo], **kw: object) -> Scan:
    return Scan(b"/r", dict(files), **kw)  # type: ignore[arg-type]


def test_new_changed_unchanged_vanished() -> None:
    result = diff(
        scan({b"/r/new": st(1, 1, 10), b"/r/same": st(2, 2, 11), b"/r/edit": st(9, 9, 12)}),
        [known(b"/r/same", 2, 2, 11), known(b"/r/edit", 3, 3, 12), known(b"/r/gone", 4, 4, 13)],
    )
    assert [p for p, _ in result.new] == [b"/r/new"]
    assert [p for p, _ in result.changed] == [b"/r/edit"]
    assert result.unchanged == 1
    assert [k.path for k in result.vanished] == [b"/r/gone"]
    assert result.suppressed == []


def test_same_inode_size_and_mtime_elsewhere_is_a_move() -> None:
    result = diff(
        scan({b"/r/b/x.mkv": st(5, 5, 42), b"/r/keep": st(1, 1, 1)}),
        [known(b"/r/a/x.mkv", 5, 5, 42), known(b"/r/keep", 1, 1, 1)],
    )
    assert [(k.path, dst) for k, dst, _ in result.moved] == [(b"/r/a/x.mkv", b"/r/b/x.mkv")]
    assert result.new == [] and result.vanished == []


def test_no_move_when_the_identity_is_ambiguous() -> None:
    result = diff(
        scan({b"/r/b1": st(5, 5, 42), b"/r/b2": st(5, 5, 42), b"/r/keep": st(1, 1, 1)}),
        [known(b"/r/a", 5, 5, 42), known(b"/r/keep", 1, 1, 1)],
    )
    assert result.moved == []
    assert len(result.new) == 2 and [k.path for k in result.vanished] == [b"/r/a"]


# --- changed and moved while nobody watched: the inode, if born before the old path was recorded

RECORDED = 1_800_000_000.0  # when the state database last wrote the old path's row
BEFORE, AFTER = int((RECORDED - 60) * 1e9), int((RECORDED + 60) * 1e9)


def recorded(path: bytes, size: int, mtime: int, inode: int) -> FileState:
    return replace(known(path, size, mtime, inode), recorded_at=RECORDED)


def births(**born: tuple[int, int] | None) -> Callable[[bytes], tuple[int, int] | None]:
    """A birth lookup answering for file names (inode, birth ns); other names: unknown."""
    return lambda path: born.get(os.path.basename(path).decode().replace(".", "_"))


def test_a_file_changed_and_moved_is_a_move_when_its_inode_is_older_than_the_record() -> None:
    result = diff(
        scan({b"/r/b/x.mkv": st(9, 9, 42)}),
        [recorded(b"/r/a/x.mkv", 5, 5, 42)],
        birth=births(x_mkv=(42, BEFORE)),
    )
    assert [(k.path, dst) for k, dst, _ in result.moved] == [(b"/r/a/x.mkv", b"/r/b/x.mkv")]
    assert result.new == [] and result.vanished == []


@pytest.mark.parametrize(
    "born",
    [
        (42, AFTER),  # an inode number reused: the file was created after the old one was seen
        None,  # the filesystem keeps no birth time
        (43, BEFORE),  # the path holds another inode by the time it is asked
    ],
    ids=["reused-inode-number", "no-birth-time", "replaced-meanwhile"],
)
def test_a_changed_file_on_the_same_inode_number_is_not_paired_without_proof(
    born: tuple[int, int] | None,
) -> None:
    result = diff(
        scan({b"/r/b/y.mkv": st(9, 9, 42)}),
        [recorded(b"/r/a/x.mkv", 5, 5, 42)],
        birth=births(y_mkv=born),
    )
    assert result.moved == []
    assert [p for p, _ in result.new] == [b"/r/b/y.mkv"]
    assert [k.path for k in result.vanished] == [b"/r/a/x.mkv"]


def test_changed_files_are_not_paired_when_the_inode_is_ambiguous_or_unknown() -> None:
    lookups: list[bytes] = []

    def birth(path: bytes) -> tuple[int, int] | None:
        lookups.append(path)
        return (42, BEFORE)

    links = diff(  # two new names on one inode (hard links)
        scan({b"/r/b1": st(9, 9, 42), b"/r/b2": st(9, 9, 42)}),
        [recorded(b"/r/a", 5, 5, 42)],
        birth=birth,
    )
    unrecorded = diff(  # a row from before rows said when they were written
        scan({b"/r/b": st(9, 9, 42)}), [known(b"/r/a", 5, 5, 42)], birth=birth
    )
    pure = diff(scan({b"/r/b": st(9, 9, 42)}), [recorded(b"/r/a", 5, 5, 42)])
    assert links.moved == unrecorded.moved == pure.moved == []
    assert lookups == []  # nothing was even asked


def test_a_missing_root_deletes_nothing() -> None:
    result = diff(scan({}, root_missing=True), [known(b"/r/a", 1, 1, 1)])
    assert result.vanished == []
    assert result.suppressed == [(b"/r", "root missing", 1)]


def test_an_empty_root_that_held_files_deletes_nothing() -> None:
    result = diff(scan({}), [known(b"/r/a", 1, 1, 1), known(b"/r/b/c", 1, 1, 2)])
    assert result.vanished == []
    assert result.suppressed_count == 2


def test_an_empty_mount_point_inside_the_root_deletes_nothing_under_it() -> None:
    result = diff(
        scan({b"/r/local/a": st(1, 1, 1)}),
        [known(b"/r/local/a", 1, 1, 1), known(b"/r/local/b", 1, 1, 2), known(b"/r/usb/c", 1, 1, 3)],
        guards=[b"/r/usb"],
    )
    assert [k.path for k in result.vanished] == [b"/r/local/b"]
    assert result.suppressed == [(b"/r/usb", "mount point empty", 1)]


def test_nothing_under_an_unreadable_directory_is_deleted() -> None:
    result = diff(
        scan({b"/r/x": st(1, 1, 1)}, unreadable=[b"/r/locked"]),
        [known(b"/r/x", 1, 1, 1), known(b"/r/locked/y", 1, 1, 2), known(b"/r/z", 1, 1, 3)],
    )
    assert [k.path for k in result.vanished] == [b"/r/z"]
    assert result.suppressed == [(b"/r/locked", "unreadable directory", 1)]


def test_scan_tree_walks_real_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "skip").mkdir()
    (root / "a" / "b" / "x.mkv").write_bytes(b"12345")
    (root / "a" / "y.part").write_bytes(b"1")
    (root / ".hidden" / "z.mkv").write_bytes(b"1")
    (root / "skip" / "w.mkv").write_bytes(b"1")
    (root / "top.flac").write_bytes(b"1")
    (root / "link.mkv").symlink_to(root / "top.flac")
    os.mkfifo(root / "fifo")
    result = scan_tree(bytes(root), exclude=[bytes(root / "skip")])
    assert sorted(result.files) == [bytes(root / "a" / "b" / "x.mkv"), bytes(root / "top.flac")]
    assert result.files[bytes(root / "a" / "b" / "x.mkv")].size == 5
    assert scan_tree(bytes(tmp_path / "missing")).root_missing
