"""The terminal UI's landing at scale: 100,000 assets in 5,000 media items.

    python bench/tui.py [--items 5000] [--per-item 20] [--keep DIR]

(`--keep DIR` keeps the catalog there, and a later run with the same DIR reuses it.)

Builds a catalog through its own adapters (the apply path, one unit of work per 10,000 files:
the assets, their jobs and their media items written in bulk, no files on disk), untimed. Then,
in the same run and on the same catalog:

* the landing's own query alone: `list_media(catalog, active_only=True)`, what the landing
  calls, on an opened catalog (best of three);
* the app: from constructing `ApolloniaApp` to the landing fully rendered, headless at 80x24
  (Textual's Pilot): the catalog opened on the UI's database thread, the query, the table of
  5,000 rows built and painted (best of three).

Prints both, their ratio (target <= 2x) and the absolute time. No assertion: machines are
shared and noisy; read the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TARGET = 2.0
SLICE = 10_000
RUNS = 3


async def build(url: str, items: int, per_item: int) -> None:
    from consumer.adapters.db.catalog import CatalogDatabase
    from consumer.domain.assets import FileFacts
    from consumer.domain.catalog import Collection, Source
    from consumer.domain.signatures import EnricherRef
    from consumer.service_layer.apply import FilePresent, apply_changes

    now = datetime.now(UTC)
    db = CatalogDatabase(url)
    await db.open()
    try:
        async with db.unit_of_work() as uow:
            await uow.sources.add(
                Source("src", "Bench", "filesystem", "/bench", created_at=now, updated_at=now)
            )
            await uow.collections.add(
                Collection(
                    "col",
                    "src",
                    "TV",
                    "/bench/tv",
                    enrichers=[EnricherRef("filename", 1), EnricherRef("ffprobe", 2)],
                    created_at=now,
                    updated_at=now,
                )
            )
            collection = await uow.collections.get("col")
            await uow.commit()
        assert collection is not None
        changes: list[FilePresent] = []
        for item in range(items):
            show, season = divmod(item, 5)
            for episode in range(1, per_item + 1):
                key = f"Show {show:04d}/Season {season + 1:02d}/S{season + 1:02d}E{episode:02d}.mkv"
                facts = FileFacts(
                    key,
                    f"/bench/tv/{key}",
                    1000 + episode,
                    1_700_000_000_000_000_000 + item,
                    observed_at=now,
                    tech_metadata={
                        "title": f"Show {show:04d}",
                        "season": season + 1,
                        "episode": episode,
                    },
                )
                changes.append(FilePresent(facts))
        for start in range(0, len(changes), SLICE):
            async with db.unit_of_work() as uow:
                await apply_changes(uow, collection, changes[start : start + SLICE], now=now)
                await uow.commit()
    finally:
        await db.close()


async def query_alone(url: str) -> tuple[float, int]:
    from consumer.adapters.db.catalog import CatalogDatabase
    from consumer.service_layer.media import list_media

    db = CatalogDatabase(url)
    await db.open()
    try:
        best, count = float("inf"), 0
        for _ in range(RUNS):
            started = time.perf_counter()
            found = await list_media(db, active_only=True)
            best = min(best, time.perf_counter() - started)
            count = len(found)
        return best, count
    finally:
        await db.close()


async def app_once() -> tuple[float, float, int]:
    """Start to rendered, and of that the landing's query on the database thread."""
    from textual.widgets import DataTable

    from apollonia.settings import load_settings
    from apollonia.tui import actions
    from apollonia.tui.app import ApolloniaApp
    from apollonia.tui.backend import Backend
    from apollonia.tui.screens.landing import LandingScreen

    queried: list[float] = []
    media = actions.media

    async def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await media(*args, **kwargs)
        finally:
            queried.append(time.perf_counter() - began)

    actions.media = timed
    started = time.perf_counter()
    app = ApolloniaApp(Backend(load_settings()), refresh_seconds=3600.0)
    async with app.run_test(size=(80, 24)) as pilot:
        while not (isinstance(app.screen, LandingScreen) and app.screen.loads):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        await pilot.pause()  # the table painted
        elapsed = time.perf_counter() - started
        rows = app.screen.query_one(DataTable).row_count
    actions.media = media
    return elapsed, queried[0], rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--per-item", type=int, default=20)
    parser.add_argument(
        "--keep", type=Path, help="build the catalog here and keep it (reused when it is there)"
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="apollonia-bench-tui-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["APOLLONIA_CONFIG_DIR"] = str(folder)
    from apollonia.settings import load_settings
    from shared.runtime.log import configure_logging

    configure_logging("WARNING", "console")
    url = load_settings().database_url
    try:
        total = args.items * args.per_item
        if args.keep is not None and (folder / "apollonia.db").exists():
            print(f"catalog: reused from {folder}")
        else:
            built = time.perf_counter()
            asyncio.run(build(url, args.items, args.per_item))
            print(
                f"catalog: {total:,} assets in {args.items:,} items, "
                f"built in {time.perf_counter() - built:.1f} s (untimed)"
            )
        query, items = asyncio.run(query_alone(url))
        runs = [asyncio.run(app_once()) for _ in range(RUNS)]
        app, in_app, rows = min(runs)
        print(f"landing query alone (list_media, {items:,} active items): {query:.3f} s")
        print(
            f"app start to landing rendered ({rows:,} rows, 80x24): {app:.3f} s "
            f"(of which the query on the UI's database thread: {in_app:.3f} s)"
        )
        print(f"ratio app / query: {app / query:.2f}x (target <= {TARGET:.0f}x)")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
