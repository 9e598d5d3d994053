"""What ffprobe says about a file, as the catalog keeps it: pure parsing, no process.

`ffprobe -v error -print_format json -show_format -show_streams -show_chapters FILE` prints
strings for most numbers ("duration": "1.000000", "bit_rate": "60512"); everything here is
coerced to int / float, and what is missing or unparsable becomes None rather than a crash.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

# Transfer characteristics that mean high dynamic range (ffprobe's names).
_PQ = "smpte2084"
_HLG = "arib-std-b67"
_DOVI_SIDE_DATA = ("DOVI configuration record", "Dolby Vision RPU Data")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number  # NaN is not a duration


def _rate(value: Any) -> float | None:
    """ffprobe's rational frame rates ("25/1", "30000/1001"); "0/0" means unknown."""
    if not isinstance(value, str) or "/" not in value:
        return _float(value)
    try:
        rate = Fraction(value)
    except (ValueError, ZeroDivisionError):
        return None
    return round(float(rate), 3) if rate > 0 else None


def _bit_depth(stream: dict[str, Any]) -> int | None:
    depth = _int(stream.get("bits_per_raw_sample"))
    if depth:
        return depth
    pix = str(stream.get("pix_fmt") or "")
    for bits in (16, 14, 12, 10):
        if f"p{bits}" in pix:
            return bits
    return 8 if pix else None


def hdr_kind(stream: dict[str, Any]) -> str:
    """SDR, HDR10, HLG or Dolby Vision, from the colour tags and side data of a video stream."""
    side = stream.get("side_data_list") or []
    if any(isinstance(s, dict) and s.get("side_data_type") in _DOVI_SIDE_DATA for s in side):
        return "Dolby Vision"
    transfer = stream.get("color_transfer")
    if transfer == _PQ:
        return "HDR10"
    if transfer == _HLG:
        return "HLG"
    return "SDR"


def _disposition(stream: dict[str, Any], flag: str) -> bool:
    return bool((stream.get("disposition") or {}).get(flag))


def _tags(stream: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in (stream.get("tags") or {}).items()}


def _stream(stream: dict[str, Any]) -> dict[str, Any]:
    tags = _tags(stream)
    kind = stream.get("codec_type")
    out: dict[str, Any] = {
        "index": _int(stream.get("index")),
        "type": kind,
        "codec": stream.get("codec_name"),
        "profile": stream.get("profile"),
        "language": tags.get("language"),
        "title": tags.get("title"),
        "default": _disposition(stream, "default"),
        "forced": _disposition(stream, "forced"),
    }
    if kind == "video":
        field_order = stream.get("field_order")
        out.update(
            width=_int(stream.get("width")),
            height=_int(stream.get("height")),
            frame_rate=_rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate")),
            scan_type=(
                None
                if field_order in (None, "unknown")
                else "progressive"
                if field_order == "progressive"
                else "interlaced"
            ),
            pixel_format=stream.get("pix_fmt"),
            bit_depth=_bit_depth(stream),
            color_primaries=stream.get("color_primaries"),
            color_transfer=stream.get("color_transfer"),
            color_matrix=stream.get("color_space"),
            hdr=hdr_kind(stream),
        )
    elif kind == "audio":
        out.update(
            channels=_int(stream.get("channels")),
            channel_layout=stream.get("channel_layout"),
            sample_rate=_int(stream.get("sample_rate")),
        )
    return out


def _chapter(chapter: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": _float(chapter.get("start_time")),
        "end": _float(chapter.get("end_time")),
        "title": _tags(chapter).get("title"),
    }


def parse_probe(doc: dict[str, Any]) -> dict[str, Any]:
    """The technical fields kept from ffprobe's JSON document."""
    fmt = doc.get("format") or {}
    streams = [_stream(s) for s in doc.get("streams") or [] if isinstance(s, dict)]
    return {
        "container": fmt.get("format_name"),
        "duration": _float(fmt.get("duration")),
        "bit_rate": _int(fmt.get("bit_rate")),
        "streams": streams,
        "chapters": [_chapter(c) for c in doc.get("chapters") or [] if isinstance(c, dict)],
    }


def summary(technical: dict[str, Any]) -> dict[str, Any]:
    """The fields people filter on, as the catalog promotes them to columns."""
    streams = technical.get("streams") or []
    video = next((s for s in streams if s.get("type") == "video"), None)

    def languages(kind: str) -> list[str]:
        found = [s.get("language") for s in streams if s.get("type") == kind]
        return sorted({lang for lang in found if lang and lang != "und"})

    return {
        "duration": technical.get("duration"),
        "container": technical.get("container"),
        "video_codec": video.get("codec") if video else None,
        "width": video.get("width") if video else None,
        "height": video.get("height") if video else None,
        "hdr": video.get("hdr") if video else None,
        "audio_languages": languages("audio"),
        "subtitle_languages": languages("subtitle"),
    }
