"""Enrichment through the command line, in process: ingest with --enrich, collection show's
readiness, `apollonia enrich`, `apollonia job list/show/retry`, and `apollonia run --once`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.integration.enrichment.helpers import copy, rows
from tests.media import media, needs_ffmpeg, truncated

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends, needs_ffmpeg]
__all__ = ["media"]
Media = Callable[[str], Path]


def library(tmp_path: Path, media: Media) -> Path:
    root = tmp_path / "films"
    root.mkdir()
    copy(media("movie.mkv"), root / "good.mkv")
    truncated(media("long.mkv"), root / "cut.mkv")
    return root


def setup(root: Path, *extra: str) -> None:
    assert (
        run_cli(
            "source", "add", "--type", "filesystem", "--name", "Local", "--path", str(root)
        ).code
        == 0
    )
    added = run_cli(
        "collection", "add", "--source", "Local", "--name", "Films", "--path", str(root),
        "--enricher", "ffprobe:1", *extra,
    )  # fmt: skip
    assert added.code == 0, added.stderr


def test_ingest_with_enrich_reports_enriched_and_failed(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    root = library(tmp_path, media)
    setup(root)
    shown = run_cli("collection", "show", "Films", "--json").json()["collection"]
    assert shown["readiness"] == {"can_reach_ready": True, "why": None}
    result = run_cli("collection", "ingest", "Films", "--enrich", "--json")
    assert result.code == 0, result.stderr
    (tally,) = result.json()["enrichment"]
    assert (tally["collection"], tally["enriched"], tally["failed"]) == ("Films", 1, 1)
    (failure,) = [f for f in tally["failures"] if f["enricher"] == "qc"]
    assert failure["canonical_key"] == "cut.mkv" and "tail_decodes" in failure["reason"]
    states = dict(rows(cli_catalog_ref, "SELECT canonical_key, state FROM assets"))
    assert states == {"good.mkv": "ready", "cut.mkv": "new"}
    human = run_cli("collection", "ingest", "Films", "--enrich")
    assert human.code == 0 and "Enrichment: nothing to enrich" in human.stdout

    jobs = run_cli("job", "list", "--json").json()["jobs"]
    assert sorted(j["status"] for j in jobs) == ["completed", "completed"]
    shown_job = run_cli("job", "show", jobs[0]["id"][:8], "--json").json()["job"]
    assert shown_job["logs"][0]["message"].startswith("claimed by")


def test_a_collection_without_a_technical_enricher_says_it_cannot_reach_ready(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    root = library(tmp_path, media)
    assert (
        run_cli(
            "source", "add", "--type", "filesystem", "--name", "Local", "--path", str(root)
        ).code
        == 0
    )
    assert (
        run_cli(
            "collection", "add", "--source", "Local", "--name", "Bare", "--path", str(root)
        ).code
        == 0
    )
    doc = run_cli("collection", "show", "Bare", "--json").json()["collection"]
    assert doc["readiness"]["can_reach_ready"] is False
    assert "no technical enricher" in doc["readiness"]["why"]
    human = run_cli("collection", "show", "Bare")
    assert "can reach ready" in human.stdout and "no technical enricher" in human.stdout
    run_cli("collection", "ingest", "Bare")
    assert rows(cli_catalog_ref, "SELECT count(*) FROM jobs") == [(0,)]


def test_manual_collections_wait_for_apollonia_enrich(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    root = library(tmp_path, media)
    setup(root, "--no-auto-enrich")
    assert run_cli("collection", "ingest", "Films").code == 0
    dry = run_cli("enrich", "--dry-run", "--json").json()
    assert len(dry["would_run"]) == 2 and dry["jobs"] == []
    done = run_cli("enrich", "--collection", "Films", "--json")
    assert done.code == 0, done.stderr
    (tally,) = done.json()["collections"]
    assert (tally["enriched"], tally["failed"]) == (1, 1)


def test_a_failed_job_out_of_retries_waits_for_job_retry(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    (root / "empty.mkv").write_bytes(b"")
    setup(root)
    env = {"APOLLONIA_ENRICHMENT_MAX_ATTEMPTS": "1"}
    run_cli("collection", "ingest", "Films", "--enrich", env=env)
    failed = run_cli("job", "list", "--status", "failed", "--json").json()["jobs"]
    assert len(failed) == 1
    assert run_cli("enrich", "--json", env=env).json()["jobs"] == []  # nothing due
    retried = run_cli("job", "retry", failed[0]["id"], "--json")
    assert retried.code == 0, retried.stderr
    assert retried.json()["queued"][0]["attempt"] == 2
    again = run_cli("job", "retry", failed[0]["id"], "--json")
    assert again.code == 1 and again.json()["errors"][0]["code"] == "job_already_followed"
    assert run_cli("job", "retry", "--json").code == 1  # no target


def test_apollonia_run_once_brings_a_folder_to_ready(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    copy(media("movie.mp4"), root / "film.mp4")
    result = run_cli("run", "--data", str(root), "--once")
    assert result.code == 0, result.stderr
    assert rows(cli_catalog_ref, "SELECT state FROM assets") == [("ready",)]


def test_the_ffprobe_path_setting_is_honoured(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    root = library(tmp_path, media)
    setup(root)
    env = {"APOLLONIA_FFPROBE_PATH": str(tmp_path / "no-such-ffprobe")}
    result = run_cli("collection", "ingest", "Films", "--enrich", "--json", env=env)
    assert result.code == 0
    (tally,) = result.json()["enrichment"]
    assert (tally["enriched"], tally["failed"], tally["other"]) == (0, 0, 2)
    errors = rows(cli_catalog_ref, "SELECT DISTINCT status, error FROM jobs")
    assert errors == [
        (
            "pending",
            f"enricher ffprobe unavailable: {tmp_path}/no-such-ffprobe not found "
            "(install Debian's ffmpeg package)",
        )
    ]
