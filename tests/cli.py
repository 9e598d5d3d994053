"""Run the `apollonia` command as a user would.

`run_cli` runs it in this process (the same `main()` the console script calls, under Click's
`CliRunner` isolation: its own stdin/stdout/stderr and environment), which saves the ~0.7 s an
interpreter start and the imports cost per call. It puts back everything a run changes in the
process (logging, structlog, the GC thresholds, signal handlers, the asyncio policy, the working
directory), so nothing leaks into the next test.

`run_cli_process` starts the real command in a subprocess, for what only a process can show
(the console script, exit statuses as the shell sees them, what reaches the real fds).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from typer.testing import CliRunner

from apollonia.cli.main import main
from shared.runtime.log import _QUIET_LIBRARIES

# In-process runs share process-wide state (sys.stdout, the root logger): one at a time, even
# when a test runs the command in a worker thread.
_ONE_AT_A_TIME = threading.Lock()
_HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def cli_env(env: dict[str, str] | None) -> dict[str, str]:
    """The variables a run adds to the test's environment (JSON logs unless a test says)."""
    merged = {"APOLLONIA_LOG_FORMAT": os.environ.get("APOLLONIA_LOG_FORMAT", "json")}
    merged.update(env or {})
    return merged


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """`apollonia *args` in this process; exit status, stdout and stderr as a process has them.

    Called from a coroutine (an async test), it runs in a worker thread, since `main()` starts
    its own event loop, and blocks the caller's loop until it is done, as a subprocess did.
    """
    if _loop_running():
        with ThreadPoolExecutor(1, thread_name_prefix="apollonia-cli") as pool:
            return pool.submit(_run_in_process, list(args), env, cwd).result()
    return _run_in_process(list(args), env, cwd)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_process(args: list[str], env: dict[str, str] | None, cwd: Path | None) -> Result:
    runner = CliRunner()
    with (
        _ONE_AT_A_TIME,
        _process_state_restored(),
        contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext(),
        runner.isolation(env=cli_env(env)) as (stdout, stderr, _),
    ):
        code = _run_main(args)
        sys.stdout.flush()
        sys.stderr.flush()
        return Result(code, stdout.getvalue().decode(), stderr.getvalue().decode())


def run_cli_process(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> Result:
    """`apollonia *args` in a new `python -m apollonia` process."""
    argv = [sys.executable, "-m", "apollonia", *args]
    return run_process(argv, env=env, cwd=cwd, timeout=timeout)


def run_process(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float
) -> Result:
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env={**os.environ, **cli_env(env)},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _run_main(args: list[str]) -> int:
    """What the interpreter would make of `main(args)`: its exit status, a traceback on stderr."""
    try:
        main(args)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        sys.stderr.write(f"{exc.code}\n")
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    return 0


@contextlib.contextmanager
def _process_state_restored() -> Iterator[None]:
    """Put back the process-wide state `main()` changes (as if the run had been a process)."""
    root = logging.getLogger()
    handlers, root_level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in _QUIET_LIBRARIES}
    was_configured, structlog_config = structlog.is_configured(), structlog.get_config()
    context = structlog.contextvars.get_contextvars()
    thresholds = gc.get_threshold()
    in_main_thread = threading.current_thread() is threading.main_thread()
    handlers_of = {sig: signal.getsignal(sig) for sig in _HANDLED_SIGNALS} if in_main_thread else {}
    policy = asyncio.get_event_loop_policy()
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        if was_configured:
            structlog.configure(**structlog_config)
        else:
            structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**context)
        gc.set_threshold(*thresholds)
        for sig, previous in handlers_of.items():
            if previous is not None:  # None: not installed from Python, nothing to put back
                signal.signal(sig, previous)
        asyncio.set_event_loop_policy(policy)
