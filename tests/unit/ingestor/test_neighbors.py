"""Neighbour rules of seed 003: which files, in which order, how many."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from ingestor.neighbors import (
    MAX_NEIGHBORS,
    NeighborFinder,
    find_neighbors,
    list_siblings,
    neighbors_for,
    stem_of,
)


def test_the_ingestor_uses_the_shared_rule() -> None:
    """The rule itself is `shared.neighbors` (tests/unit/test_neighbors.py)."""
    import shared.neighbors

    assert find_neighbors is shared.neighbors.find_neighbors
    assert find_neighbors("movie.mkv", ["movie.mkv", "movie.srt", "other.mkv"]) == ["movie.srt"]
    assert MAX_NEIGHBORS == 10


def test_listing_skips_temporary_names_directories_and_symlinks(tmp_path: Path) -> None:
    for name in ("a.mkv", "a.srt", ".a.swp", "a.mkv.part", "a.tmp"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "a.dir").mkdir()
    (tmp_path / "a.link").symlink_to(tmp_path / "a.srt")
    assert sorted(list_siblings(bytes(tmp_path))) == ["a.mkv", "a.srt"]


def test_names_that_are_not_utf8(tmp_path: Path) -> None:
    raw_dir = bytes(tmp_path)
    names = [b"caf\xe9.mkv", b"caf\xe9.srt", b"cafe.mkv", b"cafe notes.txt"]
    for name in names:
        with open(raw_dir + b"/" + name, "wb") as handle:
            handle.write(b"x")
    found = neighbors_for([raw_dir + b"/caf\xe9.mkv"])[raw_dir + b"/caf\xe9.mkv"]
    # cafe.mkv is media (an asset of its own); cafe notes.txt is its companion
    assert found == [raw_dir + b"/caf\xe9.srt"]


@pytest.mark.parametrize(
    "name", ["a.mkv", "a.tar.gz", ".hidden", "noext", "trailing.", "..", "a..b", ".a.b", "x"]
)
def test_stem_matches_pathlib(name: str) -> None:
    assert stem_of(name) == PurePosixPath(name).stem


def test_the_finder_reuses_only_settled_directories(tmp_path: Path) -> None:
    (tmp_path / "a.mkv").write_bytes(b"x")
    (tmp_path / "a.srt").write_bytes(b"x")
    target = bytes(tmp_path / "a.mkv")
    fresh = NeighborFinder(settled_after=3600)  # nothing is old enough: always listed again
    assert fresh.find([target])[target] == [bytes(tmp_path / "a.srt")]
    fresh.find([target])
    assert fresh.listings == 2
    settled = NeighborFinder(settled_after=0)
    settled.find([target])
    settled.find([target])
    assert settled.listings == 1
    (tmp_path / "a.nfo").write_bytes(b"x")  # the directory changed: listed again
    os.utime(tmp_path, ns=(0, 10**18))
    assert settled.find([target])[target] == [bytes(tmp_path / "a.nfo"), bytes(tmp_path / "a.srt")]
    assert settled.listings == 2
