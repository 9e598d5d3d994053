"""`asset list` filters on the promoted columns and `asset show`'s enrichment, QC and approval,
on a real catalog whose assets were enriched from real media."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run_cli
from tests.integration.enrichment.helpers import copy
from tests.media import media, needs_ffmpeg, truncated

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends, needs_ffmpeg]
__all__ = ["media"]
Media = Callable[[str], Path]


@pytest.fixture
def enriched(tmp_path: Path, config_dir: Path, media: Media) -> dict[str, str]:
    """key -> asset id of a library: two h264 at 240 and 480 lines, one HEVC, one truncated."""
    root = tmp_path / "films"
    root.mkdir()
    copy(media("movie.mkv"), root / "good.mkv")
    copy(media("tall.mkv"), root / "tall.mkv")
    copy(media("hdr10.mkv"), root / "hdr.mkv")
    truncated(media("long.mkv"), root / "cut.mkv")
    assert (
        run_cli(
            "source", "add", "--type", "filesystem", "--name", "Local", "--path", str(root)
        ).code
        == 0
    )
    added = run_cli(
        "collection", "add", "--source", "Local", "--name", "Films", "--path", str(root),
        "--enricher", "ffprobe:1",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    ingest = run_cli("collection", "ingest", "Films", "--enrich", "--json")
    assert ingest.code == 0, ingest.stderr
    listed = run_cli("asset", "list", "--json").json()["assets"]
    return {a["canonical_key"]: a["id"] for a in listed}


def keys(*args: str) -> list[str]:
    result = run_cli("asset", "list", *args, "--json")
    assert result.code == 0, result.stderr
    return sorted(a["canonical_key"] for a in result.json()["assets"])


def test_asset_list_filters_on_qc_codec_and_height(enriched: dict[str, str]) -> None:
    assert sorted(enriched) == ["cut.mkv", "good.mkv", "hdr.mkv", "tall.mkv"]
    assert keys("--qc-failed") == ["cut.mkv"]
    assert keys("--qc-rule", "tail_decodes") == ["cut.mkv"]
    assert keys("--qc-rule", "duration") == []
    assert keys("--codec", "hevc") == ["hdr.mkv"]
    assert keys("--codec", "H264") == ["cut.mkv", "good.mkv", "tall.mkv"]
    assert keys("--min-height", "480") == ["tall.mkv"]
    assert keys("--state", "ready", "--codec", "h264") == ["good.mkv", "tall.mkv"]
    assert keys("--qc-failed", "--min-height", "241") == []
    human = run_cli("asset", "list", "--qc-rule", "tail_decodes")
    assert human.code == 0 and "cut.mkv" in human.stdout and "good.mkv" not in human.stdout


def test_asset_show_has_the_promoted_fields_qc_enrichers_and_approval(
    enriched: dict[str, str],
) -> None:
    good = show(enriched["good.mkv"])
    technical = good["technical"]
    assert (technical["container"], technical["video_codec"]) == ("matroska,webm", "h264")
    assert (technical["width"], technical["height"], technical["hdr"]) == (320, 240, "SDR")
    assert technical["audio_languages"] == ["eng"] and technical["duration"] > 1.5
    assert technical["qc_failed_rules"] == []
    assert good["qc"]["passed"] is True and good["qc"]["failures"] == []
    (ffprobe,) = good["enrichers"]
    assert (ffprobe["id"], ffprobe["ok"], ffprobe["tool"]) == ("ffprobe", True, "ffprobe")
    assert ffprobe["tool_version"]
    assert good["approval"] == {"state": "waiting for a decision", "last": None}

    cut = show(enriched["cut.mkv"])
    assert cut["state"] == "new" and cut["qc"]["passed"] is False
    (failure,) = cut["qc"]["failures"]
    assert failure["rule"] == "tail_decodes" and "do not decode" in failure["reason"]
    assert cut["approval"]["state"] == "not ready"

    approved = run_cli("asset", "approve", enriched["good.mkv"], "--by", "ops", "--note", "ok")
    assert approved.code == 0, approved.stderr
    last = show(enriched["good.mkv"])["approval"]
    assert last["state"] == "approved"
    assert (last["last"]["action"], last["last"]["actor"]) == ("approve", "ops")

    human = run_cli("asset", "show", enriched["cut.mkv"])
    assert human.code == 0, human.stderr
    assert "qc:                     FAILED" in human.stdout
    assert "tail_decodes: the last seconds do not decode" in human.stdout
    assert "video_codec" in human.stdout and "h264" in human.stdout
    assert "approval:               not ready" in human.stdout
    assert "ffprobe" in run_cli("asset", "show", enriched["good.mkv"]).stdout


def show(asset_id: str) -> dict[str, Any]:
    result = run_cli("asset", "show", asset_id, "--json")
    assert result.code == 0, result.stderr
    doc: dict[str, Any] = result.json()["asset"]
    return doc
