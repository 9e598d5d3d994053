"""`apollonia run` seeds the ingestor's hash cache from the catalog after its initial ingest, so
the watcher's startup scan reads none of those files again — names that are not UTF-8 included."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from apollonia.embedded import prime_state
from apollonia.settings import load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from ingestor.state import StateDatabase
from tests.cli import run_cli

pytestmark = pytest.mark.integration


def test_the_cache_is_seeded_with_the_exact_bytes_on_disk(tmp_path: Path, config_dir: Path) -> None:
    data = tmp_path / "media"
    data.mkdir()
    names = [b"plain.mkv", b"caf\xe9.mkv", b"caf\\xe9.mkv"]
    for i, name in enumerate(names):
        with open(os.path.join(os.fsencode(data), name), "wb") as handle:
            handle.write(b"x" * (100 + i))
    ran = run_cli("run", "--data", str(data), "--once")
    assert ran.code == 0, ran.stderr

    asyncio.run(_prime_twice(data, names))


async def _prime_twice(data: Path, names: list[bytes]) -> None:
    settings = load_settings()
    async with CatalogDatabase(settings.database_url) as catalog:
        async with catalog.unit_of_work(read_only=True) as uow:
            collections = await uow.collections.all()
        state = await StateDatabase(settings.state_database_url).open()
        try:
            assert await prime_state(state, catalog, collections) == 3
            expected = [os.path.join(os.fsencode(data), name) for name in names]
            cached = await state.get_many(expected)
            assert sorted(cached) == sorted(expected)
            # Nothing left to prime the second time: every path was the real one.
            assert await prime_state(state, catalog, collections) == 0
        finally:
            await state.close()
