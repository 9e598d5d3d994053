"""The `ffprobe` enricher (technical): what the file contains, and whether its end decodes.

    ffprobe -v error -print_format json -show_format -show_streams -show_chapters FILE
    ffmpeg -v error -sseof -5 -i FILE -f null -        (the tail check quality control needs)

Both run with a deadline (killed with their process group when they overrun) at a lower CPU
priority than the apply path. The tool and its version are recorded with the result.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from typing import Any

from consumer.adapters.enrichers.process import run_tool
from consumer.domain.enrichment import (
    Availability,
    Enriched,
    EnricherKind,
    EnrichmentFailed,
    EnrichmentInput,
    EnrichmentResult,
)
from consumer.domain.probe import parse_probe

TAIL_SECONDS = 5


@dataclass(frozen=True, slots=True)
class FfprobeOptions:
    ffprobe: str = "ffprobe"
    ffmpeg: str = "ffmpeg"
    deadline: float = 30.0
    probesize: str | None = None  # ffprobe's -probesize, e.g. "50M"
    analyzeduration: str | None = None  # ffprobe's -analyzeduration, e.g. "100M"
    nice: int = 10


# "[matroska,webm @ 0x559f9c15d880] File ended prematurely": the address says nothing to anyone.
_CONTEXT_ADDRESS = re.compile(r"\[([^\]@]+?) @ 0x[0-9a-f]+\]")


def _first_line(output: bytes) -> str:
    text = output.decode("utf-8", "replace").strip()
    return _CONTEXT_ADDRESS.sub(r"[\1]", text.splitlines()[0]) if text else ""


class FfprobeEnricher:
    id = "ffprobe"
    version = "1"
    kind: EnricherKind = "technical"

    def __init__(self, options: FfprobeOptions | None = None) -> None:
        self.options = options or FfprobeOptions()
        self._tool_version: str | None = None

    def available(self) -> Availability:
        for tool in (self.options.ffprobe, self.options.ffmpeg):
            if shutil.which(tool) is None:
                return Availability(False, f"{tool} not found (install Debian's ffmpeg package)")
        return Availability(True)

    async def tool_version(self) -> str:
        if self._tool_version is None:
            ran = await run_tool([self.options.ffprobe, "-version"], deadline=10)
            # "ffprobe version 5.1.9-0+deb12u1 Copyright ..." -> "5.1.9-0+deb12u1"
            words = _first_line(ran.stdout).split()
            self._tool_version = words[2] if len(words) > 2 else "unknown"
        return self._tool_version

    def probe_argv(self, path: str) -> list[str]:
        argv = [self.options.ffprobe, "-v", "error"]
        if self.options.probesize:
            argv += ["-probesize", self.options.probesize]
        if self.options.analyzeduration:
            argv += ["-analyzeduration", self.options.analyzeduration]
        return [
            *argv,
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            "-show_chapters",
            path,
        ]

    def tail_argv(self, path: str) -> list[str]:
        return [
            self.options.ffmpeg,
            "-nostdin",
            "-v",
            "error",
            "-sseof",
            f"-{TAIL_SECONDS}",
            "-i",
            path,
            "-f",
            "null",
            "-",
        ]

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        opts = self.options
        try:
            probed = await run_tool(
                self.probe_argv(item.path), deadline=opts.deadline, nice=opts.nice
            )
        except FileNotFoundError:
            return EnrichmentFailed(f"{opts.ffprobe} not found")
        if probed.timed_out:
            return EnrichmentFailed(f"ffprobe did not finish within {opts.deadline:g} s")
        if probed.returncode != 0:
            detail = _first_line(probed.stderr) or f"exit code {probed.returncode}"
            return EnrichmentFailed(f"ffprobe failed: {detail}")
        try:
            doc: dict[str, Any] = json.loads(probed.stdout)
        except json.JSONDecodeError as exc:
            return EnrichmentFailed(f"ffprobe printed no JSON: {exc}")
        technical = parse_probe(doc)
        tail = await run_tool(self.tail_argv(item.path), deadline=opts.deadline, nice=opts.nice)
        if tail.timed_out:
            tail_ok, tail_detail = False, f"decoding the tail took over {opts.deadline:g} s"
        else:
            errors = _first_line(tail.stderr)
            tail_ok = tail.returncode == 0 and not errors
            tail_detail = errors or ("" if tail_ok else f"exit code {tail.returncode}")
        technical["tail"] = {"ok": tail_ok, "detail": tail_detail}
        return Enriched(technical, tool="ffprobe", tool_version=await self.tool_version())
