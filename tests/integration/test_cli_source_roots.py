"""`source add/update --path`: a file is refused; a path that does not exist yet is kept, saying
it cannot be ingested until it does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run_cli

pytestmark = pytest.mark.integration


def add(name: str, path: Path, *extra: str) -> tuple[str, ...]:
    return ("source", "add", "--type", "filesystem", "--name", name, "--path", str(path), *extra)


def test_a_file_is_refused_as_a_source_root(config_dir: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "passwd"
    a_file.write_text("root:x:0:0")
    human = run_cli(*add("Files", a_file))
    assert human.code == 1
    assert f"{a_file} is not a folder" in human.stderr
    as_json = run_cli(*add("Files", a_file, "--json"))
    assert as_json.code == 1
    assert as_json.json()["errors"][0]["code"] == "invalid_path"
    assert run_cli("source", "list", "--json").json()["sources"] == []

    assert run_cli(*add("Media", tmp_path)).code == 0
    moved = run_cli("source", "update", "Media", "--path", str(a_file), "--json")
    assert moved.code == 1 and "is not a folder" in moved.json()["errors"][0]["message"]
    (listed,) = run_cli("source", "list", "--json").json()["sources"]
    assert listed["root_path"] == str(tmp_path)


def test_a_missing_root_is_kept_as_not_ingestible(config_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted"
    human = run_cli(*add("Share", missing))
    assert human.code == 0
    assert "Added source 'Share'" in human.stdout
    assert f"Warning: {missing} does not exist" in human.stderr
    assert "cannot be ingested" in human.stderr

    as_json = run_cli(*add("Share 2", missing, "--json"))
    assert as_json.code == 0
    doc = as_json.json()
    assert doc["ingestible"] is False
    assert "does not exist" in doc["warning"]

    missing.mkdir()
    there = run_cli("source", "update", "Share", "--path", str(missing), "--json")
    assert there.code == 0
    assert there.json()["ingestible"] is True
    assert "warning" not in there.json()
    assert "Warning" not in there.stderr
