"""The enrichment worker on a real catalog with real media (ffmpeg-generated): the road from
`new` through `enriching` to `ready`, and every way off it."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.jobs import DISCARDED
from consumer.service_layer.apply import FileMoved, apply_changes
from consumer.service_layer.enrichment import Scope
from tests.integration.enrichment.helpers import (
    apply_files,
    copy,
    enrichment,
    make_collection,
    observe,
    rows,
)
from tests.media import media, needs_ffmpeg, truncated

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends, needs_ffmpeg]
__all__ = ["media"]
Media = Callable[[str], Path]


async def test_a_good_file_goes_new_enriching_ready(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    film = copy(media("movie.mkv"), root / "film.mkv")
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, film)
    assert rows(catalog_ref, "SELECT state FROM assets") == [("new",)]
    assert rows(catalog_ref, "SELECT status, attempt FROM jobs") == [("pending", 1)]

    work = enrichment(catalog)
    claimed = await work.claim(Scope(), 5)
    assert len(claimed) == 1
    assert rows(catalog_ref, "SELECT state FROM assets") == [("enriching",)]
    assert rows(catalog_ref, "SELECT status, worker_id FROM jobs") == [("in_progress", "w1")]

    outcome = await work.process(claimed[0])
    assert outcome.outcome == "ready", outcome.failures
    state, duration, container, codec, width, height, hdr, audio, failed = rows(
        catalog_ref,
        "SELECT state, duration, container, video_codec, width, height, hdr, audio_languages, "
        "qc_failed_rules FROM assets",
    )[0]
    assert state == "ready"
    assert duration == pytest.approx(2.0, abs=0.2)
    assert "matroska" in container and codec == "h264" and (width, height) == (320, 240)
    assert hdr == "SDR" and json.loads(audio) == ["eng"] and json.loads(failed) == []
    assert rows(catalog_ref, "SELECT status, error FROM jobs") == [("completed", None)]
    assert rows(catalog_ref, "SELECT passed FROM qc_results") == [(1,)]
    ((enricher, ok, tool, version),) = rows(
        catalog_ref, "SELECT enricher_id, ok, tool, tool_version FROM enrichment_results"
    )
    assert (enricher, ok, tool) == ("ffprobe", 1, "ffprobe") and version
    messages = [m for (m,) in rows(catalog_ref, "SELECT message FROM job_logs ORDER BY id")]
    assert messages[0].startswith("claimed by w1") and "asset ready" in messages[-1]
    history = rows(catalog_ref, "SELECT decision, reason FROM asset_history ORDER BY id")
    assert history[-1][0] == "enrich" and "passed" in history[-1][1]


async def test_a_truncated_mkv_probes_but_goes_back_to_new_with_tail_decodes(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    broken = truncated(media("long.mkv"), root / "broken.mkv")
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, broken)
    (outcome,) = await enrichment(catalog).work(once=True)
    assert outcome.outcome == "qc_failed"
    state, failed = rows(catalog_ref, "SELECT state, qc_failed_rules FROM assets")[0]
    assert state == "new" and "tail_decodes" in json.loads(failed)
    # Quality control's verdict stands for this content: no retry is queued.
    assert rows(catalog_ref, "SELECT status FROM jobs") == [("completed",)]
    (failures,) = rows(catalog_ref, "SELECT failures FROM qc_results")[0]
    assert any(f["rule"] == "tail_decodes" for f in json.loads(failures))


async def test_a_truncated_mp4_fails_to_probe_and_is_retried_with_backoff(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    broken = truncated(media("long.mp4"), root / "broken.mp4")
    empty = root / "empty.mkv"
    empty.write_bytes(b"")
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, broken, empty)
    outcomes = await enrichment(catalog, max_attempts=2).work(once=True)
    assert sorted(o.outcome for o in outcomes) == ["failed", "failed"]
    assert all(o.failures[0].enricher == "ffprobe" for o in outcomes)
    assert rows(catalog_ref, "SELECT DISTINCT state FROM assets") == [("new",)]
    jobs = rows(
        catalog_ref,
        "SELECT attempt, status, next_attempt_at IS NOT NULL FROM jobs ORDER BY attempt",
    )
    # Each failed attempt is followed by attempt 2, not due yet (backoff).
    assert jobs == [(1, "failed", 0), (1, "failed", 0), (2, "pending", 1), (2, "pending", 1)]


async def test_an_audio_only_collection_accepts_a_flac_that_a_video_one_refuses(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    music, films = tmp_path / "music", tmp_path / "films"
    music.mkdir()
    films.mkdir()
    song = copy(media("song.flac"), music / "song.flac")
    misfiled = copy(media("song.flac"), films / "song.flac")
    audio = await make_collection(catalog, music, audio_only=True, name="Music")
    video = await make_collection(catalog, films, name="Films")
    await apply_files(catalog, audio, music, song)
    await apply_files(catalog, video, films, misfiled)
    outcomes = {o.collection: o for o in await enrichment(catalog).work(once=True)}
    assert outcomes["Music"].outcome == "ready"
    assert outcomes["Films"].outcome == "qc_failed"
    assert "video_stream" in outcomes["Films"].failures[0].reason


async def test_a_result_for_content_that_changed_meanwhile_is_discarded(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    film = copy(media("movie.mkv"), root / "film.mkv")
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, film)
    work = enrichment(catalog)
    (claimed,) = await work.claim(Scope(), 1)
    ran = await work.run(claimed)  # the tools ran on the old content...
    copy(media("movie.mp4"), film)  # ...and the file is rewritten before the result is written
    await apply_files(catalog, collection, root, film)
    outcome = await work.record(claimed, ran)
    assert outcome.outcome == "discarded"
    assert rows(catalog_ref, "SELECT state FROM assets") == [("new",)]
    assert rows(catalog_ref, "SELECT count(*) FROM qc_results") == [(0,)]
    jobs = rows(catalog_ref, "SELECT status, error FROM jobs ORDER BY queued_at")
    assert jobs == [("completed", DISCARDED), ("pending", None)]
    # The job for the new content then brings it to ready.
    (fresh,) = await work.work(once=True)
    assert fresh.outcome == "ready"


async def test_a_file_moved_while_it_is_probed_is_probed_again_at_its_new_path(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    film = copy(media("movie.mkv"), root / "film.mkv")
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, film)
    work = enrichment(catalog)
    (claimed,) = await work.claim(Scope(), 1)
    # The file is renamed (and the move applied) just as the tools start on the old path.
    moved = root / "Film (2026).mkv"
    os.rename(film, moved)
    async with catalog.unit_of_work() as uow:
        await apply_changes(
            uow, collection, [FileMoved("film.mkv", observe(moved, root))], now=datetime.now(UTC)
        )
        await uow.commit()
    outcome = await work.process(claimed)
    assert outcome.outcome == "requeued", outcome.failures
    # Nothing about the vanished path is recorded, no attempt is burned, the job waits for no one.
    assert rows(catalog_ref, "SELECT count(*) FROM qc_results") == [(0,)]
    assert rows(catalog_ref, "SELECT count(*) FROM enrichment_results") == [(0,)]
    assert rows(catalog_ref, "SELECT state FROM assets") == [("new",)]
    assert rows(catalog_ref, "SELECT status, attempt, next_attempt_at FROM jobs") == [
        ("pending", 1, None)
    ]
    (again,) = await work.work(once=True)
    assert again.outcome == "ready", again.failures
    assert rows(catalog_ref, "SELECT state, path FROM assets") == [("ready", str(moved))]
    messages = [m for (m,) in rows(catalog_ref, "SELECT message FROM job_logs ORDER BY id")]
    assert any(f"moved to {moved} while {film} was read" in m for m in messages)


async def test_a_missing_ffprobe_makes_jobs_wait_with_the_reason(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    film = copy(media("movie.mkv"), root / "film.mkv")
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, film)
    (outcome,) = await enrichment(catalog, ffprobe="/nonexistent/ffprobe").work(once=True)
    assert outcome.outcome == "waiting"
    status, attempt, error, due = rows(
        catalog_ref, "SELECT status, attempt, error, next_attempt_at IS NOT NULL FROM jobs"
    )[0]
    assert (status, attempt, due) == ("pending", 1, 1)
    assert "/nonexistent/ffprobe not found" in error
    assert rows(catalog_ref, "SELECT state FROM assets") == [("new",)]


async def test_a_collection_without_enrichers_queues_nothing(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    film = copy(media("movie.mkv"), root / "film.mkv")
    collection = await make_collection(catalog, root, enrichers=())
    await apply_files(catalog, collection, root, film)
    assert rows(catalog_ref, "SELECT count(*) FROM assets") == [(1,)]
    assert rows(catalog_ref, "SELECT count(*) FROM jobs") == [(0,)]


async def test_automatic_enrichment_off_leaves_jobs_for_the_operator(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    film = copy(media("movie.mkv"), root / "film.mkv")
    collection = await make_collection(catalog, root, auto_enrich=False)
    await apply_files(catalog, collection, root, film)
    work = enrichment(catalog)
    assert await work.work(once=True) == []  # the worker leaves it alone
    (outcome,) = await work.work(Scope(manual=True), once=True)  # `apollonia enrich` does not
    assert outcome.outcome == "ready"


async def test_an_expired_lease_is_claimed_again(
    catalog: CatalogDatabase, catalog_ref: Path | str, tmp_path: Path, media: Media
) -> None:
    root = tmp_path / "films"
    root.mkdir()
    film = copy(media("movie.mkv"), root / "film.mkv")
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, film)
    first = enrichment(catalog, worker="dead", lease_seconds=0.2)
    assert len(await first.claim(Scope(), 1)) == 1  # ...and the worker dies here
    second = enrichment(catalog, worker="alive")
    assert await second.claim(Scope(), 1) == []  # the lease still holds
    await asyncio.sleep(0.3)
    (outcome,) = await second.work(once=True)
    assert outcome.outcome == "ready"
    assert rows(catalog_ref, "SELECT worker_id, status FROM jobs") == [("alive", "completed")]
