"""The ffprobe enricher and quality control on real files made by ffmpeg."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from consumer.adapters.enrichers.ffprobe import FfprobeEnricher, FfprobeOptions
from consumer.adapters.enrichers.registry import discover
from consumer.domain.enrichment import Enriched, EnrichmentFailed, EnrichmentInput
from consumer.domain.probe import summary
from consumer.domain.quality import TailCheck, check
from tests.media import media, truncated

pytestmark = pytest.mark.integration
__all__ = ["media"]

Media = Callable[[str], Path]


async def enrich(path: Path, **options: object) -> Enriched | EnrichmentFailed:
    enricher = FfprobeEnricher(FfprobeOptions(**options))  # type: ignore[arg-type]
    return await enricher.enrich(EnrichmentInput("asset", str(path), path.name))


def qc(result: Enriched | EnrichmentFailed) -> list[str]:
    if isinstance(result, EnrichmentFailed):
        return ["probe"]
    tail = result.fields["tail"]
    return [f.rule for f in check(result.fields, TailCheck(tail["ok"], tail["detail"])).failures]


@pytest.mark.parametrize("name", ["movie.mkv", "movie.mp4", "movie.ts"])
async def test_a_good_file_is_probed_and_passes(media: Media, name: str) -> None:
    result = await enrich(media(name))
    assert isinstance(result, Enriched), result
    assert result.tool == "ffprobe" and result.tool_version
    info = summary(result.fields)
    assert info["video_codec"] == "h264"
    assert (info["width"], info["height"]) == (320, 240)
    assert info["hdr"] == "SDR"
    assert isinstance(info["duration"], float) and 1.5 < info["duration"] < 2.5
    audio = [s for s in result.fields["streams"] if s["type"] == "audio"]
    assert audio and audio[0]["channels"] == 1 and audio[0]["sample_rate"] == 48000
    assert qc(result) == []


async def test_languages_and_hdr10_are_read(media: Media) -> None:
    mkv = await enrich(media("movie.mkv"))
    assert isinstance(mkv, Enriched)
    assert summary(mkv.fields)["audio_languages"] == ["eng"]
    hdr = await enrich(media("hdr10.mkv"))
    assert isinstance(hdr, Enriched)
    (video,) = hdr.fields["streams"]
    assert (video["hdr"], video["bit_depth"], video["color_primaries"]) == ("HDR10", 10, "bt2020")
    assert qc(hdr) == []  # a video stream and no audio is fine for a video collection


async def test_audio_only_needs_an_audio_collection(media: Media) -> None:
    result = await enrich(media("song.flac"))
    assert isinstance(result, Enriched)
    assert qc(result) == ["video_stream"]
    tail = result.fields["tail"]
    assert check(result.fields, TailCheck(tail["ok"]), audio_only=True).passed


async def test_a_truncated_mp4_fails_to_probe(media: Media, tmp_path: Path) -> None:
    result = await enrich(truncated(media("long.mp4"), tmp_path / "cut.mp4"))
    assert isinstance(result, EnrichmentFailed)
    assert "moov atom not found" in result.reason
    assert "0x" not in result.reason  # ffmpeg's pointer addresses are dropped


async def test_a_truncated_mkv_probes_but_its_tail_does_not_decode(
    media: Media, tmp_path: Path
) -> None:
    result = await enrich(truncated(media("long.mkv"), tmp_path / "cut.mkv"))
    assert isinstance(result, Enriched)
    assert result.fields["duration"] > 7  # the full duration: probing cannot tell
    assert result.fields["tail"]["ok"] is False
    assert qc(result) == ["tail_decodes"]


async def test_a_zero_length_file_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mkv"
    empty.write_bytes(b"")
    assert isinstance(await enrich(empty), EnrichmentFailed)


def _stand_in(tmp_path: Path, script: str) -> Path:
    tool = tmp_path / "ffprobe-stand-in"
    tool.write_text(f"#!/bin/sh\n{script}\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return tool


async def test_a_hanging_ffprobe_is_killed_at_the_deadline_with_its_children(
    tmp_path: Path, media: Media
) -> None:
    pids = tmp_path / "pids"
    # The stand-in starts a child of its own and hangs: both must be gone after the deadline.
    hang = _stand_in(tmp_path, f"sleep 300 & echo $$ $! > {pids}\nwait")
    result = await enrich(media("movie.mkv"), ffprobe=str(hang), deadline=0.5)
    assert isinstance(result, EnrichmentFailed)
    assert "did not finish within 0.5 s" in result.reason
    for pid in map(int, pids.read_text().split()):
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(f"process {pid} outlived the deadline")


async def test_a_missing_tool_is_unavailable_with_the_reason(tmp_path: Path) -> None:
    enricher = FfprobeEnricher(FfprobeOptions(ffprobe=str(tmp_path / "no-such-ffprobe")))
    availability = enricher.available()
    assert not availability.ok and "not found" in availability.reason
    result = await enricher.enrich(EnrichmentInput("a", str(tmp_path / "x.mkv"), "x.mkv"))
    assert isinstance(result, EnrichmentFailed) and "not found" in result.reason


def test_the_built_ins_are_registered_through_entry_points() -> None:
    found, broken = discover()
    assert "ffprobe" in found and broken == []
    assert found["ffprobe"].kind == "technical"
