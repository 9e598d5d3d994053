"""What makes competing consumers and workers safe on PostgreSQL, seen in the database itself:
job claims skip the rows another worker has locked, a dead worker's job returns when its lease
runs out, and two writers never hold the same asset key at once."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.db.single_consumer import ConsumerLock, SecondConsumerError
from tests.integration.enrichment.helpers import apply_files, make_collection

pytestmark = pytest.mark.integration


async def jobs_for(catalog: CatalogDatabase, tmp_path: Path, n: int) -> None:
    root = tmp_path / "films"
    root.mkdir()
    files = []
    for i in range(n):
        path = root / f"f{i}.mkv"
        path.write_bytes(b"x" * (i + 1))
        files.append(path)
    collection = await make_collection(catalog, root)
    await apply_files(catalog, collection, root, *files)


async def test_concurrent_claims_skip_each_others_jobs(
    catalog: CatalogDatabase, tmp_path: Path
) -> None:
    await jobs_for(catalog, tmp_path, 4)
    now = datetime.now(UTC)
    lease = now + timedelta(minutes=5)
    # The first worker's claim is not committed yet: its rows are locked, not yet `in_progress`.
    async with catalog.unit_of_work() as first:
        mine = await first.jobs.claim(worker_id="w1", pid=1, now=now, lease_until=lease, limit=2)
        async with catalog.unit_of_work() as second:
            theirs = await second.jobs.claim(
                worker_id="w2", pid=2, now=now, lease_until=lease, limit=4
            )
            await second.commit()
        await first.commit()
    assert len(mine) == 2 and len(theirs) == 2
    assert not {j.uuid for j in mine} & {j.uuid for j in theirs}


async def test_a_dead_workers_job_is_claimed_again_after_its_lease(
    catalog: CatalogDatabase, tmp_path: Path
) -> None:
    await jobs_for(catalog, tmp_path, 1)
    now = datetime.now(UTC)
    async with catalog.unit_of_work() as uow:
        (job,) = await uow.jobs.claim(
            worker_id="dead", pid=1, now=now, lease_until=now + timedelta(seconds=30), limit=5
        )
        await uow.commit()
    async with catalog.unit_of_work() as uow:  # within the lease: nothing to take
        assert (
            await uow.jobs.claim(
                worker_id="w2", pid=2, now=now, lease_until=now + timedelta(minutes=5), limit=5
            )
            == []
        )
        await uow.commit()
    later = now + timedelta(seconds=31)
    async with catalog.unit_of_work() as uow:
        (again,) = await uow.jobs.claim(
            worker_id="w2", pid=2, now=later, lease_until=later + timedelta(minutes=5), limit=5
        )
        await uow.commit()
    assert again.uuid == job.uuid and again.worker_id == "w2"


async def waiting_advisory_locks(catalog: CatalogDatabase) -> int:
    async with catalog.engine.connect() as conn:
        result = await conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        return int(result.scalar_one())


async def test_two_writers_never_hold_one_key_at_once(
    catalog: CatalogDatabase, tmp_path: Path
) -> None:
    await jobs_for(catalog, tmp_path, 1)
    async with catalog.unit_of_work() as first:
        await first.assets.fingerprints_for_keys("col-Films", ["f0.mkv", "other.mkv"])
        reached = asyncio.Event()

        async def second_writer() -> None:
            async with catalog.unit_of_work() as second:
                await second.assets.fingerprints_for_keys("col-Films", ["f0.mkv"])
                reached.set()
                await second.commit()

        task = asyncio.create_task(second_writer())
        while await waiting_advisory_locks(catalog) == 0:  # the second one queues on the key
            await asyncio.sleep(0.02)
        assert not reached.is_set()
        # Other keys are free meanwhile, and readers never lock.
        async with catalog.unit_of_work() as third:
            await third.assets.fingerprints_for_keys("col-Films", ["f1.mkv"])
            await third.commit()
        async with catalog.unit_of_work(read_only=True) as reader:
            await reader.assets.fingerprints_for_keys("col-Films", ["f0.mkv"])
        await first.commit()
    await task
    assert reached.is_set()


async def test_a_postgresql_catalog_takes_competing_consumers(catalog_url: str) -> None:
    first, second = ConsumerLock(catalog_url), ConsumerLock(catalog_url)
    first.acquire()
    second.acquire()  # nothing to hold: the database keeps them apart
    assert first.path is None


def test_a_sqlite_catalog_refuses_a_second_consumer(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'apollonia.db'}"
    first = ConsumerLock(url)
    first.acquire()
    try:
        with pytest.raises(SecondConsumerError, match="PostgreSQL") as refused:
            ConsumerLock(url).acquire()
        assert f"pid {os.getpid()}" in str(refused.value)
        assert "db copy" in str(refused.value)
    finally:
        first.release()
    ConsumerLock(url).acquire()  # released: the next consumer may start
