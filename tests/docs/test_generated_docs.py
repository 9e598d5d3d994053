"""docs/configuration.md and docs/cli.md are generated from the code: they must be current.

Regenerate both with `python -m apollonia.docgen` after changing a setting or a command.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from apollonia import docgen
from apollonia.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
REGENERATE = "out of date: run `python -m apollonia.docgen` and commit the result"


@pytest.fixture(scope="module")
def configuration_md() -> str:
    return docgen.render_configuration()


@pytest.fixture(scope="module")
def cli_md() -> str:
    return docgen.render_cli()


def test_configuration_md_is_current(configuration_md: str) -> None:
    committed = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert committed == configuration_md, f"docs/configuration.md is {REGENERATE}"


def test_cli_md_is_current(cli_md: str) -> None:
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert committed == cli_md, f"docs/cli.md is {REGENERATE}"


def test_every_setting_is_documented_with_its_aliases(configuration_md: str) -> None:
    rows = [line for line in configuration_md.splitlines() if line.startswith("| `APOLLONIA_")]
    assert len(rows) == len(Settings.model_fields)
    for name, field in Settings.model_fields.items():
        primary, aliases = docgen.env_names(name, field)
        row = next((r for r in rows if r.startswith(f"| `{primary}`")), None)
        assert row is not None, f"{primary} missing from configuration.md"
        for alias in aliases:
            assert f"`{alias}`" in row
        assert field.description, f"setting {name} has no description"
        assert " ".join(field.description.split()) in row.replace("\\|", "|")
    for alias in ("AMQP_CONNECTION_STRING", "DATA_DIRECTORY", "LOG_LEVEL"):
        assert f"or `{alias}`" in configuration_md


def test_machine_dependent_defaults_are_rules_not_values(configuration_md: str) -> None:
    assert os.uname().nodename not in configuration_md
    assert str(Path.home()) not in configuration_md
    rows = configuration_md.splitlines()
    row = next(r for r in rows if r.startswith("| `APOLLONIA_DATABASE_URL"))
    assert "`sqlite+aiosqlite:///<config_dir>/apollonia.db`" in row
    row = next(r for r in rows if r.startswith("| `APOLLONIA_CONFIG_DIR"))
    assert "`/config` when it exists and is writable" in row


def test_derived_rules_ignore_the_local_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLONIA_DATABASE_URL", "sqlite+aiosqlite:////somewhere/else.db")
    monkeypatch.setenv("APOLLONIA_LOG_LEVEL", "not-a-level")  # would make Settings() fail
    rendered = docgen.render_configuration()
    assert "/somewhere/else.db" not in rendered
    assert os.environ["APOLLONIA_DATABASE_URL"] == "sqlite+aiosqlite:////somewhere/else.db"


def test_cli_md_documents_every_command_and_option(cli_md: str) -> None:
    from typer.main import get_command

    from apollonia.cli.main import app

    root: Any = get_command(app)
    ctx = root.make_context("apollonia", [], resilient_parsing=True)
    seen = 0
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        assert f"## `apollonia {name}`" in cli_md
        sub_ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        for param in command.get_params(sub_ctx):
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert f"`{opt}" in cli_md, f"{opt} of apollonia {name} not in cli.md"
                    seen += 1
    assert seen > 10
    assert "## `apollonia health`" in cli_md
    assert "`--service ingestor|consumer|enricher`" in cli_md
    assert os.uname().nodename not in cli_md
    assert str(Path.home()) not in cli_md


def test_check_mode_reports_a_stale_page(tmp_path: Path) -> None:
    (tmp_path / "configuration.md").write_text("stale\n", encoding="utf-8")
    assert docgen.main(["configuration", "--check", "--docs-dir", str(tmp_path)]) == 1
    assert docgen.main(["configuration", "--docs-dir", str(tmp_path)]) == 0
    assert docgen.main(["configuration", "--check", "--docs-dir", str(tmp_path)]) == 0
