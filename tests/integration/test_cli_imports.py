"""One-shot commands on a real catalog load only what they use: no Alembic when the schema is
current, no broker client, no ORM. (The unit tests cover `--version`.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from consumer.adapters.db import migrate
from tests.cli import run_cli

pytestmark = pytest.mark.integration

NOT_NEEDED = ("alembic", "aio_pika", "aiormq", "aiohttp", "sqlalchemy.orm", "ingestor.service")


def loaded_by(args: list[str], modules: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Run `main(args)` in a fresh interpreter: its output lines, and which `modules` it loaded."""
    code = (
        "import json, sys\n"
        "from apollonia.cli.main import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=dict(os.environ, APOLLONIA_LOG_FORMAT="json"),
    )
    *output, modules_line = proc.stdout.splitlines()
    return output, json.loads(modules_line)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "a.mkv").write_bytes(b"hi\n")
    for args in (
        ["source", "add", "--type", "filesystem", "--name", "t", "--path", str(folder)],
        ["collection", "add", "--source", "t", "--name", "t", "--path", str(folder)],
    ):
        assert run_cli(*args).code == 0
    return folder


def test_a_fresh_catalog_is_still_migrated(config_dir: Path) -> None:
    output, loaded = loaded_by(["asset", "list", "--json"], ("alembic",))
    assert loaded == ["alembic"]
    assert json.loads("\n".join(output))["status"] == "success"
    assert run_cli("db", "current", "--json").json()["revision"] == migrate.HEAD_REVISION


def test_asset_list_on_a_current_catalog(media: Path) -> None:
    _, loaded = loaded_by(["asset", "list"], (*NOT_NEEDED, "guessit"))
    assert loaded == []


def test_ingest_file_on_a_current_catalog(media: Path) -> None:
    output, loaded = loaded_by(["ingest-file", str(media / "a.mkv")], NOT_NEEDED)
    assert loaded == []
    assert output == ["create: a.mkv in 't' (new file: not in the catalog)"]
    output, loaded = loaded_by(["ingest-file", str(media / "a.mkv")], (*NOT_NEEDED, "guessit"))
    assert loaded == []  # nothing changed: no name to parse
    assert output == ["skip: a.mkv in 't' (unchanged: same size and mtime)"]
