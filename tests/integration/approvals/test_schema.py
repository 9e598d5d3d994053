"""Migration 0007 on a real SQLite file: a catalog at 0006 with assets upgrades and keeps them,
and the database guards of approval, tried with raw SQL as a person with a sqlite3 shell
would: the trail refuses UPDATE and DELETE, approval needs its record, approved implies ready,
ready needs a passing quality check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from consumer.adapters.db import migrate
from tests.integration.enrichment.test_schema import T, raw, seed_raw

pytestmark = pytest.mark.integration

APPROVE = (
    "INSERT INTO approvals (asset_uuid, action, actor, time, content_signature, "
    "enricher_checksum) VALUES ('a1', 'approve', 'alice', ?, ?, 'x')"
)


def make_ready(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
        f"VALUES ('a1', 1, 'sha256:one', '{T}')"
    )
    conn.execute("UPDATE assets SET state = 'ready' WHERE uuid = 'a1'")


async def test_a_catalog_at_0006_upgrades_keeping_its_assets_with_an_empty_trail(
    engine: AsyncEngine, catalog_path: Path
) -> None:
    await migrate.upgrade(engine, "0006")
    with raw(catalog_path) as conn:
        seed_raw(conn)
        make_ready(conn)
    await migrate.upgrade(engine, "0007")
    assert await migrate.current_revision(engine) == "0007"
    with raw(catalog_path) as conn:
        assets = conn.execute(
            "SELECT uuid, canonical_key, state, approved_for_broadcast FROM assets"
        ).fetchall()
        trail = conn.execute("SELECT count(*) FROM approvals").fetchone()
        checks = conn.execute("SELECT passed FROM qc_results").fetchall()
        triggers = {
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    assert assets == [("a1", "film.mkv", "ready", 0)]
    assert trail == (0,) and checks == [(1,)]
    assert {
        "trg_approvals_no_update",
        "trg_approvals_no_delete",
        "trg_assets_approval_needs_record",
        "trg_assets_ready_needs_qc",
    } <= triggers


async def test_downgrade_to_0006_drops_the_trail_and_keeps_the_assets(
    engine: AsyncEngine, catalog_path: Path
) -> None:
    await migrate.upgrade(engine)
    with raw(catalog_path) as conn:
        seed_raw(conn)
    await migrate.downgrade(engine, "0006")
    with raw(catalog_path) as conn:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
        assert "approvals" not in tables
        assert conn.execute("SELECT canonical_key FROM assets").fetchall() == [("film.mkv",)]


@pytest.fixture
async def ready_catalog(engine: AsyncEngine, catalog_path: Path) -> Path:
    await migrate.upgrade(engine)
    with raw(catalog_path) as conn:
        seed_raw(conn)
        make_ready(conn)
    return catalog_path


async def test_the_trail_refuses_update_and_delete(ready_catalog: Path) -> None:
    with raw(ready_catalog) as conn:
        conn.execute(APPROVE, (T, "sha256:one"))
    with raw(ready_catalog) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE approvals SET actor = 'mallory'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM approvals")
        assert conn.execute("SELECT actor FROM approvals").fetchall() == [("alice",)]


async def test_approval_needs_its_record_for_this_content(ready_catalog: Path) -> None:
    with raw(ready_catalog) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="without an approval record"):
            conn.execute("UPDATE assets SET approved_for_broadcast = 1")
        # A record of other content does not count.
        conn.execute(APPROVE, (T, "sha256:other"))
        with pytest.raises(sqlite3.IntegrityError, match="without an approval record"):
            conn.execute("UPDATE assets SET approved_for_broadcast = 1")
        # Nor does an approval the trail has revoked since.
        conn.execute(APPROVE, (T, "sha256:one"))
        conn.execute(
            "INSERT INTO approvals (asset_uuid, action, actor, time, note, content_signature, "
            f"enricher_checksum) VALUES ('a1', 'revoke', 'bob', '{T}', 'no', 'sha256:one', 'x')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="without an approval record"):
            conn.execute("UPDATE assets SET approved_for_broadcast = 1")
        conn.execute(APPROVE, (T, "sha256:one"))
        conn.execute("UPDATE assets SET approved_for_broadcast = 1")
        assert conn.execute("SELECT approved_for_broadcast FROM assets").fetchall() == [(1,)]


async def test_an_automatic_revocation_needs_its_reason(ready_catalog: Path) -> None:
    with raw(ready_catalog) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="reason_for_auto_revoke"):
            conn.execute(
                "INSERT INTO approvals (asset_uuid, action, actor, time, content_signature, "
                f"enricher_checksum) VALUES ('a1', 'auto_revoke', 'x', '{T}', 's', 'x')"
            )
        with pytest.raises(sqlite3.IntegrityError, match="ck_approvals_reason"):
            conn.execute(
                "INSERT INTO approvals (asset_uuid, action, actor, time, reason, "
                "content_signature, enricher_checksum) "
                f"VALUES ('a1', 'auto_revoke', 'x', '{T}', 'bored', 's', 'x')"
            )


async def test_approved_implies_ready_and_ready_needs_a_passing_check(
    engine: AsyncEngine, catalog_path: Path
) -> None:
    await migrate.upgrade(engine)
    with raw(catalog_path) as conn:
        seed_raw(conn)  # enriching
        conn.execute(APPROVE, (T, "sha256:one"))
        with pytest.raises(sqlite3.IntegrityError, match="approved_requires_ready"):
            conn.execute("UPDATE assets SET approved_for_broadcast = 1")
        with pytest.raises(sqlite3.IntegrityError, match="passing quality check"):
            conn.execute("UPDATE assets SET state = 'ready'")
        conn.execute(
            "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
            f"VALUES ('a1', 0, 'sha256:one', '{T}')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="passing quality check"):
            conn.execute("UPDATE assets SET state = 'ready'")


async def test_the_trail_outlives_a_removed_collection(ready_catalog: Path) -> None:
    with raw(ready_catalog) as conn:
        conn.execute(APPROVE, (T, "sha256:one"))
        conn.execute("UPDATE assets SET approved_for_broadcast = 1")
    with raw(ready_catalog) as conn:
        conn.execute("DELETE FROM collections")
        assert conn.execute("SELECT count(*) FROM assets").fetchone() == (0,)
        assert conn.execute("SELECT asset_uuid, action FROM approvals").fetchall() == [
            ("a1", "approve")
        ]
