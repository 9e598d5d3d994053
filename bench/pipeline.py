"""Consumer throughput against the broker's own ceiling, and event-to-commit latency; with
`--catalog postgresql`, how applied events/s scale with competing consumers.

    python bench/pipeline.py [--events 50000] [--rate 1000] [--seconds 15]
                             [--enrichment-backlog N]
    python bench/pipeline.py --catalog postgresql --consumers 3 [--events 20000] [--rounds 3]

1. Ceiling: N persistent messages (the same JSON events) consumed by a bare aio-pika consumer
   that only acks them, in this process, on this machine, now.
2. Consumer: N valid synthetic events with distinct keys published (confirms pipelined), then the
   real ConsumerService applies them to a fresh SQLite catalog; applied events/s is measured from
   the first delivery to the last commit.
3. Latency: events offered at `--rate` per second for `--seconds`, timestamps taken at publish;
   p50/p99 of event-to-commit as the consumer records it.

Targets (issue "Consumer service..."): consumer >= 0.6x the bare consumer; p99 < 1 s at 1,000/s.

`--enrichment-backlog N` (issue 13: p99 < 1 s at 1,000/s with 2,000 jobs pending): before the
catalog takes events, N real media files (one tiny clip made with ffmpeg, 0.5 s of 160x120
H.264 + AAC in MKV, copied under N names into a temporary folder) are applied through the apply
path to a second collection with the ffprobe enricher, which queues N `enrich` jobs. Real files,
so each job does what production does (ffprobe and the tail decode, then QC and the results
written to the same SQLite catalog), not a fast failure. For step 3 only, the enrichment worker
runs beside the consumer as `apollonia consumer` runs it by default: in the same process, at
the settings' concurrency (one job per core), its tools at a lower CPU priority (nice 10).
Prints the jobs done during the run and the jobs still pending after it.
Scaling (`--catalog postgresql --consumers K`, issue 16): in one run, the same N events applied
by 1 `apollonia consumer` process on SQLite, then by 1, 2 ... K processes competing for the one
queue into a fresh PostgreSQL database each time. The events are published first; the consumers
are started together, and applied events/s is measured from the first commit seen to the last
(the catalog's asset count polled). With `--rounds R` the configurations take turns R times
and the medians are compared (single runs on a shared 2-core machine swing by a third).
Targets: 1 consumer on PostgreSQL >= 0.6x SQLite; K consumers not slower than 1.

Figures only, no assertions: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
from sqlalchemy import create_engine, text

from apollonia import bootstrap
from apollonia.settings import load_settings
from consumer import metrics
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.domain.assets import FileFacts
from consumer.entrypoints.enrichment_worker import EnrichmentWorker
from consumer.service_layer import admin
from consumer.service_layer.apply import FilePresent, apply_changes
from shared.runtime.log import configure_logging
from shared.schemas.file_event import FileEvent
from shared.topology import Topology, declare_topology, delete_topology

AMQP_URL = os.environ.get("APOLLONIA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
ROOT = "/bench/media"
WINDOW = 500


def synthetic(i: int, when: datetime | None = None) -> bytes:
    now = when or datetime.now(UTC)
    show, episode = divmod(i, 1000)
    digest = hashlib.sha256(f"{i}".encode()).hexdigest()
    return FileEvent(
        file_path=f"{ROOT}/Show {show:03d}/Season 01/Show {show:03d} - S01E{episode:04d}.mkv",
        event_type="IN_CLOSE_WRITE",
        kind="created",
        sha256_hash=digest,
        xxh128_hash=digest[:32],
        size=1_000_000 + i,
        modified_time=now,
        accessed_time=now,
        changed_time=now,
        timestamp=now,
        neighbors=[],
        mtime_ns=int(now.timestamp() * 1e9),
        event_id=uuid.uuid4(),
        ingestor_id="bench",
    ).to_json_bytes()


async def publish(exchange: aio_pika.abc.AbstractExchange, bodies: list[bytes]) -> float:
    start = time.perf_counter()
    for offset in range(0, len(bodies), WINDOW):
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        body,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        content_type="application/json",
                        message_id=str(uuid.uuid4()),
                    ),
                    routing_key="file.created",
                )
                for body in bodies[offset : offset + WINDOW]
            )
        )
    return time.perf_counter() - start


async def bare_ceiling(bodies: list[bytes]) -> float:
    """Messages/s a consumer that only acks reaches on this machine."""
    queue_name = f"bench-bare-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect_robust(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    queue = await channel.declare_queue(
        queue_name, durable=True, arguments={"x-queue-type": "quorum"}
    )
    start = time.perf_counter()
    for offset in range(0, len(bodies), WINDOW):
        await asyncio.gather(
            *(
                channel.default_exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=queue_name,
                )
                for body in bodies[offset : offset + WINDOW]
            )
        )
    print(
        f"  published {len(bodies)} for the ceiling in {time.perf_counter() - start:.1f}s",
        file=sys.stderr,
    )
    consume_channel = await connection.channel()
    await consume_channel.set_qos(prefetch_count=1000)
    cqueue = await consume_channel.get_queue(queue_name)
    done = asyncio.Event()
    seen = 0
    first: float | None = None

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal seen, first
        if first is None:
            first = time.perf_counter()
        await message.ack()
        seen += 1
        if seen == len(bodies):
            done.set()

    await cqueue.consume(on_message)
    await done.wait()
    assert first is not None
    elapsed = time.perf_counter() - first
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()
    return len(bodies) / elapsed


async def setup_catalog(url: str) -> str:
    now = datetime.now(UTC)
    catalog = CatalogDatabase(url)
    async with catalog, catalog.unit_of_work() as uow:
        source = await admin.add_source(
            uow,
            name="bench",
            source_type="filesystem",
            root_path=None,
            mappings=[],
            external_id=None,
            now=now,
        )
        await admin.add_collection(
            uow,
            source,
            FilesystemImporter(["mkv"]),
            name="media",
            root_path=ROOT,
            enrichers=[],
            sync_enabled=True,
            hash_mode="full",
            external_id=None,
            now=now,
        )
        await uow.commit()
    return url


class EnrichmentBacklog:
    """N pending enrich jobs on real tiny clips, and the enrichment worker that works them
    beside the consumer while it runs."""

    def __init__(self, jobs: int, work: Path) -> None:
        self.jobs = jobs
        self.folder = work / "backlog"
        self.worker: EnrichmentWorker | None = None
        self.task: asyncio.Task[None] | None = None
        self.seconds = 0.0

    def make_media(self) -> list[Path]:
        if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
            raise SystemExit(
                "--enrichment-backlog needs ffmpeg and ffprobe (apt-get install ffmpeg)"
            )
        self.folder.mkdir(parents=True)
        clip = self.folder.parent / "clip.mkv"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y",
             "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
             "-t", "0.5", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
             "-c:a", "aac", str(clip)],
            check=True,
        )  # fmt: skip
        paths = []
        for n in range(self.jobs):
            path = self.folder / f"Clip {n:05d}.mkv"
            shutil.copyfile(clip, path)
            paths.append(path)
        return paths

    async def seed(self, url: str) -> None:
        """A collection with the ffprobe enricher over the clips, applied through the apply
        path: it queues one job per clip."""
        paths = self.make_media()
        now = datetime.now(UTC)
        catalog = CatalogDatabase(url)
        async with catalog, catalog.unit_of_work() as uow:
            (source,) = await uow.sources.find("bench")
            collection = await admin.add_collection(
                uow,
                source,
                FilesystemImporter(["mkv"]),
                name="backlog",
                root_path=str(self.folder),
                enrichers=["ffprobe:1"],
                sync_enabled=True,
                hash_mode="stat",
                external_id=None,
                now=now,
            )
            changes = []
            for path in paths:
                st = path.stat()
                facts = FileFacts(path.name, str(path), st.st_size, st.st_mtime_ns, observed_at=now)
                changes.append(FilePresent(facts))
            await apply_changes(uow, collection, changes, now=now)
            await uow.commit()
        print(f"  {await self.counts(url)} enrich jobs queued on real clips", file=sys.stderr)

    async def counts(self, url: str) -> dict[str, int]:
        catalog = CatalogDatabase(url)
        async with catalog, catalog.unit_of_work(read_only=True) as uow:
            return await uow.jobs.counts()

    async def start(self, settings: Any) -> None:
        self.worker = bootstrap.enrichment_worker(settings)
        await self.worker.catalog.open()
        self.task = asyncio.create_task(self.worker.run_until_stopped())
        self.seconds = time.perf_counter()

    async def stop(self) -> None:
        assert self.worker is not None and self.task is not None
        self.seconds = time.perf_counter() - self.seconds
        self.worker.request_stop()
        await self.task
        await self.worker.catalog.close()

    async def report(self, url: str) -> str:
        counts = await self.counts(url)
        done = counts.get("completed", 0) + counts.get("failed", 0)
        return (
            f"enrichment beside it:            {done} jobs done in {self.seconds:.0f} s "
            f"(of {self.jobs}; {counts.get('pending', 0)} still pending)"
        )


PG_ADMIN = os.environ.get("APOLLONIA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/")


def pg_database(action: str, name: str) -> None:
    admin = create_engine(PG_ADMIN + "postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if action == "create":
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def asset_count(url: str) -> int:
    engine = create_engine(url.replace("+aiosqlite", ""))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM assets")).scalar_one())
    finally:
        engine.dispose()


async def scaled(bodies: list[bytes], url: str, consumers: int, work: Path) -> float:
    """Applied events/s of `consumers` `apollonia consumer` processes on the catalog `url`."""
    topology = Topology(exchange=f"bench-{uuid.uuid4().hex[:8]}")
    connection = await aio_pika.connect_robust(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    declared = await declare_topology(channel, topology)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await setup_catalog(url)
        await publish(declared.exchange, bodies)
        env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLONIA_")}
        env.update(
            {
                "APOLLONIA_AMQP_URL": AMQP_URL,
                "APOLLONIA_EXCHANGE": topology.exchange,
                "APOLLONIA_DATABASE_URL": url,
                "APOLLONIA_CONFIG_DIR": str(work),
                "APOLLONIA_METRICS_PORT": "0",
                "APOLLONIA_ENRICHMENT_WORKER": "false",
                "APOLLONIA_MEDIA_EXTENSIONS": "mkv",
                "APOLLONIA_LOG_LEVEL": "WARNING",
            }
        )
        for i in range(consumers):
            log = (work / f"consumer-{consumers}-{i}.log").open("ab")
            procs.append(
                subprocess.Popen(  # noqa: ASYNC220 - started once, never waited on here
                    [sys.executable, "-m", "apollonia", "consumer"],
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )
            log.close()
        first: tuple[float, int] | None = None
        while True:
            count = await asyncio.to_thread(asset_count, url)
            now = time.perf_counter()
            if first is None and count > 0:
                first = (now, count)
            if count >= len(bodies):
                break
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a consumer exited early; see {work}")
            await asyncio.sleep(0.1)
        assert first is not None
        return (len(bodies) - first[1]) / max(now - first[0], 1e-6)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 60)
            except subprocess.TimeoutExpired:
                proc.kill()
        await delete_topology(channel, topology)
        await connection.close()


async def scaling(args: argparse.Namespace) -> int:
    """Each configuration `--rounds` times, taking turns (SQLite, 1, 2 ... K on PostgreSQL, then
    again), so the machine's load changes hit every configuration alike; the median of each."""
    bodies = [synthetic(i) for i in range(args.events)]
    work = Path(tempfile.mkdtemp(prefix="apollonia-pipeline-scale-"))
    configs = [("sqlite", 1)] + [("postgresql", k) for k in range(1, args.consumers + 1)]
    rates: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
    for round_no in range(1, args.rounds + 1):
        for catalog, k in configs:
            print(f"round {round_no}: {catalog}, {k} consumer(s) ...", file=sys.stderr)
            if catalog == "sqlite":
                url = f"sqlite+aiosqlite:///{work / f'catalog-{round_no}.db'}"
                rates[(catalog, k)].append(await scaled(bodies, url, 1, work))
                continue
            name = f"apollonia_bench_{uuid.uuid4().hex[:10]}"
            pg_database("create", name)
            try:
                rates[(catalog, k)].append(await scaled(bodies, PG_ADMIN + name, k, work))
            finally:
                pg_database("drop", name)
    median = {c: statistics.median(r) for c, r in rates.items()}
    base = median[("sqlite", 1)]
    pg_one = median[("postgresql", 1)]
    print(f"events: {args.events} per run (distinct keys, all creates), {args.rounds} round(s)")
    for catalog, k in configs:
        runs = " ".join(f"{r:.0f}" for r in rates[(catalog, k)])
        print(
            f"{catalog:10} {k} consumer(s): {median[(catalog, k)]:8.0f} events/s  "
            f"x{median[(catalog, k)] / base:4.2f} of SQLite  "
            f"x{median[(catalog, k)] / pg_one:4.2f} of 1 on PostgreSQL  (runs: {runs})"
        )
    last = median[("postgresql", args.consumers)]
    print(
        f"targets: 1 on PostgreSQL >= 0.6x SQLite: {'OK' if pg_one >= 0.6 * base else 'MISS'}; "
        f"{args.consumers} not slower than 1: {'OK' if last >= pg_one else 'MISS'}"
    )
    return 0


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=None, help="default 50000 (20000 scaled)")
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument(
        "--enrichment-backlog",
        type=int,
        default=0,
        metavar="N",
        help="queue N enrich jobs on real clips and run the worker beside step 3",
    )
    parser.add_argument("--catalog", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--consumers", type=int, default=1)
    parser.add_argument(
        "--rounds", type=int, default=1, help="scaling: each configuration N times, medians"
    )
    args = parser.parse_args()
    configure_logging("WARNING", "json")
    if args.catalog == "postgresql":
        args.events = args.events or 20_000
        return await scaling(args)
    if args.consumers != 1:
        parser.error(
            "a SQLite catalog takes one consumer: --consumers K needs --catalog postgresql"
        )
    args.events = args.events or 50_000

    bodies = [synthetic(i) for i in range(args.events)]
    print(
        f"bare aio-pika consumer (ack only), {args.events} persistent messages ...", file=sys.stderr
    )
    ceiling = await bare_ceiling(bodies)

    work = Path(tempfile.mkdtemp(prefix="apollonia-pipeline-"))
    topology = Topology(exchange=f"bench-{uuid.uuid4().hex[:8]}")
    connection = await aio_pika.connect_robust(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    declared = await declare_topology(channel, topology)
    backlog = EnrichmentBacklog(args.enrichment_backlog, work) if args.enrichment_backlog else None
    try:
        url = await setup_catalog(f"sqlite+aiosqlite:///{work / 'catalog.db'}")
        if backlog is not None:
            await backlog.seed(url)
        publish_s = await publish(declared.exchange, bodies)
        print(
            f"  published {args.events} events in {publish_s:.1f}s "
            f"({args.events / publish_s:.0f}/s with confirms in windows of {WINDOW})",
            file=sys.stderr,
        )
        settings = load_settings(
            amqp_url=AMQP_URL,
            exchange=topology.exchange,
            database_url=url,
            metrics_port=0,
            media_extensions=["mkv"],
        )
        service = bootstrap.consumer_service(settings)
        start = time.perf_counter()
        await service.start()
        while service.applied < args.events:  # noqa: ASYNC110 - sampling a counter
            await asyncio.sleep(0.05)
        applied_s = time.perf_counter() - start
        rate = args.events / applied_s

        # Latency under an offered load.
        latencies: list[float] = []
        original = metrics.EVENT_TO_COMMIT.observe

        def record(value: float, *extra: Any) -> None:
            latencies.append(value)
            original(value, *extra)

        metrics.EVENT_TO_COMMIT.observe = record  # type: ignore[method-assign,assignment]
        if backlog is not None:
            await backlog.start(settings)
        total = args.rate * args.seconds
        base = args.events
        tick = 0.1
        per_tick = max(1, int(args.rate * tick))
        next_at = time.perf_counter()
        sent = 0
        while sent < total:
            batch = [synthetic(base + sent + k) for k in range(min(per_tick, total - sent))]
            await asyncio.gather(
                *(
                    declared.exchange.publish(
                        aio_pika.Message(
                            b,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            message_id=str(uuid.uuid4()),
                        ),
                        routing_key="file.created",
                    )
                    for b in batch
                )
            )
            sent += len(batch)
            next_at += tick
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        while service.applied < args.events + total:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if backlog is not None:
            await backlog.stop()
        await service.stop()
    finally:
        if backlog is not None:
            shutil.rmtree(backlog.folder, ignore_errors=True)
        await delete_topology(channel, topology)
        await connection.close()

    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"events:                          {args.events}")
    print(f"bare aio-pika consumer (acks):   {ceiling:8.0f} msg/s")
    print(
        f"apollonia consumer (applied):    {rate:8.0f} events/s  ratio {rate / ceiling:4.2f}"
        f"  (target >= 0.6)  {'OK' if rate >= 0.6 * ceiling else 'MISS'}"
    )
    print(
        f"latency at {args.rate}/s offered:     p50 {p50 * 1000:6.0f} ms"
        f"  p99 {p99 * 1000:6.0f} ms  (target p99 < 1000 ms)  {'OK' if p99 < 1 else 'MISS'}"
    )
    if backlog is not None:
        print(await backlog.report(url))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
