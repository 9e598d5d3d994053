"""What scripts and cron jobs see: refused log options, quiet one-shot commands, whole tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apollonia.cli.app import SERVICES, log_level_for
from tests.cli import run_cli

pytestmark = pytest.mark.integration


def log_lines(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--log-level", "loud"], "debug, info, warning, error, critical"),
        (["--log-format", "xml"], "auto, json, console"),
    ],
)
def test_a_bad_log_option_is_refused_with_the_allowed_values(
    config_dir: Path, args: list[str], allowed: str
) -> None:
    human = run_cli(*args, "source", "list")
    assert human.code == 1
    assert allowed in human.stderr
    assert "Traceback" not in human.stderr
    as_json = run_cli(*args, "source", "list", "--json")
    assert as_json.code == 1
    assert allowed in as_json.json()["errors"][0]["message"]


def test_log_options_are_case_insensitive(config_dir: Path) -> None:
    assert run_cli("--log-level", "Debug", "--log-format", "JSON", "source", "list").code == 0


def test_one_shot_commands_log_only_warnings_unless_asked(config_dir: Path, tmp_path: Path) -> None:
    add = ("source", "add", "--type", "filesystem", "--name", "S", "--path", str(tmp_path))
    assert run_cli(*add).code == 0
    refused = run_cli(*add, "--json")  # a duplicate name: the transaction is rolled back
    assert refused.code == 1
    assert log_lines(refused.stderr) == []
    listed = run_cli("collection", "list", "--json")
    assert listed.code == 0 and log_lines(listed.stderr) == []

    verbose = run_cli("-v", *add, "--json")
    events = {line["event"] for line in log_lines(verbose.stderr)}
    assert "transaction rolled back" in events
    assert {line["level"] for line in log_lines(verbose.stderr)} <= {"info", "warning", "error"}
    debug = run_cli("-vv", *add, "--json")
    assert "debug" in {line["level"] for line in log_lines(debug.stderr)}
    explicit = run_cli("--log-level", "info", *add, "--json")
    assert "transaction rolled back" in {line["event"] for line in log_lines(explicit.stderr)}


def test_the_services_keep_their_configured_level() -> None:
    assert set(SERVICES) == {"run", "consumer", "ingestor"}
    for service in SERVICES:
        assert log_level_for(service, explicit=None, verbose=0, configured="INFO") == "INFO"
        assert log_level_for(service, explicit=None, verbose=0, configured=None) == "INFO"
        assert log_level_for(service, explicit="ERROR", verbose=2, configured="INFO") == "ERROR"
    assert log_level_for("source", explicit=None, verbose=0, configured="INFO") == "WARNING"
    assert log_level_for("source", explicit=None, verbose=1, configured="INFO") == "INFO"
    assert log_level_for("source", explicit=None, verbose=5, configured="INFO") == "DEBUG"


def test_tables_are_whole_when_stdout_is_not_a_terminal(config_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / ("a-long-folder-name-" * 4) / "Movies"
    root.mkdir(parents=True)
    src = ("source", "add", "--type", "filesystem", "--name", "Library", "--path", str(root.parent))
    assert run_cli(*src).code == 0
    add = ("collection", "add", "--source", "Library", "--name", "Movies", "--path", str(root))
    assert run_cli(*add).code == 0
    (collection,) = run_cli("collection", "list", "--json").json()["collections"]
    table = run_cli("collection", "list").stdout  # captured: not a terminal
    assert str(root) in table
    assert collection["id"] in table
    assert str(root.parent) in run_cli("source", "list").stdout


def test_run_says_where_the_catalog_is(config_dir: Path, tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    result = run_cli("run", "--once", "--data", str(media))
    assert result.code == 0, result.stderr
    assert f"Catalog: {config_dir / 'apollonia.db'}" in result.stderr.splitlines()[0]
