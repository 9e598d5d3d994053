"""ffprobe's JSON read into the catalog's fields, and the QC rules — pure, no process."""

from __future__ import annotations

from typing import Any

import pytest

from consumer.domain.enrichment import merge_editorial
from consumer.domain.probe import hdr_kind, parse_probe, summary
from consumer.domain.quality import TailCheck, check, duration_warning


def video(**extra: Any) -> dict[str, Any]:
    return {
        "index": "0",
        "codec_type": "video",
        "codec_name": "h264",
        "width": 1920,
        "height": "1080",
        "avg_frame_rate": "30000/1001",
        "field_order": "progressive",
        "pix_fmt": "yuv420p",
        **extra,
    }


def doc(*streams: dict[str, Any], duration: Any = "12.5") -> dict[str, Any]:
    return {
        "format": {"format_name": "matroska,webm", "duration": duration, "bit_rate": "800000"},
        "streams": list(streams),
        "chapters": [{"start_time": "0.000000", "end_time": "6.0", "tags": {"title": "One"}}],
    }


def test_strings_become_numbers() -> None:
    parsed = parse_probe(doc(video()))
    assert parsed["duration"] == 12.5 and parsed["bit_rate"] == 800000
    (stream,) = parsed["streams"]
    assert (stream["index"], stream["height"], stream["frame_rate"]) == (0, 1080, 29.97)
    assert stream["scan_type"] == "progressive" and stream["bit_depth"] == 8
    assert parsed["chapters"] == [{"start": 0.0, "end": 6.0, "title": "One"}]


@pytest.mark.parametrize("duration", [None, "N/A", "nan", ""])
def test_a_missing_or_broken_duration_is_none_and_fails_qc(duration: Any) -> None:
    parsed = parse_probe(doc(video(), duration=duration))
    assert parsed["duration"] is None
    assert [f.rule for f in check(parsed, TailCheck(True)).failures] == ["duration"]


def test_unknown_rates_and_interlacing() -> None:
    (stream,) = parse_probe(
        doc(video(avg_frame_rate="0/0", r_frame_rate="25/1", field_order="tt"))
    )["streams"]
    assert stream["frame_rate"] == 25.0 and stream["scan_type"] == "interlaced"


@pytest.mark.parametrize(
    ("stream", "kind"),
    [
        (video(), "SDR"),
        (video(color_transfer="smpte2084", color_primaries="bt2020"), "HDR10"),
        (video(color_transfer="arib-std-b67"), "HLG"),
        (
            video(
                color_transfer="smpte2084",
                side_data_list=[{"side_data_type": "DOVI configuration record"}],
            ),
            "Dolby Vision",
        ),
    ],
)
def test_hdr_kinds(stream: dict[str, Any], kind: str) -> None:
    assert hdr_kind(stream) == kind


def test_summary_promotes_what_people_filter_on() -> None:
    audio = {
        "index": 1,
        "codec_type": "audio",
        "codec_name": "aac",
        "channels": "6",
        "tags": {"language": "fre"},
        "disposition": {"default": 1},
    }
    subs = {
        "index": 2,
        "codec_type": "subtitle",
        "codec_name": "subrip",
        "tags": {"LANGUAGE": "eng"},
        "disposition": {"forced": 1},
    }
    parsed = parse_probe(doc(video(), audio, subs))
    assert summary(parsed) == {
        "duration": 12.5,
        "container": "matroska,webm",
        "video_codec": "h264",
        "width": 1920,
        "height": 1080,
        "hdr": "SDR",
        "audio_languages": ["fre"],
        "subtitle_languages": ["eng"],
    }
    assert parsed["streams"][2]["forced"] is True and parsed["streams"][1]["default"] is True


def test_qc_rules_each_say_why() -> None:
    assert [f.rule for f in check(None, None).failures] == ["probe"]
    no_streams = parse_probe(doc())
    rules = [f.rule for f in check(no_streams, TailCheck(False, "File ended")).failures]
    assert rules == ["video_stream", "tail_decodes"]
    unchecked = check(parse_probe(doc(video())), None)
    assert [f.rule for f in unchecked.failures] == ["tail_decodes"] and not unchecked.passed
    assert check(parse_probe(doc(video())), TailCheck(True)).passed


def test_duration_disagreement_over_two_percent_is_a_warning() -> None:
    assert duration_warning(100.0, 101.5) is None
    warning = duration_warning(100.0, 103.0)
    assert warning is not None and warning.rule == "duration_agrees"
    assert duration_warning(None, 100.0) is None


def test_the_earlier_editorial_enricher_wins_a_conflict() -> None:
    merged = merge_editorial(
        [("nfo", {"title": "Alien", "year": None}), ("filename", {"title": "alien", "year": 1979})]
    )
    assert merged == {"title": "Alien", "year": 1979}
