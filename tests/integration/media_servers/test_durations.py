"""Both durations are kept — ffprobe's and the media server's — and quality control warns when
they disagree by more than 2 %, without refusing the asset: a real clip, probed for real."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes_media_servers.plex import FakePlex, PlexVideo
from tests.integration.media_servers.conftest import PLEX_TOKEN, Cli
from tests.media import media, needs_ffmpeg

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends, needs_ffmpeg]
__all__ = ["media"]


def test_a_server_duration_far_from_the_probe_is_a_qc_warning(
    plex: FakePlex, disk: Path, cli: Cli, tmp_path: Path, media: Callable[[str], Path]
) -> None:
    section = plex.section("1", "movie", "Movies", "/data/movies")
    for name, duration_ms in (("Close (2020).mkv", 2000), ("Far (2021).mkv", 60_000)):
        (disk / "movies").mkdir(exist_ok=True)
        shutil.copy(media("movie.mkv"), disk / "movies" / name)
        section.items.append(
            PlexVideo(
                guid=f"plex://movie/{name[:3].lower()}",
                title=name.split(" (")[0],
                file=f"/data/movies/{name}",
                duration_ms=duration_ms,
            )
        )
    token = tmp_path / "token"
    token.write_text(PLEX_TOKEN)
    cli.json(
        "source",
        "add",
        "--type",
        "plex",
        "--name",
        "home",
        "--url",
        plex.url,
        "--token-file",
        str(token),
        "--path-mapping",
        f"/data={disk}",
    )
    cli.json("source", "discover", "home")
    cli.json(
        "collection",
        "update",
        "Movies",
        "--sync-enable",
        "--add-enricher",
        "ffprobe",
        "--priority",
        "10",
    )
    done = cli.json("collection", "ingest", "Movies", "--enrich")
    assert done["stats"]["assets_ingested"] == 2
    listed = cli.json("asset", "list", "--collection", "Movies")["assets"]
    by_key = {a["canonical_key"]: a["id"] for a in listed}
    close = cli.json("asset", "show", by_key["plex://movie/clo"])["asset"]
    far = cli.json("asset", "show", by_key["plex://movie/far"])["asset"]
    assert close["state"] == far["state"] == "ready"  # a warning never refuses
    assert close["qc"]["warnings"] == []
    assert [w["rule"] for w in far["qc"]["warnings"]] == ["duration_agrees"]
    assert "the media server says 60.0 s" in far["qc"]["warnings"][0]["reason"]
    assert far["tech_metadata"]["server_duration"] == 60.0  # the server's, kept
    assert 1.5 < far["technical"]["duration"] < 2.5  # ffprobe's, kept
