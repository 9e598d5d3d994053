"""Hashing never stalls the event loop: a heartbeat keeps ticking while 1 GiB is read (the
length of its pauses is measured by bench/heartbeat.py, not asserted here)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from shared.hashing import Fingerprint, PathLike, ReadProgress
from tests.integration.ingestor.conftest import BrokerTap, SettingsFactory, idle, running

pytestmark = pytest.mark.integration

GIB = 1 << 30


def zeros_sha256(size: int) -> str:
    digest = hashlib.sha256()
    block = bytes(1 << 20)
    for _ in range(size // len(block)):
        digest.update(block)
    return digest.hexdigest()


async def test_a_heartbeat_keeps_ticking_while_a_1gib_file_hashes(
    make_settings: SettingsFactory, data_dir: Path, tap: BrokerTap
) -> None:
    beats = 0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal beats
        while not stop.is_set():
            await asyncio.sleep(0.005)
            beats += 1

    # Beats counted when the hash of the big file starts and when it ends: the loop ran during
    # it (how long its pauses were, against the hash time, is bench/heartbeat.py's figure).
    during: list[tuple[int, int]] = []

    async with running(make_settings()) as service:
        hasher = service.hasher
        assert hasher is not None
        hash_one = hasher.hash

        async def traced(path: PathLike, on_read: ReadProgress | None = None) -> Fingerprint:
            before = beats
            fingerprint = await hash_one(path, on_read)
            if fingerprint.size == GIB:
                during.append((before, beats))
            return fingerprint

        hasher.hash = traced  # type: ignore[method-assign]
        beat = asyncio.create_task(heartbeat())
        with open(data_dir / "big.bin", "wb") as handle:
            handle.truncate(GIB)  # sparse: the read and the hashing are real, the disk is spared
        (got,) = await tap.collect(1)
        stop.set()
        await beat
        await idle(service)
    assert got.event.size == GIB
    assert got.event.sha256_hash == await asyncio.to_thread(zeros_sha256, GIB)
    ((before, after),) = during
    # Hashing on the loop would leave no beat in between; on a worker thread there are many.
    assert after - before >= 2, (before, after)
