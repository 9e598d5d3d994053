"""A worker on another machine: the media mounted elsewhere than where the ingestor saw it, found
through `APOLLONIA_ENRICHER_PATH_MAPPINGS` (SERVER_PREFIX=LOCAL_PREFIX, longest prefix wins)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from apollonia import bootstrap
from apollonia.settings import load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.catalog import PathMapping
from consumer.service_layer.enrichment import EnrichmentPolicy, Scope
from tests.integration.enrichment.helpers import (
    apply_files,
    copy,
    enrichment,
    make_collection,
    rows,
)
from tests.media import media, needs_ffmpeg

pytestmark = [pytest.mark.integration]
__all__ = ["media"]
Media = Callable[[str], Path]


@needs_ffmpeg
async def test_a_worker_finds_the_media_through_its_mapping(
    catalog: CatalogDatabase, catalog_path: Path, tmp_path: Path, media: Media
) -> None:
    server = tmp_path / "server" / "films"
    server.mkdir(parents=True)
    film = copy(media("movie.mkv"), server / "film.mkv")
    collection = await make_collection(catalog, server)
    await apply_files(catalog, collection, server, film)
    # This worker's machine mounts the share elsewhere: the server's path is not here.
    local = tmp_path / "mnt" / "nas"
    local.parent.mkdir()
    (tmp_path / "server").rename(local)
    assert not film.exists()

    mappings = (
        PathMapping.parse(f"{tmp_path}={tmp_path}/nowhere"),  # shorter: loses
        PathMapping.parse(f"{tmp_path}/server={local}"),
    )
    outcomes = await enrichment(catalog, path_mappings=mappings).work(Scope(), once=True)
    assert [o.outcome for o in outcomes] == ["ready"], outcomes
    logs = [m for (m,) in rows(catalog_path, "SELECT message FROM job_logs")]
    assert f"path mapped for this worker: {local}/films/film.mkv" in logs
    # The catalog keeps the server's path: the mapping is this worker's business.
    assert rows(catalog_path, "SELECT path FROM assets") == [(str(film),)]


def test_a_path_no_mapping_matches_is_used_as_it_is() -> None:
    policy = EnrichmentPolicy(
        worker_id="w", path_mappings=(PathMapping.parse("/srv/media=/mnt/nas"),)
    )
    assert policy.local_path("/srv/media/TV/a.mkv") == "/mnt/nas/TV/a.mkv"
    assert policy.local_path("/srv/mediaX/a.mkv") == "/srv/mediaX/a.mkv"
    assert EnrichmentPolicy(worker_id="w").local_path("/srv/a.mkv") == "/srv/a.mkv"


def test_the_setting_takes_comma_separated_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "APOLLONIA_ENRICHER_PATH_MAPPINGS", "/srv/media/=/mnt/nas, /srv/media/TV=/mnt/tv"
    )
    settings = load_settings()
    assert settings.enricher_path_mappings == ["/srv/media=/mnt/nas", "/srv/media/TV=/mnt/tv"]
    policy = bootstrap.enrichment_policy(settings)
    assert policy.local_path("/srv/media/TV/a.mkv") == "/mnt/tv/a.mkv"
    assert policy.local_path("/srv/media/Films/b.mkv") == "/mnt/nas/Films/b.mkv"


def test_a_malformed_pair_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLONIA_ENRICHER_PATH_MAPPINGS", "srv=/mnt/nas")
    with pytest.raises(ValidationError, match="FROM=TO with absolute paths"):
        load_settings()
