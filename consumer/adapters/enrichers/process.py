"""Running a media tool with a deadline: killed with its whole process group when it overruns,
never left behind as an orphan."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ran:
    returncode: int | None  # None: killed at the deadline
    stdout: bytes
    stderr: bytes

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


_FOUND: dict[str, str] = {}


def _which(tool: str) -> str | None:
    """Where a tool is, remembered once found (the PATH search costs a few stats per call); a
    missing tool is looked for again next time, so installing ffmpeg needs no restart."""
    found = _FOUND.get(tool)
    if found is None and (found := shutil.which(tool)) is not None:
        _FOUND[tool] = found
    return found


async def run_tool(argv: Sequence[str], *, deadline: float, nice: int = 0) -> Ran:
    """Run `argv`, wait at most `deadline` seconds. Raises FileNotFoundError when the tool is
    missing. `nice` lowers the tool's CPU priority below the apply path's."""
    command = list(argv)
    if nice and (nice_tool := _which("nice")) is not None:
        # Through nice(1) rather than a preexec_fn: a Python hook in the child rules out the
        # fast spawn path, and ffprobe is started twice per file.
        command = [nice_tool, "-n", str(nice), *command]
        if _which(argv[0]) is None:
            raise FileNotFoundError(argv[0])
    proc = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # Its own process group, so it is killed with its children; not its own session: with
        # the kernel's autogroup scheduling (Debian's default) every session is scheduled as
        # a group of its own, nice(1) counts only inside it, and a tool in a new session would
        # get as much CPU as the whole apply path beside it.
        process_group=0,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), deadline)
    except BaseException as exc:  # the deadline, a cancelled job, a stopping worker
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        if isinstance(exc, TimeoutError):
            return Ran(None, b"", b"")
        raise
    return Ran(proc.returncode, stdout, stderr)
