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


def _run_main(args: list[str], modules: tuple[str, ...]) -> list[str]:
    """Run `main(args)` in a fresh interpreter; its output, then which of `modules` it loaded."""
    code = (
        "import sys\n"
        "from apollonia.cli.main import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()


def test_version_imports_no_command_module() -> None:
    modules = ("sqlalchemy", "aio_pika", "aiohttp", "ingestor.service")
    out = _run_main(["--version"], modules)
    assert out == [f"apollonia {__version__}", "[]"]


# What a bare `apollonia --version` must not load: it is answered before the command tree.
HEAVY = (
    "typer",
    "rich",
    "pydantic",
    "pydantic_settings",
    "structlog",
    "sqlalchemy",
    "alembic",
    "aio_pika",
    "aiohttp",
    "guessit",
    "apollonia.settings",
    "apollonia.cli.app",
)


def test_bare_version_loads_nothing_heavy() -> None:
    assert _run_main(["--version"], HEAVY) == [f"apollonia {__version__}", "[]"]


def test_version_with_other_options_prints_the_same_through_the_command_tree() -> None:
    out = _run_main(["--log-level", "DEBUG", "--version"], ("apollonia.cli.app", "sqlalchemy"))
    assert out == [f"apollonia {__version__}", "['apollonia.cli.app']"]
