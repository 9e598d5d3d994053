"""How the enrichers' tools run: a process group of their own (killed whole at the deadline), in
the worker's session (so their lower CPU priority holds against the apply path), reniced."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from consumer.adapters.enrichers.process import run_tool

pytestmark = pytest.mark.integration

REPORT = (
    "import json, os; print(json.dumps([os.getpid(), os.getpgid(0), os.getsid(0), os.nice(0)]))"
)


async def test_a_tool_has_its_own_process_group_in_the_workers_session() -> None:
    ran = await run_tool([sys.executable, "-c", REPORT], deadline=30, nice=10)
    assert ran.returncode == 0, ran.stderr
    pid, pgid, sid, nice = json.loads(ran.stdout)
    assert pgid == pid  # its own group: the deadline kills it with its children
    # A session of its own would be a scheduling group of its own under autogroup, where
    # nice(1) does not count against the apply path.
    assert sid == os.getsid(0)
    assert nice == min(19, os.nice(0) + 10)


async def test_a_tool_past_its_deadline_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "child.pid"
    ran = await run_tool(["sh", "-c", f"sleep 60 & echo $! > {pids}; wait"], deadline=1)
    assert ran.timed_out
    child = int(pids.read_text())
    for _ in range(100):  # the kill is sent; the zombie is reaped by init soon after
        if not alive(child):
            break
        time.sleep(0.05)
    assert not alive(child)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
