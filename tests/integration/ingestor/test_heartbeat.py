"""Hashing never stalls the event loop: a heartbeat keeps ticking while 1 GiB is read."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest

from shared.hashing import Fingerprint
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
    hash_seconds: list[float] = []

    def observe(fingerprint: Fingerprint, seconds: float) -> None:
        if fingerprint.size == GIB:
            hash_seconds.append(seconds)

    gaps: list[float] = []
    stop = asyncio.Event()

    async def heartbeat() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async with running(make_settings()) as service:
        assert service.hasher is not None
        service.hasher.observer = observe
        beat = asyncio.create_task(heartbeat())
        with open(data_dir / "big.bin", "wb") as handle:
            handle.truncate(GIB)  # sparse: the read and the hashing are real, the disk is spared
        (got,) = await tap.collect(1)
        stop.set()
        await beat
        await idle(service)
    assert got.event.size == GIB
    assert got.event.sha256_hash == await asyncio.to_thread(zeros_sha256, GIB)
    (seconds,) = hash_seconds
    # The loop kept running during the whole hash: its longest pause is a small fraction of the
    # time the hash took (measured in the same run, not a fixed bound).
    assert max(gaps) < seconds / 5, (max(gaps), seconds)
