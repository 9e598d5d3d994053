"""Migration 0006 on a real SQLite file: data kept across the upgrade, and the database guard
that refuses `ready` without a passing quality check (tried with raw SQL, as a person with a
sqlite3 shell would)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from consumer.adapters.db import migrate

pytestmark = pytest.mark.integration

T = "2026-11-22 12:00:00.000000"


def raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def seed_raw(conn: sqlite3.Connection, state: str = "enriching") -> None:
    conn.execute(
        "INSERT INTO sources (uuid, name, type, created_at, updated_at) "
        f"VALUES ('s1', 'Local', 'filesystem', '{T}', '{T}')"
    )
    conn.execute(
        "INSERT INTO collections (uuid, source_uuid, name, root_path, enrichers, "
        f"created_at, updated_at) VALUES ('c1', 's1', 'Films', '/m', "
        f"'[{{\"enricher_id\": \"ffprobe\", \"priority\": 1}}]', '{T}', '{T}')"
    )
    conn.execute(
        "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns, "
        "content_signature, enricher_checksum, state, discovered_at, created_at, updated_at) "
        f"VALUES ('a1', 'c1', 'film.mkv', '/m/film.mkv', 10, 1, 'sha256:one', 'x', '{state}', "
        f"'{T}', '{T}', '{T}')"
    )


async def test_a_catalog_at_the_previous_head_upgrades_and_keeps_its_assets(
    engine: AsyncEngine, catalog_path: Path
) -> None:
    await migrate.upgrade(engine, "0004")
    with raw(catalog_path) as conn:
        seed_raw(conn, state="new")
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.HEAD_REVISION
    with raw(catalog_path) as conn:
        row = conn.execute(
            "SELECT canonical_key, state, content_signature, duration, qc_failed_rules FROM assets"
        ).fetchall()
        collection = conn.execute(
            "SELECT name, auto_enrich, media_type, audio_only FROM collections"
        ).fetchall()
    assert row == [("film.mkv", "new", "sha256:one", None, None)]
    assert collection == [("Films", 1, None, 0)]


async def test_the_database_refuses_ready_without_a_passing_quality_check(
    engine: AsyncEngine, catalog_path: Path
) -> None:
    await migrate.upgrade(engine)
    with raw(catalog_path) as conn:
        seed_raw(conn)
        with pytest.raises(sqlite3.IntegrityError, match="passing quality check"):
            conn.execute("UPDATE assets SET state = 'ready'")
        # A failed check is not enough...
        conn.execute(
            "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
            f"VALUES ('a1', 0, 'sha256:one', '{T}')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="passing quality check"):
            conn.execute("UPDATE assets SET state = 'ready'")
        # ...nor a passing one for other content.
        conn.execute(
            "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
            f"VALUES ('a1', 1, 'sha256:old', '{T}')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="passing quality check"):
            conn.execute("UPDATE assets SET state = 'ready'")
        conn.execute(
            "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
            f"VALUES ('a1', 1, 'sha256:one', '{T}')"
        )
        conn.execute("UPDATE assets SET state = 'ready'")
        assert conn.execute("SELECT state FROM assets").fetchone() == ("ready",)


async def test_job_status_and_stage_are_checked(engine: AsyncEngine, catalog_path: Path) -> None:
    await migrate.upgrade(engine)
    with raw(catalog_path) as conn:
        seed_raw(conn)
        insert = (
            "INSERT INTO jobs (uuid, asset_uuid, stage, status, queued_at, content_signature, "
            "enricher_checksum) VALUES (?, 'a1', ?, ?, ?, 'sha256:one', 'x')"
        )
        conn.execute(insert, ("j1", "enrich", "pending", T))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(insert, ("j2", "enrich", "lost", T))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(insert, ("j3", "publish", "pending", T))


async def test_downgrade_to_the_previous_head_keeps_the_assets(
    engine: AsyncEngine, catalog_path: Path
) -> None:
    await migrate.upgrade(engine)
    with raw(catalog_path) as conn:
        seed_raw(conn, state="new")
    await migrate.downgrade(engine, "0004")
    with raw(catalog_path) as conn:
        assert conn.execute("SELECT canonical_key FROM assets").fetchall() == [("film.mkv",)]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "jobs" not in names and "qc_results" not in names
