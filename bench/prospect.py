"""Prospect throughput on a 1 GiB file against `openssl dgst -sha256` on the same file.

    python bench/prospect.py [--size-mib 1024] [--dir DIR] [--repeat 3]

Writes two files of random data, reads them once so both contenders start with a warm page cache,
then in the same run times (best of --repeat):

* `openssl dgst -sha256 FILE` (the reference: a tuned C SHA-256 over the same bytes),
* the ingestor's prospector on FILE (stat + SHA-256 and xxHash128 in one read + re-stat +
  neighbours), through the same `Hasher` thread pool the service uses,
* the prospector on both files at once (two hash workers).

Prints the figures and the ratios against the targets: prospect / openssl >= 0.95, and two files
at once / one file >= 1.6. No assertion: machines are shared and noisy; read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingestor.prospect import Hashed, Prospector
from shared.hashing import DEFAULT_CHUNK_SIZE, Hasher

MIB = 1024 * 1024


def make_file(path: Path, size: int) -> None:
    block = os.urandom(8 * MIB)
    with open(path, "wb") as handle:
        written = 0
        while written < size:
            n = min(len(block), size - written)
            handle.write(block[:n])
            written += n


def warm(path: Path) -> None:
    with open(path, "rb") as handle:
        while handle.read(8 * MIB):
            pass


def time_openssl(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["openssl", "dgst", "-sha256", str(path)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


async def time_prospect(prospector: Prospector, paths: list[Path]) -> float:
    start = time.perf_counter()
    outcomes = await prospector.prospect([bytes(p) for p in paths])
    elapsed = time.perf_counter() - start
    if not all(isinstance(o, Hashed) for o in outcomes):
        raise SystemExit(f"prospect failed: {outcomes}")
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the test files")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-kib", type=int, default=DEFAULT_CHUNK_SIZE // 1024)
    args = parser.parse_args()
    if shutil.which("openssl") is None:
        raise SystemExit("openssl is not installed")

    size = args.size_mib * MIB
    work = Path(tempfile.mkdtemp(prefix="bench-prospect-", dir=args.dir))
    try:
        one, two = work / "one.bin", work / "two.bin"
        print(f"writing 2 x {args.size_mib} MiB of random data in {work} ...", flush=True)
        make_file(one, size)
        make_file(two, size)
        warm(one)
        warm(two)

        hasher = Hasher(workers=2, chunk_size=args.chunk_kib * 1024)
        prospector = Prospector(hasher)
        try:
            openssl = min(time_openssl(one) for _ in range(args.repeat))
            single = min([await time_prospect(prospector, [one]) for _ in range(args.repeat)])
            double = min([await time_prospect(prospector, [one, two]) for _ in range(args.repeat)])
        finally:
            hasher.close()

        mib = size / MIB
        openssl_rate, single_rate, double_rate = mib / openssl, mib / single, 2 * mib / double
        vs_openssl = single_rate / openssl_rate
        scaling = double_rate / single_rate
        verdict = {True: "OK", False: "BELOW"}
        print(f"file size                 {mib:.0f} MiB, chunk {args.chunk_kib} KiB", end="")
        print(f", best of {args.repeat}")
        print(f"openssl dgst -sha256      {openssl:6.3f} s  {openssl_rate:7.0f} MiB/s")
        print(f"prospect, one file        {single:6.3f} s  {single_rate:7.0f} MiB/s", end="")
        print("  (SHA-256 + xxh128, stat, neighbours)")
        print(f"prospect, two files       {double:6.3f} s  {double_rate:7.0f} MiB/s")
        print(f"ratio prospect / openssl  {vs_openssl:.2f}  (target >= 0.95)", end="")
        print(f"  {verdict[vs_openssl >= 0.95]}")
        print(f"ratio two files / one     {scaling:.2f}  (target >= 1.6)", end="")
        print(f"   {verdict[scaling >= 1.6]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
