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


def test_groups_come_in_order_each_sorted() -> None:
    siblings = [
        "movie.mkv",
        "movie.srt",
        "movie.nfo",
        "README.txt",
        "info.json",
        "movies-extra.mkv",
        "mov.txt",
        "other.mkv",
    ]
    assert find_neighbors("movie.mkv", siblings) == [
        "movie.nfo",
        "movie.srt",  # same stem, alphabetical
        "README.txt",
        "info.json",  # metadata files, alphabetical (code point order)
        "mov.txt",
        "movies-extra.mkv",  # same three-character prefix, alphabetical
    ]


def test_at_most_ten_and_never_itself() -> None:
    siblings = [f"track{i:02d}.flac" for i in range(30)]
    result = find_neighbors("track05.flac", siblings)
    assert len(result) == MAX_NEIGHBORS
    assert "track05.flac" not in result
    assert result == sorted(result)
    assert result[0] == "track00.flac"


def test_prefix_rule_needs_a_stem_longer_than_three() -> None:
    assert find_neighbors("abc.mkv", ["abcd.mkv", "abc.srt"]) == ["abc.srt"]
    assert find_neighbors("abcd.mkv", ["abcx.mkv", "abd.mkv"]) == ["abcx.mkv"]


def test_metadata_stems_in_any_case() -> None:
    siblings = ["Tracklist.TXT", "TRACKS.cue", "notes.txt", "a.flac"]
    assert find_neighbors("a.flac", siblings) == ["TRACKS.cue", "Tracklist.TXT"]


def test_a_file_is_listed_once_even_when_two_rules_match() -> None:
    siblings = ["info.txt", "info.nfo", "infos.mkv"]
    assert find_neighbors("info.mkv", siblings) == ["info.nfo", "info.txt", "infos.mkv"]


def test_listing_skips_temporary_names_directories_and_symlinks(tmp_path: Path) -> None:
    for name in ("a.mkv", "a.srt", ".a.swp", "a.mkv.part", "a.tmp"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "a.dir").mkdir()
    (tmp_path / "a.link").symlink_to(tmp_path / "a.srt")
    assert sorted(list_siblings(bytes(tmp_path))) == ["a.mkv", "a.srt"]


def test_names_that_are_not_utf8(tmp_path: Path) -> None:
    raw_dir = bytes(tmp_path)
    names = [b"caf\xe9.mkv", b"caf\xe9.srt", b"cafe.mkv"]
    for name in names:
        with open(raw_dir + b"/" + name, "wb") as handle:
            handle.write(b"x")
    found = neighbors_for([raw_dir + b"/caf\xe9.mkv"])[raw_dir + b"/caf\xe9.mkv"]
    assert found == [raw_dir + b"/caf\xe9.srt", raw_dir + b"/cafe.mkv"]


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
