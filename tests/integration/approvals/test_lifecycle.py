"""Approval as an operator does it, through the command line on real media: the whole road
(file → new → enriching → ready → approved → file rewritten → new, unapproved, an automatic
revocation in the trail → re-enriched → ready, waiting again), refusals that write nothing, the
bulk form's confirmation, and a re-enrichment failing quality control withdrawing an approval."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.jobs import queue_for
from consumer.service_layer import approval
from consumer.service_layer.enrichment import Scope
from tests.cli import run_cli
from tests.integration.enrichment.helpers import (
    apply_files,
    copy,
    enrichment,
    make_collection,
    rows,
)
from tests.media import media, needs_ffmpeg

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends, needs_ffmpeg]
__all__ = ["media"]
Media = Callable[[str], Path]


def ok(*args: str) -> Any:
    result = run_cli(*args, "--json")
    assert result.code == 0, (result.stdout, result.stderr)
    return result.json()


def setup_library(tmp_path: Path, media: Media) -> Path:
    root = tmp_path / "films"
    root.mkdir()
    copy(media("movie.mkv"), root / "film.mkv")
    copy(media("movie.mp4"), root / "other.mp4")
    added = run_cli("source", "add", "--type", "filesystem", "--name", "Local", "--path", str(root))
    assert added.code == 0, added.stderr
    added = run_cli(
        "collection", "add", "--source", "Local", "--name", "Films", "--path", str(root),
        "--enricher", "ffprobe:1",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    return root


def trail(db: Path | str, key: str) -> list[tuple[str, str | None, str]]:
    return rows(
        db,
        "SELECT action, reason, actor FROM approvals JOIN assets ON assets.uuid = asset_uuid "
        "WHERE canonical_key = ? ORDER BY approvals.id",
        key,
    )


def test_the_road_to_air_and_back_after_a_rewrite(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    db = cli_catalog_ref
    root = setup_library(tmp_path, media)
    ok("collection", "ingest", "Films")
    film = ok("asset", "list", "--json")["assets"]
    film_id = next(a["id"] for a in film if a["canonical_key"] == "film.mkv")
    assert rows(db, "SELECT state FROM assets WHERE uuid = ?", film_id) == [("new",)]
    assert ok("asset", "review")["assets"] == []  # nothing ready, nothing to decide

    ok("enrich")
    assert rows(db, "SELECT state, approved_for_broadcast FROM assets WHERE uuid = ?", film_id) == [
        ("ready", 0)
    ]
    queue = ok("asset", "review", "--collection", "Films")["assets"]
    assert sorted(a["canonical_key"] for a in queue) == ["film.mkv", "other.mp4"]
    assert [a["ready_since"] for a in queue] == sorted(a["ready_since"] for a in queue)
    item = next(a for a in queue if a["id"] == film_id)
    assert item["summary"]["resolution"] == "320x240"
    assert item["summary"]["video_codec"] == "h264" and item["summary"]["audio_codecs"] == ["aac"]
    assert item["summary"]["hdr"] == "SDR" and item["summary"]["audio_languages"] == ["eng"]
    assert item["summary"]["duration"] == pytest.approx(2.0, abs=0.2)
    assert item["qc"]["passed"] is True and item["qc"]["job_id"]

    approved = ok("asset", "approve", film_id[:8], "--by", "alice", "--note", "checked")
    assert approved["count"] == 1 and approved["assets"][0]["approved_for_broadcast"] is True
    row = approved["approvals"][0]
    assert (row["actor"], row["note"], row["action"]) == ("alice", "checked", "approve")
    assert row["sha256"] and row["job_id"] == item["qc"]["job_id"] and row["enrichment_digest"]
    assert row["enrichment"]["fields"]["video_codec"] == "h264"
    assert film_id not in {a["id"] for a in ok("asset", "review")["assets"]}

    # The file is rewritten with other content: the apply path withdraws the approval.
    copy(media("long.mkv"), root / "film.mkv")
    stat = (root / "film.mkv").stat()
    os.utime(root / "film.mkv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    ok("collection", "ingest", "Films")
    assert rows(db, "SELECT state, approved_for_broadcast FROM assets WHERE uuid = ?", film_id) == [
        ("new", 0)
    ]
    assert trail(db, "film.mkv") == [
        ("approve", None, "alice"),
        ("auto_revoke", "content_changed", "apollonia"),
    ]
    # The revocation names the content that had been approved.
    revoked_sha = rows(db, "SELECT sha256 FROM approvals WHERE action = 'auto_revoke'")
    assert revoked_sha == [(row["sha256"],)]

    ok("enrich")
    assert rows(db, "SELECT state, approved_for_broadcast FROM assets WHERE uuid = ?", film_id) == [
        ("ready", 0)
    ]
    assert film_id in {a["id"] for a in ok("asset", "review")["assets"]}

    story = ok("asset", "history", film_id)
    kinds = [(e["kind"], e["event"]) for e in story["entries"]]
    assert kinds[0] == ("decision", "create")
    for expected in [
        ("job", "enrich completed"),
        ("approval", "approve"),
        ("decision", "update"),
        ("approval", "auto_revoke"),
        ("decision", "enrich"),
    ]:
        assert expected in kinds
    assert kinds.index(("approval", "approve")) < kinds.index(("decision", "update"))
    assert [e["time"] for e in story["entries"]] == sorted(e["time"] for e in story["entries"])
    human = run_cli("asset", "history", film_id)
    assert human.code == 0 and "auto_revoke" in human.stdout and "by alice" in human.stdout


def test_refusals_write_nothing_and_bulk_needs_confirmation(
    tmp_path: Path, cli_catalog_ref: Path | str, media: Media
) -> None:
    db = cli_catalog_ref
    setup_library(tmp_path, media)
    ok("collection", "ingest", "Films")
    ids = {a["canonical_key"]: a["id"] for a in ok("asset", "list")["assets"]}
    # Not ready yet: refused with the reason, exit 1, nothing written.
    refused = run_cli("asset", "approve", ids["film.mkv"], "--by", "alice")
    assert refused.code == 1 and "it is new, not ready" in refused.stderr
    ok("enrich", "--asset", ids["film.mkv"])
    # All or nothing: one ready, one not.
    refused = run_cli("asset", "approve", ids["film.mkv"], ids["other.mp4"], "--by", "alice")
    assert refused.code == 1
    assert "other.mp4" in refused.stderr and "film.mkv" not in refused.stderr
    assert rows(db, "SELECT count(*) FROM approvals") == [(0,)]
    assert rows(db, "SELECT count(*) FROM assets WHERE approved_for_broadcast") == [(0,)]
    as_json = run_cli("asset", "approve", ids["other.mp4"], "--by", "alice", "--json")
    assert as_json.code == 1 and as_json.json()["errors"][0]["code"] == "decision_refused"

    # Who decides and why are required; revoking what is not approved is refused.
    assert run_cli("asset", "approve", ids["film.mkv"], "--by", " ").code == 1
    assert run_cli("asset", "revoke", ids["film.mkv"], "--by", "bob", "--note", "").code == 1
    missing_note = run_cli("asset", "revoke", ids["film.mkv"], "--by", "bob")
    assert missing_note.code != 0
    not_approved = run_cli("asset", "revoke", ids["film.mkv"], "--by", "bob", "--note", "x")
    assert not_approved.code == 1 and "not approved" in not_approved.stderr
    assert rows(db, "SELECT count(*) FROM approvals") == [(0,)]

    # The bulk form: non-interactive without --yes is refused; with --yes it approves.
    ok("enrich")
    bulk = run_cli("asset", "approve", "--collection", "Films", "--all-ready", "--by", "alice")
    assert bulk.code == 1 and "--yes" in bulk.stderr
    assert rows(db, "SELECT count(*) FROM approvals") == [(0,)]
    both = run_cli("asset", "approve", "--all-ready", "--by", "alice", "--yes")
    assert both.code == 1  # --all-ready needs --collection
    done = ok("asset", "approve", "--collection", "Films", "--all-ready", "--by", "alice", "--yes")
    assert done["count"] == 2
    assert ok("asset", "review")["count"] == 0
    again = ok("asset", "approve", "--collection", "Films", "--all-ready", "--by", "alice", "--yes")
    assert again["count"] == 0

    revoked = ok("asset", "revoke", ids["other.mp4"], "--by", "bob", "--note", "wrong cut")
    assert revoked["assets"][0]["approved_for_broadcast"] is False
    assert trail(db, "other.mp4") == [("approve", None, "alice"), ("revoke", None, "bob")]
    assert [a["id"] for a in ok("asset", "review")["assets"]] == [ids["other.mp4"]]


async def test_a_re_enrichment_failing_quality_control_withdraws_the_approval(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    film = copy(media("long.mkv"), root / "film.mkv")
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, film)
    work = enrichment(catalog)
    (outcome,) = await work.work(once=True)
    assert outcome.outcome == "ready", outcome.failures
    await approval.approve(catalog, by="alice", asset_ids=[outcome.asset_uuid])

    # The bytes rot in place (same size, same mtime: the stat signature cannot tell), and an
    # operator has the asset enriched again: its tail no longer decodes.
    stat = film.stat()
    data = bytearray(film.read_bytes())
    half = len(data) // 2
    data[half:] = bytes(len(data) - half)
    film.write_bytes(bytes(data))
    os.utime(film, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    async with catalog.unit_of_work() as uow:
        asset = await uow.assets.get_by_uuid(outcome.asset_uuid)
        assert asset is not None and asset.approved_for_broadcast
        await uow.jobs.add_many([queue_for(asset, datetime.now(UTC))])
        await uow.commit()
    (again,) = await work.work(Scope(manual=True), once=True)
    assert again.outcome in {"qc_failed", "failed"}, again.failures

    assert rows(catalog_ref, "SELECT state, approved_for_broadcast FROM assets") == [("new", 0)]
    assert rows(catalog_ref, "SELECT action, reason, actor FROM approvals ORDER BY id") == [
        ("approve", None, "alice"),
        ("auto_revoke", "qc_failed", "apollonia"),
    ]
