"""Migration 0005 (issue 17, item 1): a catalog made at 0004 keeps its assets when keys become
injective: keys holding a backslash are rewritten, uuids, history and approvals stay."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from consumer.adapters.db import migrate
from consumer.domain.keys import key_bytes

pytestmark = pytest.mark.integration

WHEN = "2026-11-22 12:00:00.000000"

# old key -> (file on disk under the root, or None when gone; the key 0005 must give it)
ROWS: dict[str, tuple[bytes | None, str]] = {
    "plain.mkv": (b"plain.mkv", "plain.mkv"),
    # the old code's escape for an undecodable byte, and that file is what is on disk
    "bad\\xffname.mkv": (b"bad\xffname.mkv", "bad\\xffname.mkv"),
    # the same spelling, but on disk is a file literally named so (backslash, x, e, 9)
    "caf\\xe9.mkv": (b"caf\\xe9.mkv", "caf\\\\xe9.mkv"),
    # gone from disk: the byte reading, which is what the old code wrote for such bytes
    "gone\\xe9.mkv": (None, "gone\\xe9.mkv"),
    # a backslash that was never an escape, and one whose new key is another row's old key
    "a\\b.mkv": (b"a\\b.mkv", "a\\\\b.mkv"),
    "a\\\\b.mkv": (b"a\\\\b.mkv", "a\\\\\\\\b.mkv"),
    # c3 a9 is é, so both escapes cannot be bytes; the first reading with a byte is taken
    "x\\xc3\\xa9.mkv": (None, "x\\xc3\\\\xa9.mkv"),
}


def seed(db: Path, root: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO sources (uuid, name, type, root_path, created_at, updated_at) "
            "VALUES ('s', 'Local', 'filesystem', ?, ?, ?)",
            (str(root), WHEN, WHEN),
        )
        conn.execute(
            "INSERT INTO collections (uuid, source_uuid, name, root_path, created_at, updated_at)"
            " VALUES ('c', 's', 'TV', ?, ?, ?)",
            (str(root), WHEN, WHEN),
        )
        for n, key in enumerate(ROWS):
            conn.execute(
                "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns,"
                " content_signature, enricher_checksum, discovered_at, created_at, updated_at)"
                " VALUES (?, 'c', ?, ?, 1, 1, 'sig', 'chk', ?, ?, ?)",
                (f"u{n}", key, f"{root}/{key}", WHEN, WHEN, WHEN),
            )
            conn.execute(
                "INSERT INTO asset_history (asset_uuid, decision, reason, time) "
                "VALUES (?, 'created', 'first seen', ?)",
                (f"u{n}", WHEN),
            )
        # one reviewed and approved asset among the re-keyed ones
        for state in ("enriching", "ready"):
            conn.execute("UPDATE assets SET state = ? WHERE uuid = 'u2'", (state,))
        conn.execute("UPDATE assets SET approved_for_broadcast = 1 WHERE uuid = 'u2'")


async def test_upgrade_rekeys_ambiguous_keys_and_keeps_identity(
    engine: AsyncEngine, catalog_path: Path, tmp_path: Path
) -> None:
    root = tmp_path / "tv"
    root.mkdir()
    for on_disk, _ in ROWS.values():
        if on_disk is not None:
            (root / os.fsdecode(on_disk)).write_bytes(b"x")
    await migrate.upgrade(engine, "0004")
    seed(catalog_path, root)

    await migrate.upgrade(engine, "0005")

    assert await migrate.current_revision(engine) == "0005"
    with sqlite3.connect(catalog_path) as conn:
        keys = dict(conn.execute("SELECT uuid, canonical_key FROM assets").fetchall())
        history = conn.execute("SELECT asset_uuid FROM asset_history ORDER BY id").fetchall()
        approved = conn.execute(
            "SELECT uuid, state FROM assets WHERE approved_for_broadcast"
        ).fetchall()
    assert keys == {f"u{n}": new for n, (_, new) in enumerate(ROWS.values())}
    assert history == [(f"u{n}",) for n in range(len(ROWS))]
    assert approved == [("u2", "ready")]
    for on_disk, new in ROWS.values():
        if on_disk is not None:  # every re-keyed asset names its file again
            assert key_bytes(new) == on_disk


async def test_downgrade_restores_the_old_keys(
    engine: AsyncEngine, catalog_path: Path, tmp_path: Path
) -> None:
    root = tmp_path / "tv"
    root.mkdir()
    await migrate.upgrade(engine, "0004")
    seed(catalog_path, root)
    with sqlite3.connect(catalog_path) as conn:
        before = sorted(conn.execute("SELECT uuid, canonical_key FROM assets").fetchall())
    await migrate.upgrade(engine)
    await migrate.downgrade(engine, "0004")
    with sqlite3.connect(catalog_path) as conn:
        after = sorted(conn.execute("SELECT uuid, canonical_key FROM assets").fetchall())
    # Readings without the file on disk fall back to bytes, which map back to the same text.
    assert after == before
