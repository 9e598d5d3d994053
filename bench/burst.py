"""A burst of 10,000 small files created at once: all published, how fast, in how much memory.

    python bench/burst.py [--files 10000] [--settle 0.5] [--dir DIR]

Starts the real ingestor (`python -m apollonia ingestor`, its own process) on an empty folder
against the real broker (`APOLLONIA_TEST_AMQP_URL`, default amqp://guest:guest@127.0.0.1:5672/)
with a unique exchange, creates N small files as fast as this process can, and reads the events off
`<exchange>.catalog` until every file has arrived exactly once. Prints files/s (from the first
file created to the last event received, settle time included, and from the first event to the
last) and the ingestor's peak RSS (VmHWM) against the target of 150 MiB. No assertion: read the
figures. The exchange and its queues are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.topology import Topology, declare_topology, delete_topology

AMQP_URL = os.environ.get("APOLLONIA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_files(folder: Path, count: int) -> None:
    """As fast as one process can: the burst the ingestor has to keep up with."""
    for i in range(count):
        with open(folder / f"burst-{i:06d}.mkv", "wb") as handle:
            handle.write(f"small file {i}\n".encode() * 4)


async def wait_for_line(stream: asyncio.StreamReader, needle: str, within: float) -> None:
    async with asyncio.timeout(within):
        while True:
            line = await stream.readline()
            if not line:
                raise SystemExit("the ingestor exited early")
            if needle in line.decode(errors="replace"):
                return


async def drain_stderr(stream: asyncio.StreamReader, seen: list[str]) -> None:
    while line := await stream.readline():
        if b"inotify queue overflowed" in line:
            seen.append("overflow")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--settle", type=float, default=0.5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-burst-", dir=args.dir))
    data = work / "data"
    data.mkdir()
    topology = Topology(exchange=f"bench-{uuid.uuid4().hex[:12]}")
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    declared = await declare_topology(channel, topology)
    env = dict(
        os.environ,
        APOLLONIA_AMQP_URL=AMQP_URL,
        APOLLONIA_EXCHANGE=topology.exchange,
        APOLLONIA_DATA_DIRECTORY=str(data),
        APOLLONIA_CONFIG_DIR=str(work / "config"),
        APOLLONIA_SETTLE_SECONDS=str(args.settle),
        APOLLONIA_METRICS_PORT="0",
        APOLLONIA_LOG_LEVEL="INFO",
        APOLLONIA_LOG_FORMAT="json",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "apollonia", "ingestor", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    try:
        await wait_for_line(proc.stderr, "connected to the broker", within=60)
        overflows: list[str] = []
        drainer = asyncio.create_task(drain_stderr(proc.stderr, overflows))
        idle_rss = peak_rss_mib(proc.pid)
        idle_cpu = cpu_seconds(proc.pid)

        started = time.perf_counter()
        make_files(data, args.files)
        created = time.perf_counter()

        seen: set[str] = set()
        duplicates = 0
        first_event = None
        async with declared.catalog_queue.iterator(no_ack=True) as messages:
            async with asyncio.timeout(600):
                async for message in messages:
                    if first_event is None:
                        first_event = time.perf_counter()
                    path = json.loads(message.body)["file_path"]
                    duplicates += path in seen
                    seen.add(path)
                    if len(seen) == args.files:
                        break
        finished = time.perf_counter()
        rss = peak_rss_mib(proc.pid)
        cpu = cpu_seconds(proc.pid) - idle_cpu
        proc.send_signal(signal.SIGTERM)
        code = await proc.wait()
        drainer.cancel()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await delete_topology(channel, topology)
        await connection.close()
        shutil.rmtree(work, ignore_errors=True)

    assert first_event is not None
    total = finished - started
    burst = finished - first_event
    print(f"files                      {args.files} (settle_seconds {args.settle})")
    print(f"creating them took         {created - started:6.2f} s")
    print(f"all published after        {total:6.2f} s", end="")
    print(f"  -> {args.files / total:7.0f} files/s end to end")
    print(f"first to last event        {burst:6.2f} s  -> {args.files / burst:7.0f} files/s")
    print(f"duplicates                 {duplicates}")
    print(f"inotify queue overflows    {len(overflows)} (each recovered by a rescan)")
    print(f"ingestor CPU for the burst {cpu:6.2f} s  ({cpu / args.files * 1e6:.0f} us per file)")
    print(f"ingestor RSS idle / peak   {idle_rss:.0f} / {rss:.0f} MiB  (target < 150 MiB)", end="")
    print(f"  {'OK' if rss < 150 else 'ABOVE'}")
    print(f"ingestor exit code         {code}")


if __name__ == "__main__":
    asyncio.run(main())
