"""The in-process CLI runner (tests/cli.py): a run sees the test's environment and leaves the
process as it found it."""

from __future__ import annotations

import gc
import logging
import os
import signal
from pathlib import Path

import structlog

from tests.cli import run_cli


def test_a_run_leaves_no_process_state_behind(config_dir: Path) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    sqlalchemy_level = logging.getLogger("sqlalchemy").level
    thresholds = gc.get_threshold()
    sigterm = signal.getsignal(signal.SIGTERM)
    processors = structlog.get_config()["processors"]
    environ = dict(os.environ)
    cwd = Path.cwd()

    result = run_cli("--log-level", "DEBUG", "db", "upgrade", "--json", cwd=config_dir)
    assert result.code == 0, result.stderr

    assert root.handlers == handlers and root.level == level
    assert logging.getLogger("sqlalchemy").level == sqlalchemy_level
    assert gc.get_threshold() == thresholds
    assert signal.getsignal(signal.SIGTERM) == sigterm
    assert structlog.get_config()["processors"] == processors
    assert dict(os.environ) == environ
    assert Path.cwd() == cwd


def test_the_environment_given_applies_to_the_run_only(config_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("db", "upgrade", "--json", env={"APOLLONIA_CONFIG_DIR": str(elsewhere)})
    assert result.code == 0, result.stderr
    assert (elsewhere / "apollonia.db").exists()
    assert not (config_dir / "apollonia.db").exists()
    assert os.environ["APOLLONIA_CONFIG_DIR"] == str(config_dir)


def test_stdout_and_stderr_are_kept_apart() -> None:
    result = run_cli("db", "upgrade", "--no-such-flag")
    assert result.code == 1
    assert result.stdout == ""
    assert "No such option: --no-such-flag" in result.stderr


async def test_a_run_from_a_coroutine_works_like_one_from_a_plain_function() -> None:
    result = run_cli("db", "upgrade", "--no-such-flag", "--json")
    assert result.code == 1
    assert result.json()["errors"][0]["code"] == "usage"
