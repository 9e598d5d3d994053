"""Moving house: `apollonia db copy --to URL` copies a lived-in SQLite catalog (assets ready and
approved, history, runs, jobs, results, the approvals trail) into an empty PostgreSQL one,
verifies it table by table, and refuses a target that holds anything."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apollonia.settings import sqlite_url
from consumer.adapters.db.copy import row_counts, tables
from consumer.adapters.db.migrate import HEAD_REVISION
from tests import postgres_required
from tests.cli import run_cli
from tests.integration.enrichment.helpers import copy
from tests.media import media, needs_ffmpeg

pytestmark = [pytest.mark.integration, needs_ffmpeg]
__all__ = ["media"]
Media = Callable[[str], Path]


def ok(*args: str, env: dict[str, str] | None = None) -> Any:
    result = run_cli(*args, "--json", env=env)
    assert result.code == 0, (result.stdout, result.stderr)
    return result.json()


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    postgres_required.require_postgres()
    yield from postgres_required.fresh_url(migrated=False)


def lived_in_catalog(tmp_path: Path, media: Media) -> None:
    """On the default SQLite catalog: two films enriched, one approved then revoked, one
    approved."""
    root = tmp_path / "films"
    root.mkdir()
    copy(media("movie.mkv"), root / "film.mkv")
    copy(media("movie.mp4"), root / "other.mp4")
    ok("source", "add", "--type", "filesystem", "--name", "Local", "--path", str(root))
    ok("collection", "add", "--source", "Local", "--name", "Films", "--path", str(root),
       "--enricher", "ffprobe:1")  # fmt: skip
    ok("collection", "ingest", "Films")
    ok("enrich")
    ok("asset", "approve", "--collection", "Films", "--all-ready", "--by", "alice", "--yes")
    film = next(a["id"] for a in ok("asset", "list")["assets"] if a["canonical_key"] == "film.mkv")
    ok("asset", "revoke", film, "--by", "bob", "--note", "wrong cut")


def test_copy_into_an_empty_database_verifies_every_table(
    tmp_path: Path, config_dir: Path, media: Media, empty_postgres: str
) -> None:
    lived_in_catalog(tmp_path, media)
    source = sqlite_url(config_dir / "apollonia.db")

    done = ok("db", "copy", "--to", empty_postgres)
    assert done["verified"] is True and done["revision"] == HEAD_REVISION
    copied = {t["table"]: t["rows"] for t in done["tables"]}
    assert set(copied) == {t.name for t in tables()}
    assert copied == row_counts_sync(source) == row_counts_sync(empty_postgres)
    for table in ("sources", "collections", "assets", "asset_history", "ingest_runs", "jobs",
                  "job_logs", "enrichment_results", "qc_results", "approvals"):  # fmt: skip
        assert copied[table] > 0, table

    # The catalog reads the same through the CLI on either engine.
    pg = {"APOLLONIA_DATABASE_URL": empty_postgres}
    assert ok("asset", "list", env=pg)["assets"] == ok("asset", "list")["assets"]
    assert ok("asset", "review", env=pg) == ok("asset", "review")
    film = ok("asset", "list")["assets"][0]["id"]
    assert ok("asset", "history", film, env=pg) == ok("asset", "history", film)
    # New rows get new ids after the copied ones (the sequences were moved on).
    other = next(
        a["id"] for a in ok("asset", "list", env=pg)["assets"] if a["approved_for_broadcast"]
    )
    ok("asset", "revoke", other, "--by", "carol", "--note", "moved house", env=pg)
    trail = ok("asset", "history", other, env=pg)["entries"]
    assert [e["event"] for e in trail if e["kind"] == "approval"][-1] == "revoke"

    # A second copy finds rows there: refused, nothing written.
    before = row_counts_sync(empty_postgres)
    again = run_cli("db", "copy", "--to", empty_postgres, "--json")
    assert again.code == 1
    assert again.json()["errors"][0]["code"] == "copy_target_not_empty"
    assert row_counts_sync(empty_postgres) == before


def test_copy_into_a_migrated_empty_catalog_and_refusals(
    tmp_path: Path, config_dir: Path, media: Media
) -> None:
    postgres_required.require_postgres()
    lived_in_catalog(tmp_path, media)
    target = postgres_required.fresh_url(migrated=True)
    url = next(target)
    try:
        assert ok("db", "copy", "--to", url)["verified"] is True
    finally:
        target.close()
    not_pg = run_cli("db", "copy", "--to", sqlite_url(tmp_path / "other.db"), "--json")
    assert not_pg.code == 1 and not_pg.json()["errors"][0]["code"] == "copy_target_not_postgres"
    secret = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/nowhere"
    unreachable = run_cli("db", "copy", "--to", secret)
    assert unreachable.code == 3
    assert "s3cret" not in unreachable.stderr + unreachable.stdout
    assert "****" in unreachable.stderr


def row_counts_sync(url: str) -> dict[str, int]:
    return asyncio.run(row_counts(url))
