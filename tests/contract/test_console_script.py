"""The installed console script, end to end in real processes.

The other contract tests run the same `main()` in-process (tests/cli.py); these few prove what
only a process shows: the entry point is installed and starts, the exit status the shell sees
for each code (0/1/2/3), and what reaches the real stdout and stderr.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from apollonia import __version__
from tests.cli import Result, run_process
from tests.contract.conftest import Library

# The script pip installs next to this interpreter (`python -m apollonia` where there is none).
_SCRIPT = Path(sys.executable).with_name("apollonia")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "apollonia"]


def apollonia(*args: str) -> Result:
    return run_process([*COMMAND, *args], timeout=120)


def one_document(stdout: str) -> Any:
    """stdout parsed as a single JSON document (json.loads rejects anything after it)."""
    return json.loads(stdout)


def log_lines(stderr: str) -> list[dict[str, Any]]:
    """The JSON log records on stderr (APOLLONIA_LOG_FORMAT=json); the rest is progress text."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_version() -> None:
    result = apollonia("--version")
    assert (result.code, result.stdout, result.stderr) == (0, f"apollonia {__version__}\n", "")


def test_exit_0_json_on_stdout_logs_on_stderr(library: Library) -> None:
    library.setup()
    result = apollonia("--log-level", "DEBUG", "collection", "ingest", "TV", "--json")
    assert result.code == 0, result.stderr
    assert one_document(result.stdout)["status"] == "success"
    logs = log_lines(result.stderr)
    assert logs, "a DEBUG run logs something"
    assert all("event" in line and "level" in line for line in logs)


def test_exit_1_usage_error_as_one_json_document() -> None:
    result = apollonia("db", "upgrade", "--no-such-flag", "--json")
    assert result.code == 1
    doc = one_document(result.stdout)
    assert doc["status"] == "error"
    assert doc["errors"][0] == {"code": "usage", "message": "No such option: --no-such-flag"}


def test_exit_1_usage_error_in_human_mode_goes_to_stderr() -> None:
    result = apollonia("db", "upgrade", "--no-such-flag")
    assert result.code == 1
    assert result.stdout == ""
    assert "No such option: --no-such-flag" in result.stderr


def test_exit_2_scope_not_found(library: Library) -> None:
    library.setup()
    result = apollonia("collection", "ingest", "TV", "--title", "Nope", "--json")
    assert result.code == 2
    assert one_document(result.stdout)["status"] == "error"


def test_exit_3_unreachable_source_root(library: Library) -> None:
    library.setup()
    shutil.move(library.root, library.root.with_name("moved-away"))
    result = apollonia("source", "ingest", "Local", "--json")
    assert result.code == 3
    assert one_document(result.stdout)["status"] == "error"
