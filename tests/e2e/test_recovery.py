"""Disaster recovery as an operator would run it (docs/operations.md, "Replay and disaster
recovery"): lose the catalog, recreate it, replay the event log, get the same assets back."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack, wait_for
from tests.e2e.test_pipeline import write_files

pytestmark = pytest.mark.e2e

SNAPSHOT = (
    "SELECT canonical_key, sha256, xxh128, size, is_deleted FROM assets ORDER BY canonical_key"
)


async def test_catalog_rebuilt_from_the_event_log(stack: Stack) -> None:
    stack.start("consumer")
    stack.start("ingestor")
    await wait_for(lambda: stack.ready("consumer") and stack.ready("ingestor"), "ready", stack)
    keys = write_files(stack, 40, "Show/Season 01")
    await wait_for(lambda: stack.count() == 40, "40 assets", stack)
    (stack.data / keys[0]).write_bytes(b"rewritten")
    (stack.data / keys[1]).unlink()
    (stack.data / keys[2]).rename(stack.data / "Show/Season 01/Renamed.mkv")
    await wait_for(
        lambda: (
            stack.count("is_deleted = 1") == 1
            and stack.count("canonical_key LIKE '%Renamed.mkv'") == 1
        ),
        "the delete and the move",
        stack,
    )
    await wait_for(
        lambda: (
            stack.query("SELECT size FROM assets WHERE canonical_key = ?", (keys[0],))
            == [(len(b"rewritten"),)]
        ),
        "rewrite",
        stack,
    )
    before = stack.query(SNAPSHOT)
    assert len(before) == 40
    assert stack.stop("ingestor") == 0
    assert stack.stop("consumer") == 0

    # The catalog is lost.
    for suffix in ("", "-wal", "-shm"):
        path = stack.db.with_name(stack.db.name + suffix)
        if path.exists():
            path.unlink()
    assert stack.cli("db", "upgrade").code == 0
    assert stack.cli("source", "add", "--type", "filesystem", "--name", "local").code == 0
    assert (
        stack.cli(
            "collection", "add", "--source", "local", "--name", "media", "--path", str(stack.data)
        ).code
        == 0
    )
    replay = stack.cli("replay", "--from", "first", "--idle-timeout", "2", "--json")
    assert replay.code == 0, replay.stderr
    assert replay.json()["stats"]["invalid"] == 0
    assert stack.query(SNAPSHOT) == before
