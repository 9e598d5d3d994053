"""PostgreSQL's bulk writes (COPY, and the savepoint fallback for rows that may exist already):
what they write reads back exactly as written, the catalog's guards and constraints hold for
copied rows, and a conflicting row neither fails the transaction nor is written twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.db.repository import KEY_CHUNK
from consumer.domain.assets import Asset, FileFacts, create_asset
from consumer.domain.catalog import Collection, Source
from consumer.domain.lifecycle import AssetState
from consumer.domain.records import HistoryEntry
from consumer.domain.signatures import EnricherRef, enricher_checksum

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)
CHECKSUM = enricher_checksum([EnricherRef("ffprobe", 1)])


async def seed(db: CatalogDatabase) -> None:
    async with db.unit_of_work() as uow:
        await uow.sources.add(
            Source("src", "Local", "filesystem", "/m", created_at=NOW, updated_at=NOW)
        )
        await uow.collections.add(
            Collection("col", "src", "TV", "/m/tv", enrichers=[EnricherRef("ffprobe", 1)],
                       created_at=NOW, updated_at=NOW)
        )  # fmt: skip
        await uow.commit()


def asset(key: str, **facts: object) -> Asset:
    obs = FileFacts(
        key,
        f"/m/tv/{key}",
        3_000_000_000,
        1_764_590_400_123_456_789,
        sha256="a" * 64,
        xxh128="b" * 32,
        observed_at=NOW - timedelta(seconds=3),
        tech_metadata={"title": "Ünïcode \\ tab\t and newline\n", "episode": 1, "nested": [None]},
        neighbors=["/m/tv/x.srt"],
    )
    for name, value in facts.items():
        setattr(obs, name, value)
    return create_asset("col", obs, CHECKSUM, NOW)


async def test_copied_assets_read_back_exactly(catalog: CatalogDatabase) -> None:
    await seed(catalog)
    written = [asset(f"Show/e{i:02}.mkv") for i in range(3)]
    written.append(asset("Show/bare.mkv", xxh128=None, tech_metadata={}, neighbors=[]))
    async with catalog.unit_of_work() as uow:
        await uow.assets.add_many(written)
        await uow.commit()
    async with catalog.unit_of_work(read_only=True) as uow:
        read = await uow.assets.get_many_by_uuid([a.uuid for a in written])
    assert [read[a.uuid] for a in written] == written


async def test_guards_hold_for_copied_rows(catalog: CatalogDatabase) -> None:
    await seed(catalog)
    ready = replace(asset("Show/ready.mkv"), state=AssetState.READY)
    with pytest.raises(IntegrityError, match="cannot be created in state ready"):
        async with catalog.unit_of_work() as uow:
            await uow.assets.add_many([asset("Show/fine.mkv"), ready])
    duplicate = asset("Show/e01.mkv")
    async with catalog.unit_of_work() as uow:
        await uow.assets.add_many([duplicate])
        await uow.commit()
    with pytest.raises(IntegrityError):
        async with catalog.unit_of_work() as uow:
            await uow.assets.add_many([asset("Show/e01.mkv")])  # same key, another uuid
    async with catalog.unit_of_work(read_only=True) as uow:
        assert await uow.assets.count() == 1  # nothing of the refused batches was written


async def test_history_rows_already_there_are_skipped_and_the_rest_written(
    catalog: CatalogDatabase,
) -> None:
    await seed(catalog)
    target = asset("Show/e01.mkv")

    def entry(event: str) -> HistoryEntry:
        return HistoryEntry(target.uuid, "created", "new file", NOW, event, "run-1")

    async with catalog.unit_of_work() as uow:
        await uow.assets.add_many([target])
        await uow.history.add_many([entry("ev-1"), entry("ev-2")])
        await uow.commit()
    async with catalog.unit_of_work() as uow:
        # ev-2 is there already (a redelivered event): the batch still lands, the unit of work
        # goes on after the conflict and commits what follows it.
        await uow.history.add_many([entry("ev-2"), entry("ev-3")])
        await uow.history.add_many([entry("ev-4")])
        await uow.commit()
    async with catalog.unit_of_work(read_only=True) as uow:
        history = await uow.history.for_asset(target.uuid)
    assert sorted(h.event_id or "" for h in history) == ["ev-1", "ev-2", "ev-3", "ev-4"]


async def test_many_keys_are_looked_up_in_one_go(catalog: CatalogDatabase) -> None:
    await seed(catalog)
    written = [asset(f"Show/e{i:05}.mkv") for i in range(KEY_CHUNK * 2 + 7)]
    async with catalog.unit_of_work() as uow:
        await uow.assets.add_many(written)
        await uow.commit()
    wanted = [a.canonical_key for a in written] + ["Show/missing.mkv"]
    async with catalog.unit_of_work(read_only=True) as uow:
        found = await uow.assets.fingerprints_for_keys("col", wanted)
    assert set(found) == set(wanted) - {"Show/missing.mkv"}
    assert found[written[5].canonical_key].uuid == written[5].uuid
