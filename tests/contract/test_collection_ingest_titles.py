"""Titles in a whole library under one collection root (issue 17 item 10): the title of a file is
its title folder wherever it sits (`Movies/Title (Year)/`, `TV Shows/Show/Season NN/`), and
`collection ingest --title` finds exactly the files so titled — through the real CLI, a real
SQLite catalog and a real tree."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli
from tests.contract.conftest import write_tree

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

MATRIX = "Movies/The Matrix (1999)/The Matrix (1999).mkv"
ODYSSEY = "Movies/2001 - A Space Odyssey (1968)/2001 - A Space Odyssey (1968).mkv"
KILL_BILL = "Movies/Kill Bill - Vol. 1 (2003)/Kill Bill - Vol. 1 (2003).mkv"
BLADE_RUNNER = (
    "Movies/Blade Runner (1982) {edition-Final Cut}/Blade Runner (1982) {edition-Final Cut}.mkv"
)
DUNDIES = "TV Shows/The Office (US)/Season 02/The Office (US) - S02E01 - The Dundies.mkv"
OFFICE_S1 = "TV Shows/The Office (US)/Season 01/The Office (US) - S01E01 - Pilot.mkv"
FIREFLY = "TV Shows/Firefly/Season 1/Firefly - S01E01.mkv"
SONG = "Music/Artist/Album/01 - Song.flac"
LOOSE = "Some.Movie.2010.1080p.mkv"

LIBRARY = [MATRIX, ODYSSEY, KILL_BILL, BLADE_RUNNER, DUNDIES, OFFICE_S1, FIREFLY, SONG, LOOSE]

# What `asset show --json` must record of each name.
EXPECTED: dict[str, dict[str, Any]] = {
    MATRIX: {"title": "The Matrix", "year": 1999},
    ODYSSEY: {"title": "2001 - A Space Odyssey", "year": 1968},
    KILL_BILL: {"title": "Kill Bill - Vol. 1", "year": 2003},
    BLADE_RUNNER: {"title": "Blade Runner", "year": 1982, "edition": "Final Cut"},
    DUNDIES: {
        "title": "The Office (US)",
        "season": 2,
        "episode": 1,
        "episode_title": "The Dundies",
    },
    OFFICE_S1: {"title": "The Office (US)", "season": 1, "episode": 1, "episode_title": "Pilot"},
    FIREFLY: {"title": "Firefly", "season": 1, "episode": 1},
    SONG: {"title": "Song"},
    LOOSE: {"title": "Some Movie", "year": 2010},
}


class Library:
    def __init__(self, root: Path) -> None:
        self.root = root

    def ok(self, *args: str) -> Any:
        result = run_cli(*args, "--json")
        assert result.code == 0, f"{args} exited {result.code}: {result.stdout} {result.stderr}"
        return result.json()

    def ingest(self, *args: str) -> set[str]:
        """The canonical keys a (narrowed) ingest discovered and cataloged."""
        doc = self.ok("collection", "ingest", "Library", *args)
        listed = self.ok("asset", "list", "--collection", "Library", "--limit", "1000")
        keys = {a["canonical_key"] for a in listed["assets"]}
        assert doc["stats"]["assets_discovered"] == len(keys)
        return keys

    def metadata(self, key: str) -> dict[str, Any]:
        listed = self.ok("asset", "list", "--collection", "Library", "--limit", "1000")
        (asset,) = [a for a in listed["assets"] if a["canonical_key"] == key]
        shown = self.ok("asset", "show", asset["id"])["asset"]
        metadata = shown["tech_metadata"]
        assert isinstance(metadata, dict)
        return metadata


@pytest.fixture
def library(tmp_path: Path, config_dir: Path) -> Library:
    root = tmp_path / "library"
    write_tree(root, {key: key.encode() for key in LIBRARY})
    lib = Library(root)
    lib.ok("source", "add", "--type", "filesystem", "--name", "Home", "--path", str(tmp_path))
    lib.ok("collection", "add", "--source", "Home", "--name", "Library", "--path", str(root))
    return lib


def test_titles_recorded_are_the_title_folders_at_any_depth(library: Library) -> None:
    assert library.ingest() == set(LIBRARY)
    for key, expected in EXPECTED.items():
        assert library.metadata(key) == expected, key


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--title", "The Matrix"], {MATRIX}),
        (["--title", "the matrix (1999)"], {MATRIX}),
        (["--title", "THE MATRIX"], {MATRIX}),
        (["--title", "2001 - A Space Odyssey"], {ODYSSEY}),
        (["--title", "Kill Bill - Vol. 1 (2003)"], {KILL_BILL}),
        (["--title", "Blade Runner"], {BLADE_RUNNER}),
        (["--title", "The Office (US)"], {DUNDIES, OFFICE_S1}),
        (["--title", "The Office (US)", "--season", "2"], {DUNDIES}),
        (["--title", "the office (us)", "--season", "1", "--episode", "1"], {OFFICE_S1}),
        (["--title", "Firefly", "--season", "1"], {FIREFLY}),
        (["--title", "Some Movie"], {LOOSE}),
        (["--title", "Song"], {SONG}),
    ],
)
def test_title_narrowing_finds_exactly_the_titled_files(
    library: Library, args: list[str], expected: set[str]
) -> None:
    assert library.ingest(*args) == expected


@pytest.mark.parametrize(
    "title",
    [
        "Movies",  # a shelf, not a title
        "TV Shows",
        "Artist",  # music is never titled by its folders
        "The Matrix (2003)",  # the wrong year
        "The Office",  # (US) is part of that show's title
    ],
)
def test_folders_that_are_not_titles_are_not_found(library: Library, title: str) -> None:
    result = run_cli("collection", "ingest", "Library", "--title", title, "--json")
    assert result.code == 2, result.stdout
    assert result.json()["errors"][0]["code"] == "title_not_found"


def unwalkable(folder: Path) -> None:
    """Nest folders inside `folder` until their path is longer than PATH_MAX: walking into it
    fails (ENAMETOOLONG) for any user, root included, and the ingest reports that folder."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(4096 // 200 + 1):
            os.mkdir("d" * 200, dir_fd=fd)
            inner = os.open("d" * 200, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)


def test_title_narrowing_never_walks_another_titles_folder(library: Library) -> None:
    """Another film's folder and another show's (or season's) folders are never walked: made
    unwalkable, they make no difference, and no error, to a narrowed ingest."""
    for folder in (
        "Movies/Kill Bill - Vol. 1 (2003)",
        "TV Shows/Firefly/Season 1",
        "TV Shows/The Office (US)/Season 01",
    ):
        unwalkable(library.root / folder)
    full = library.ok("collection", "ingest", "Library", "--dry-run")
    assert len(full["stats"]["errors"]) == 3  # the trap works
    for args, count in (
        (["--title", "The Matrix"], 1),
        (["--title", "The Office (US)", "--season", "2"], 1),
        (["--title", "Some Movie"], 1),
    ):
        doc = library.ok("collection", "ingest", "Library", *args, "--dry-run")
        assert doc["stats"]["assets_discovered"] == count, args
        assert doc["stats"]["errors"] == [], args
