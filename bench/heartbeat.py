"""The event loop's longest pause while the Hasher reads and hashes a 1 GiB file.

    python bench/heartbeat.py [--gib 1]

A heartbeat task sleeps 5 ms at a time on the loop while `Hasher.hash` works on a sparse file
(the read and the hashing are real, the disk is spared); the longest gap between beats is
reported against the time the hash took, measured in the same run.

Target (was an assertion in tests/integration/ingestor/test_heartbeat.py): the longest pause is
under a fifth of the hash time. Figures only, no assertions: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from shared.hashing import Fingerprint, Hasher


async def measure(path: Path) -> tuple[float, float]:
    """(longest gap between heartbeats, seconds the hash took)."""
    gaps: list[float] = []
    hash_seconds: list[float] = []
    stop = asyncio.Event()

    def observe(_fingerprint: Fingerprint, seconds: float) -> None:
        hash_seconds.append(seconds)

    async def heartbeat() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    hasher = Hasher(workers=1, observer=observe)
    try:
        beat = asyncio.create_task(heartbeat())
        await hasher.hash(path)
        stop.set()
        await beat
    finally:
        hasher.close()
    return max(gaps), hash_seconds[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=int, default=1, help="size of the file, GiB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.bin"
        with open(path, "wb") as handle:
            handle.truncate(args.gib << 30)
        longest, seconds = asyncio.run(measure(path))
    print(f"hash of {args.gib} GiB: {seconds:.2f} s")
    print(f"longest loop pause: {longest * 1000:.1f} ms ({longest / seconds:.3f} of the hash)")
    print(f"target: under 1/5 of the hash time -> {'met' if longest < seconds / 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
