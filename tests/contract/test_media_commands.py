"""`apollonia media list | show | add` through the real CLI, a real SQLite catalog and a real
tree: a wanted season waits for its files, ingest attaches them, gaps show; errors exit 1 with
their wording, and `--json` prints exactly one document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli
from tests.contract.conftest import write_tree

pytestmark = pytest.mark.integration

SHOWS = {
    "Firefly/Season 01/Firefly - S01E01 - Serenity.mkv": b"e1",
    "Firefly/Season 01/Firefly - S01E02.mkv": b"e2",
    "Firefly/Season 01/Firefly - S01E05.mkv": b"e5",
}
FILMS = {"Alien (1979)/Alien (1979).mkv": b"alien", "Music/Artist/01 - Song.flac": b"song"}


def ok(*args: str) -> Any:
    result = run_cli(*args, "--json")
    assert result.code == 0, f"{args} exited {result.code}: {result.stdout} {result.stderr}"
    return result.json()


@pytest.fixture
def library(tmp_path: Path, config_dir: Path) -> Path:
    root = tmp_path / "media"
    write_tree(root / "shows", SHOWS)
    write_tree(root / "films", FILMS)
    ok("source", "add", "--type", "filesystem", "--name", "Home", "--path", str(root))
    for name in ("shows", "films"):
        ok(
            "collection",
            "add",
            "--source",
            "Home",
            "--name",
            name.title(),
            "--path",
            str(root / name),
        )
    return root


def test_a_wanted_season_waits_then_gets_its_files(library: Path) -> None:
    added = ok(
        "media",
        "add",
        "--collection",
        "Shows",
        "--type",
        "tv",
        "--name",
        "Firefly",
        "--season",
        "1",
    )["item"]
    assert added["label"] == "Firefly S01" and added["progress"]["waiting_for_files"]
    human = run_cli("media", "list")
    assert human.code == 0 and "waiting for files" in human.stdout

    ok("collection", "ingest", "Shows")
    ok("collection", "ingest", "Films")
    items = ok("media", "list")["items"]
    assert [(i["label"], i["progress"]["total"]) for i in items] == [
        ("Alien (1979)", 1),
        ("Firefly S01", 3),  # the wanted item, not a second one
    ]
    assert items[1]["id"] == added["id"] and items[1]["active"]

    shown = ok("media", "show", added["id"][:8])["item"]
    assert shown["episodes"] == [1, 2, 5] and shown["gaps"] == [3, 4]
    assert [a["episodes"] for a in shown["assets"]] == [[1], [2], [5]]
    assert shown["assets"][0]["episode_title"] == "Serenity"
    text = run_cli("media", "show", added["id"])
    assert text.code == 0 and "missing episodes: 3, 4" in text.stdout

    assert [i["label"] for i in ok("media", "list", "--type", "movie")["items"]] == ["Alien (1979)"]
    assert ok("media", "list", "--all", "--collection", "Films", "--name", "ali")["items"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--collection", "Nope", "--type", "tv", "--name", "X", "--season", "1"], "not found"),
        (["--collection", "Shows", "--type", "tv", "--name", "X"], "give --season N"),
        (
            ["--collection", "Films", "--type", "movie", "--name", "X", "--season", "2"],
            "a movie has no season",
        ),
        (["--collection", "Films", "--type", "movie", "--name", "X", "--year", "99"], "--year"),
        (["--collection", "Films", "--type", "show", "--name", "X"], "--type must be one of"),
    ],
)
def test_add_refuses_with_exit_1(library: Path, args: list[str], words: str) -> None:
    result = run_cli("media", "add", *args, "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["status"] == "error" and words in doc["errors"][0]["message"]


def test_a_duplicate_and_a_missing_item(library: Path) -> None:
    args = ("media", "add", "--collection", "Films", "--type", "movie", "--name", "Alien")
    ok(*args, "--year", "1979")
    again = run_cli(*args, "--year", "1979")
    assert again.code == 1 and "already has Alien (1979)" in again.stderr
    missing = run_cli("media", "show", "no-such-item", "--json")
    assert missing.code == 1 and missing.json()["errors"][0]["code"] == "media_not_found"
