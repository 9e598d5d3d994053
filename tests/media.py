"""Real media files for tests, made by ffmpeg from its test sources (`-f lavfi testsrc/sine`),
a second or two each. Generated once per test session into a cache folder."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None, reason="ffmpeg is not installed (Debian: apt-get install ffmpeg)"
)

VIDEO = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"]
AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]

RECIPES: dict[str, list[str]] = {
    "movie.mkv": [
        *VIDEO,
        *AUDIO,
        "-t",
        "2",
        *H264,
        "-c:a",
        "aac",
        "-metadata:s:a:0",
        "language=eng",
    ],
    "movie.mp4": [*VIDEO, *AUDIO, "-t", "2", *H264, "-c:a", "aac"],
    "movie.ts": [*VIDEO, *AUDIO, "-t", "2", *H264, "-c:a", "aac", "-f", "mpegts"],
    "long.mkv": [*VIDEO, *AUDIO, "-t", "8", *H264, "-c:a", "aac"],
    "long.mp4": [*VIDEO, "-t", "8", *H264],
    "song.flac": [*AUDIO, "-t", "2", "-c:a", "flac"],
    "tall.mkv": ["-f", "lavfi", "-i", "testsrc=size=320x480:rate=25", "-t", "1", *H264],
    "hdr10.mkv": [
        *VIDEO,
        "-t",
        "1",
        "-c:v",
        "libx265",
        "-pix_fmt",
        "yuv420p10le",
        "-color_primaries",
        "bt2020",
        "-color_trc",
        "smpte2084",
        "-colorspace",
        "bt2020nc",
        "-x265-params",
        "log-level=error",
    ],
}


def _make(folder: Path, name: str) -> Path:
    target = folder / name
    if not target.exists():
        assert FFMPEG is not None
        subprocess.run(
            [FFMPEG, "-nostdin", "-v", "error", "-y", *RECIPES[name], str(target)],
            check=True,
            timeout=120,
        )
    return target


def truncated(source: Path, target: Path) -> Path:
    """The first half of `source`: what an interrupted copy leaves."""
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`media("movie.mkv")`: the path of a generated file (made on first use)."""
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
    folder = tmp_path_factory.mktemp("media")
    return lambda name: _make(folder, name)
