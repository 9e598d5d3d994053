"""`ingestor.arrivals`: files a new directory's listing found, claimed by an unpaired rename."""

from __future__ import annotations

import pytest

from ingestor import arrivals
from ingestor.arrivals import Arrivals, is_listing
from ingestor.observations import Seen
from ingestor.records import FileState, StatInfo


def st(inode: int, size: int = 10, mtime: int = 5, device: int = 1) -> StatInfo:
    return StatInfo(size, mtime, mtime, mtime, inode, device)


def gone(path: bytes, inode: int | None, size: int = 10, mtime: int = 5) -> FileState:
    return FileState(path, 1, inode, size, mtime, "a" * 64, "b" * 32)


def test_a_file_found_again_is_claimed_once_by_its_inode_size_and_mtime() -> None:
    found = Arrivals()
    found.note(b"/r/new/e01.mkv", st(42), now=100.0)
    assert found.claim(gone(b"/r/old/e01.mkv", 42), now=100.5) == (b"/r/new/e01.mkv", st(42))
    assert found.claim(gone(b"/r/old/e01.mkv", 42), now=100.6) is None
    assert len(found) == 0


@pytest.mark.parametrize(
    "vanished",
    [
        gone(b"/r/old/e01.mkv", 43),  # another inode
        gone(b"/r/old/e01.mkv", 42, size=11),  # same inode, other content
        gone(b"/r/old/e01.mkv", None),  # a row without an inode
        gone(b"/r/new/e01.mkv", 42),  # the same path: not a move
    ],
    ids=["other-inode", "other-content", "no-inode", "same-path"],
)
def test_nothing_else_claims_it(vanished: FileState) -> None:
    found = Arrivals()
    found.note(b"/r/new/e01.mkv", st(42), now=100.0)
    assert found.claim(vanished, now=100.1) is None
    assert len(found) == 1


def test_arrivals_are_forgotten_after_a_while_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    found = Arrivals()
    found.note(b"/r/new/a.mkv", st(1), now=100.0)
    assert found.claim(gone(b"/r/old/a.mkv", 1), now=100.0 + arrivals.KEEP_SECONDS + 1) is None
    monkeypatch.setattr(arrivals, "MOST", 3)
    for i in range(5):
        found.note(f"/r/new/{i}.mkv".encode(), st(10 + i), now=200.0)
    assert len(found) == 3
    assert found.claim(gone(b"/r/old/0.mkv", 10), now=200.0) is None  # the oldest went first
    assert found.claim(gone(b"/r/old/4.mkv", 14), now=200.0) is not None


def test_only_a_new_directorys_listing_is_an_arrival() -> None:
    assert is_listing(Seen(b"/r/d/f", "scan", "IN_CREATE"))
    assert is_listing(Seen(b"/r/d/f", "scan", "IN_MOVED_TO"))
    assert not is_listing(Seen(b"/r/d/f", "scan", "rescan"))
    assert not is_listing(Seen(b"/r/d/f", "closed", "IN_MOVED_TO"))
