"""The media landing list at scale: `list_media` over 100,000 assets in 5,000 items.

    python bench/media_list.py [--items 5000] [--per-item 20] [--keep DIR]

Builds a migrated catalog with N TV seasons of M episodes each, every asset with a job and a
mix of states (new, enriching, ready, approved, failed), then times `list_media` (all items and
active only) and `show_media` of one item, each the median of five runs after one warm-up. It
prints, for scale, one plain `SELECT count(*)` over the same join in the same run.

No assertion: machines are shared and noisy; read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.service_layer.media import list_media, show_media

T = "2026-12-01 12:00:00.000000"
OLD = "2026-11-01 12:00:00.000000"


def populate(db: Path, items: int, per_item: int) -> str:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO sources (uuid, name, type, created_at, updated_at) "
        f"VALUES ('s', 'Local', 'filesystem', '{T}', '{T}')"
    )
    conn.execute(
        "INSERT INTO collections (uuid, source_uuid, name, root_path, created_at, updated_at) "
        f"VALUES ('c', 's', 'Shows', '/m', '{T}', '{T}')"
    )
    conn.executemany(
        "INSERT INTO media_items (uuid, collection_uuid, media_type, name, safe_name, season, "
        "item_key, created_at, updated_at) VALUES (?, 'c', 'tv', ?, ?, ?, ?, ?, ?)",
        [
            (
                f"item-{i:06d}",
                f"Show {i // 20}",
                f"show-{i // 20}",
                i % 20 + 1,
                f"tv:show-{i // 20}:{i % 20 + 1}:",
                OLD,
                OLD,
            )
            for i in range(items)
        ],
    )
    rows, jobs, checks = [], [], []
    for i in range(items):
        for e in range(per_item):
            uuid = f"a-{i:06d}-{e:03d}"
            rows.append(
                (uuid, f"Show {i // 20}/Season {i % 20 + 1:02d}/S{i % 20 + 1:02d}E{e + 1:02d}.mkv")
            )
            kind = (i + e) % 10
            status = ("completed" if kind < 6 else "pending", "failed")[kind == 9]
            jobs.append((f"j-{uuid}", uuid, status, T))
            if kind < 4:
                checks.append((uuid,))
    conn.executemany(
        "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns, "
        "content_signature, enricher_checksum, discovered_at, created_at, updated_at, "
        f"media_item_id) VALUES (?, 'c', ?, '/m/x', 1, 1, 'sig', 'chk', '{OLD}', '{OLD}', "
        f"'{OLD}', ?)",
        [(u, k, f"item-{u[2:8]}") for u, k in rows],
    )
    conn.executemany(
        "INSERT INTO jobs (uuid, asset_uuid, status, queued_at, content_signature, "
        "enricher_checksum) VALUES (?, ?, ?, ?, 'sig', 'chk')",
        jobs,
    )
    # 40% ready (each with its passing check), a quarter of those approved (with the record).
    conn.executemany(
        "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
        f"VALUES (?, 1, 'sig', '{T}')",
        checks,
    )
    conn.execute(
        "UPDATE assets SET state = 'enriching' WHERE uuid IN (SELECT asset_uuid FROM qc_results)"
    )
    conn.execute(
        "UPDATE assets SET state = 'ready' WHERE uuid IN (SELECT asset_uuid FROM qc_results)"
    )
    approved = [c for n, c in enumerate(checks) if n % 4 == 0]
    conn.executemany(
        "INSERT INTO approvals (asset_uuid, action, actor, time, content_signature, "
        f"enricher_checksum) VALUES (?, 'approve', 'bench', '{T}', 'sig', 'chk')",
        approved,
    )
    conn.executemany("UPDATE assets SET approved_for_broadcast = 1 WHERE uuid = ?", approved)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return "item-000007"


async def median(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    result = await work()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


async def measure(db: Path, item_id: str) -> None:
    catalog = CatalogDatabase(f"sqlite+aiosqlite:///{db}")
    await catalog.open()
    try:

        async def plain() -> int:
            async with catalog.unit_of_work(read_only=True) as uow:
                conn = uow.assets._conn
                result = await conn.execute(
                    text(
                        "SELECT count(*) FROM media_items m "
                        "LEFT JOIN assets a ON a.media_item_id = m.uuid"
                    )
                )
                return int(result.scalar_one())

        base, joined = await median(5, plain)
        every, items = await median(5, lambda: list_media(catalog, active_only=False))
        active, shown = await median(5, lambda: list_media(catalog))
        one, detail = await median(5, lambda: show_media(catalog, item_id))
    finally:
        await catalog.close()
    print(f"catalog: {len(items)} items, {joined} item-asset rows")
    print(f"plain count over the join:     {base * 1000:8.1f} ms")
    print(f"list_media (all items):        {every * 1000:8.1f} ms")
    print(f"list_media (active only, {len(shown)}): {active * 1000:8.1f} ms")
    print(f"show_media (one item, {len(detail.assets)} assets): {one * 1000:8.1f} ms")


async def migrated(db: Path) -> None:
    async with CatalogDatabase(f"sqlite+aiosqlite:///{db}"):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--per-item", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build the catalog here and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="apollonia-media-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "apollonia.db"
    try:
        asyncio.run(migrated(db))
        start = time.perf_counter()
        item_id = populate(db, args.items, args.per_item)
        print(f"built in {time.perf_counter() - start:.1f} s")
        asyncio.run(measure(db, item_id))
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
