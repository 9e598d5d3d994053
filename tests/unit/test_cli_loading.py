"""The CLI imports only the command it runs: start-up is paid by every invocation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from apollonia import __version__
from apollonia.cli.main import COMMANDS, build_app, command_of


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["collection", "ingest", "TV"], "collection"),
        (["--log-level", "DEBUG", "source", "list"], "source"),
        (["--log-format=json", "ingest-file", "/x.mkv"], "ingest-file"),
        (["--log-level", "run"], None),  # `run` is the option's value here, then nothing
        (["--help"], None),
        ([], None),
        (["bogus"], None),
    ],
)
def test_command_of_finds_the_command_word(args: list[str], command: str | None) -> None:
    assert command_of(args) == command


def test_the_whole_tree_has_every_command_and_one_command_alone() -> None:
    whole = build_app()
    names = {c.name for c in whole.registered_commands} | {g.name for g in whole.registered_groups}
    assert names == set(COMMANDS)
    alone = build_app("collection")
    assert [g.name for g in alone.registered_groups] == ["collection"]
    assert alone.registered_commands == []


def test_version_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from apollonia.cli.main import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'aio_pika', 'aiohttp', 'ingestor.service')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.splitlines() == [f"apollonia {__version__}", "[]"]
