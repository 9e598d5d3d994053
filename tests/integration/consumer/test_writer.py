"""The consumer's catalog writer in its child process: it applies and commits, reports
failures as text, and a writer that dies is replaced without losing or doubling anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.entrypoints.writer import ProcessWriter, WriterError
from consumer.service_layer.routing import CollectionRouter, Group, plan_events
from tests.integration.consumer.conftest import TV, Catalog, event
from tests.wait import wait_for

pytestmark = pytest.mark.integration

KEY = "Show/Season 01/Show - S01E01.mkv"


async def group_for(catalog: Catalog, *paths: str) -> Group:
    db = CatalogDatabase(catalog.url)
    async with db, db.unit_of_work(read_only=True) as uow:
        router = await CollectionRouter.load(uow, ["mkv"], synced_only=True)
    plan = plan_events(router, [event(path, path.encode()) for path in paths])
    (group,) = plan.groups.values()
    return group


def writer(catalog: Catalog) -> ProcessWriter:
    return ProcessWriter(catalog.url, busy_timeout_ms=2000, log_level="WARNING", log_format="json")


async def apply(w: ProcessWriter, group: Group) -> int:
    outcome = await w.apply(
        group.collection, group.changes, now=datetime.now(UTC), run_uuid=os.urandom(16).hex()
    )
    return outcome.created


async def test_groups_are_applied_and_committed_in_a_child_process(catalog: Catalog) -> None:
    w = writer(catalog)
    await w.start()
    try:
        assert w.pid is not None and w.pid != os.getpid()
        created = await apply(w, await group_for(catalog, f"{TV}/{KEY}", f"{TV}/Other.mkv"))
    finally:
        await w.close()
    assert created == 2
    assert catalog.asset(KEY) is not None
    assert catalog.rows("SELECT kind, stats FROM ingest_runs") == [
        (
            "event_batch",
            '{"events": 2, "created": 2, "updated": 0, "skipped": 0, "deleted": 0, '
            '"moved": 0, "stale": 0}',
        )
    ]


async def test_a_failed_transaction_comes_back_as_an_error_and_commits_nothing(
    catalog: Catalog,
) -> None:
    catalog.execute(
        "CREATE TRIGGER broken BEFORE INSERT ON assets "
        "BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END"
    )
    w = writer(catalog)
    await w.start()
    try:
        with pytest.raises(WriterError, match="disk full"):
            await apply(w, await group_for(catalog, f"{TV}/{KEY}"))
    finally:
        await w.close()
    assert catalog.rows("SELECT count(*) FROM assets") == [(0,)]
    assert catalog.rows("SELECT count(*) FROM ingest_runs") == [(0,)]


async def test_a_killed_writer_is_replaced_and_the_group_can_be_retried(catalog: Catalog) -> None:
    w = writer(catalog)
    await w.start()
    try:
        first = w.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        group = await group_for(catalog, f"{TV}/{KEY}")
        with pytest.raises(WriterError, match="died"):
            await apply(w, group)
        assert w.pid not in (None, first)
        assert await apply(w, group) == 1  # what the broker's redelivery does
        assert await apply(w, group) == 0  # and again: idempotent, nothing doubled
    finally:
        await w.close()
    assert catalog.rows("SELECT count(*) FROM assets") == [(1,)]


ORPHAN_SCRIPT = """
import asyncio, os, signal, sys
from consumer.entrypoints.writer import ProcessWriter

async def main() -> None:
    w = ProcessWriter(sys.argv[1], busy_timeout_ms=1000, log_level="WARNING", log_format="json")
    await w.start()
    print(w.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_the_writer_does_not_outlive_a_killed_consumer(catalog: Catalog, tmp_path: Path) -> None:
    """SIGKILL (or the OOM killer) on the consumer: its writer exits too, and does not hold a
    catalog connection behind the next consumer's back."""
    script = tmp_path / "consumer_like.py"
    script.write_text(ORPHAN_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), catalog.url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    child = int(proc.stdout.split()[-1])
    wait_for(lambda: not _alive(child), 10, what=f"the writer {child} to exit")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead, only not yet reaped by its (new) parent.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"
