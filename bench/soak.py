"""The soak: the real stack under mixed file activity and chaos, then the catalog against the disk.

    python bench/soak.py --minutes 10 [--catalog sqlite|postgresql] [--consumers K] [--workers W]

Runs as real processes (`python -m apollonia ingestor|consumer|enricher`, APOLLONIA_* env) on a
temporary library, the services' AMQP URL pointing at a TCP proxy (bench/tcp_proxy.py) in front
of the loopback broker, with a unique exchange (and so unique queues), and on SQLite (in the
temporary folder) or a fresh PostgreSQL database. Three tasks run for `--minutes`:

* the generator: creates (small random files, a few real ffmpeg clips so enrichment does real
  work), slow writers, rewrites in place and by rename-over, renames of files and folders, deletes
  of files and folders, bursts; it keeps the truth (every file's identity, current path, bytes);
* chaos, at random intervals: SIGKILL of any service and its restart, the broker connection cut
  for a few seconds, the watched root briefly emptied (everything moved out and back);
* nothing else: the services are on their own.

Then it quiesces (chaos and generator stopped, every service up, until the outbox and the queue
are empty, no job is due or running, and the catalog stands still), stops the services with
SIGTERM and compares the catalog with the disk:

* lost:    a file on disk without exactly one live asset at its path;
* wrong:   a live asset whose sha256 is not the file's;
* doubled: a live asset at a path where no file is (a delete not applied, a move's origin left);
* split:   a moved file that did not keep its asset (its origin holds a soft-deleted asset);
* stuck:   a job running or due after quiescence, an asset left `enriching`;
* approved: an asset approved (nobody approves in the soak).

What "truth" means: the disk at the end. A file taken out of the root and put back (the root
emptied) is the same file at the same path: its asset must be live again, the same asset. A file
deleted while the ingestor was down in a folder left empty or missing at its restart is kept by
design (docs/ingestor.md, "a mount glitch is never a mass delete"): counted apart, as
`kept_by_design`, never hidden in the zeros. Loopback only; exits 0 when every count is 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import aio_pika
from sqlalchemy import create_engine, text

if __package__ in (None, ""):  # run as `python bench/soak.py`: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.tcp_proxy import TcpProxy
from shared.topology import Topology, declare_topology, delete_topology

BROKER_HOST, BROKER_PORT = "127.0.0.1", 5672
AMQP_DIRECT = os.environ.get("APOLLONIA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PG_ADMIN = os.environ.get("APOLLONIA_SOAK_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/")
CLIPS = {
    "clip.mkv": ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1"],
    "clip.mp4": ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1"],
}
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
MAX_FILES = 600


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the truth ---------------------------------------------------------------------------------
@dataclass
class Entry:
    ident: int
    path: str  # relative to the root
    sha256: str | None = None  # None while a slow writer writes it
    alive: bool = True
    former: list[str] = field(default_factory=list)  # paths it was moved away from
    deleted_at: float | None = None


@dataclass
class Truth:
    entries: dict[int, Entry] = field(default_factory=dict)
    ops: Counter[str] = field(default_factory=Counter)
    next_id: int = 0

    journal: IO[str] | None = None

    def note(self, op: str, *, chaos: bool = False, **facts: Any) -> None:
        """One line per change in `journal.jsonl` (kept with --keep): for the post-mortem."""
        if not chaos:
            self.ops[op] += 1
        if self.journal is not None:
            self.journal.write(json.dumps({"t": round(time.time(), 3), "op": op, **facts}) + "\n")

    def new(self, path: str) -> Entry:
        self.next_id += 1
        entry = Entry(self.next_id, path)
        self.entries[entry.ident] = entry
        return entry

    def alive(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.alive]

    def finished(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.alive and e.sha256 is not None]

    def under(self, folder: str) -> list[Entry]:
        prefix = folder + "/"
        return [e for e in self.entries.values() if e.alive and e.path.startswith(prefix)]


# --- the services ------------------------------------------------------------------------------
@dataclass
class Service:
    name: str  # ingestor, consumer-1, enricher-2
    command: str  # ingestor | consumer | enricher
    env: dict[str, str]
    logfile: IO[bytes]
    proc: subprocess.Popen[bytes] | None = None
    kills: int = 0
    down_since: float | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "apollonia", self.command],
            env=self.env,
            stdout=self.logfile,
            stderr=self.logfile,
            start_new_session=True,  # its own group: the cleanup takes its children too
        )
        self.down_since = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # the process only: its children are on their own
            self.proc.wait()
        self.kills += 1
        self.down_since = time.monotonic()

    async def terminate(self, within: float = 60.0) -> int | None:
        """SIGTERM and wait, without blocking the loop: the TCP proxy runs in it, and a service
        closing its broker connection needs it."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + within
            while self.proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            if self.proc.poll() is None:
                log(f"{self.name} did not stop within {within:.0f} s of SIGTERM; killed")
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def reap_group(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)


class Soak:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = work
        self.root = work / "library"
        self.aside = work / "aside"
        self.config = work / "config"
        self.clips = work / "clips"
        self.logs = work / "logs"
        for folder in (self.root, self.aside, self.config, self.clips, self.logs):
            folder.mkdir(parents=True)
        self.topology = Topology(exchange=f"soak-{uuid.uuid4().hex[:10]}")
        self.proxy = TcpProxy(BROKER_HOST, BROKER_PORT)
        self.truth = Truth()
        self.truth.journal = (work / "journal.jsonl").open("w")
        self.fs = asyncio.Lock()  # one file-system change at a time (the root emptied is one)
        self.folders: list[str] = []
        self.counter = 0
        self.services: list[Service] = []
        self.kept_by_design: set[int] = set()
        self.pg_database: str | None = None
        self.database_url = ""
        self.chaos: Counter[str] = Counter()
        self.writers: set[asyncio.Task[None]] = set()

    # --- set-up ----------------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLONIA_")}
        env.update(
            {
                "APOLLONIA_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{self.proxy.port}/",
                "APOLLONIA_EXCHANGE": self.topology.exchange,
                "APOLLONIA_CONFIG_DIR": str(self.config),
                "APOLLONIA_DATABASE_URL": self.database_url,
                "APOLLONIA_DATA_DIRECTORY": str(self.root),
                "APOLLONIA_SETTLE_SECONDS": "0.5",
                "APOLLONIA_RECONCILE_INTERVAL": "0",
                "APOLLONIA_LOG_FORMAT": "json",
                "APOLLONIA_LOG_LEVEL": "INFO",
                "APOLLONIA_METRICS_PORT": "0",
                "APOLLONIA_BATCH_MS": "50",
                "APOLLONIA_ENRICHMENT_WORKER": "false",
                "APOLLONIA_ENRICHMENT_CONCURRENCY": "2",
                "APOLLONIA_ENRICHMENT_POLL_INTERVAL": "0.5",
                "APOLLONIA_ENRICHMENT_LEASE_SECONDS": "6",
                "APOLLONIA_ENRICHMENT_RETRY_SECONDS": "1",
                "APOLLONIA_ENRICHMENT_MAX_ATTEMPTS": "1",
                "APOLLONIA_SHUTDOWN_TIMEOUT": "10",
            }
        )
        env.update(extra)
        return env

    def cli(self, *args: str) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "apollonia", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"apollonia {' '.join(args)} failed: {proc.stderr.strip()}")

    def make_catalog(self) -> None:
        if self.args.catalog == "sqlite":
            self.database_url = f"sqlite+aiosqlite:///{self.config / 'apollonia.db'}"
            return
        self.pg_database = f"apollonia_soak_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN + "postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.pg_database}"'))
        admin.dispose()
        self.database_url = PG_ADMIN + self.pg_database

    def drop_catalog(self) -> None:
        if self.pg_database is None:
            return
        admin = create_engine(PG_ADMIN + "postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)'))
        admin.dispose()

    def make_clips(self) -> None:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            log("ffmpeg not found: no real clips, enrichment only fails on random bytes")
            return
        for name, recipe in CLIPS.items():
            subprocess.run(
                [ffmpeg, "-nostdin", "-v", "error", "-y", *recipe, *H264, str(self.clips / name)],
                check=True,
                timeout=120,
            )

    async def setup(self) -> None:
        await self.proxy.start()
        self.make_catalog()
        self.make_clips()
        self.cli("db", "upgrade")
        self.cli("source", "add", "--type", "filesystem", "--name", "soak")
        self.cli(
            "collection",
            "add",
            "--source",
            "soak",
            "--name",
            "library",
            "--path",
            str(self.root),
            "--enricher",
            "ffprobe:1",
            "--enricher",
            "filename:2",
        )
        names = [("ingestor", "ingestor")]
        names += [(f"consumer-{i + 1}", "consumer") for i in range(self.args.consumers)]
        names += [(f"enricher-{i + 1}", "enricher") for i in range(self.args.workers)]
        for name, command in names:
            logfile = (self.logs / f"{name}.log").open("ab")
            service = Service(name, command, self.env(), logfile)
            service.start()
            self.services.append(service)

    # --- the generator ---------------------------------------------------------------------
    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter:06d}"

    def folder(self) -> str:
        if not self.folders or self.rng.random() < 0.08:
            name = (
                f"{self.fresh('Show ')}/Season 01" if self.rng.random() < 0.5 else self.fresh("d")
            )
            (self.root / name).mkdir(parents=True, exist_ok=True)
            self.folders.append(name)
            return name
        return self.rng.choice(self.folders)

    def write(self, path: Path, data: bytes) -> str:
        path.write_bytes(data)
        return hashlib.sha256(data).hexdigest()

    def random_bytes(self) -> bytes:
        return self.rng.randbytes(self.rng.randint(1, 48) * 1024)

    def create(self, folder: str | None = None) -> None:
        folder = folder or self.folder()
        clips = sorted(self.clips.iterdir())
        if clips and self.rng.random() < 0.15:
            clip = self.rng.choice(clips)
            rel = f"{folder}/{self.fresh('c')}{clip.suffix}"
            entry = self.truth.new(rel)
            entry.sha256 = self.write(self.root / rel, clip.read_bytes())
            self.truth.note("clip", path=rel, id=entry.ident)
            return
        rel = f"{folder}/{self.fresh('f')}.mkv"
        entry = self.truth.new(rel)
        entry.sha256 = self.write(self.root / rel, self.random_bytes())
        self.truth.note("create", path=rel, id=entry.ident)

    def slow_writer(self) -> None:
        folder = self.folder()
        rel = f"{folder}/{self.fresh('s')}.mkv"
        entry = self.truth.new(rel)
        handle = (self.root / rel).open("wb")
        self.truth.note("slow_write", path=rel, id=entry.ident)

        async def write_slowly() -> None:
            digest = hashlib.sha256()
            try:
                for _ in range(self.rng.randint(3, 8)):
                    chunk = self.rng.randbytes(8192)
                    handle.write(chunk)
                    handle.flush()
                    digest.update(chunk)
                    await asyncio.sleep(self.rng.uniform(0.1, 0.5))
            finally:
                handle.close()
            entry.sha256 = digest.hexdigest()  # wherever it is now (moved with its folder)

        task = asyncio.create_task(write_slowly())
        self.writers.add(task)
        task.add_done_callback(self.writers.discard)

    def pick(self) -> Entry | None:
        done = self.truth.finished()
        return self.rng.choice(done) if done else None

    def rewrite(self) -> None:
        entry = self.pick()
        if entry is None:
            return
        data = self.random_bytes()
        target = self.root / entry.path
        if self.rng.random() < 0.3:  # a new version renamed over the old one
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            self.truth.note("rewrite_rename_over", path=entry.path, id=entry.ident)
        else:
            target.write_bytes(data)
            self.truth.note("rewrite", path=entry.path, id=entry.ident)
        entry.sha256 = hashlib.sha256(data).hexdigest()

    def rename_file(self) -> None:
        entry = self.pick()
        if entry is None:
            return
        folder = self.folder() if self.rng.random() < 0.5 else entry.path.rsplit("/", 1)[0]
        suffix = Path(entry.path).suffix
        rel = f"{folder}/{self.fresh('m')}{suffix}"
        os.rename(self.root / entry.path, self.root / rel)
        self.truth.note("rename_file", path=rel, old=entry.path, id=entry.ident)
        entry.former.append(entry.path)
        entry.path = rel

    def rename_folder(self) -> None:
        if not self.folders:
            return
        old = self.rng.choice(self.folders)
        parent = old.rsplit("/", 1)[0] if "/" in old else ""
        new = f"{parent}/{self.fresh('r')}" if parent else self.fresh("r")
        os.rename(self.root / old, self.root / new)
        for entry in self.truth.under(old):
            entry.former.append(entry.path)
            entry.path = new + entry.path[len(old) :]
        self.folders = [
            new + f[len(old) :] if f == old or f.startswith(old + "/") else f for f in self.folders
        ]
        self.truth.note("rename_folder", path=new, old=old)

    def delete_file(self) -> None:
        entry = self.pick()
        if entry is None:
            return
        (self.root / entry.path).unlink()
        self.gone(entry)
        self.truth.note("delete_file", path=entry.path, id=entry.ident)

    def delete_folder(self) -> None:
        if len(self.folders) < 4:
            return
        old = self.rng.choice(self.folders)
        shutil.rmtree(self.root / old)
        for entry in self.truth.under(old):
            self.gone(entry)
        self.folders = [f for f in self.folders if not (f == old or f.startswith(old + "/"))]
        self.truth.note("delete_folder", path=old)

    def gone(self, entry: Entry) -> None:
        entry.alive = False
        entry.deleted_at = time.monotonic()

    def burst(self) -> None:
        folder = self.fresh("burst")
        (self.root / folder).mkdir()
        self.folders.append(folder)
        for _ in range(self.rng.randint(10, 30)):
            self.create(folder)
        self.truth.note("burst", path=folder)

    async def generate(self, until: float) -> None:
        ops = [
            (self.create, 34),
            (self.slow_writer, 6),
            (self.rewrite, 12),
            (self.rename_file, 14),
            (self.rename_folder, 3),
            (self.delete_file, 12),
            (self.delete_folder, 1),
            (self.burst, 1),
        ]
        functions, weights = zip(*ops, strict=True)
        while time.monotonic() < until:
            op = self.rng.choices(functions, weights)[0]
            if len(self.truth.alive()) > MAX_FILES and op in (self.create, self.burst):
                op = self.delete_file
            async with self.fs:
                try:
                    op()
                except FileNotFoundError as exc:  # a slow writer's folder went meanwhile
                    log(f"generator: {exc}")
            await asyncio.sleep(self.rng.uniform(0.05, 0.4) / self.args.rate)

    # --- chaos -----------------------------------------------------------------------------
    async def unleash(self, until: float) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(4, 12))
            if time.monotonic() >= until:
                return
            what = self.rng.choices(["kill", "cut", "empty"], [6, 2, 1])[0]
            if what == "kill":
                service = self.rng.choice(self.services)
                service.kill()
                self.chaos[f"kill {service.command}"] += 1
                self.truth.note("chaos_kill", service=service.name, chaos=True)
                await asyncio.sleep(self.rng.uniform(0.5, 4))
                if service.command == "ingestor":
                    self.note_kept_by_design()
                service.start()
                self.truth.note("chaos_restart", service=service.name, chaos=True)
            elif what == "cut":
                self.chaos["broker cut"] += 1
                self.truth.note("chaos_cut", chaos=True)
                await self.proxy.cut(self.rng.uniform(1, 5))
            else:
                self.chaos["root emptied"] += 1
                self.truth.note("chaos_empty", chaos=True)
                async with self.fs:
                    moved = list(self.root.iterdir())
                    for child in moved:
                        os.rename(child, self.aside / child.name)
                    await asyncio.sleep(self.rng.uniform(1, 4))
                    for child in moved:
                        os.rename(self.aside / child.name, child)

    def note_kept_by_design(self) -> None:
        """Deletes made while the ingestor was down whose folder is empty or missing now, at its
        restart: its scan publishes no deletion there (docs/ingestor.md, 'Watch modes')."""
        ingestor = next(s for s in self.services if s.command == "ingestor")
        since = ingestor.down_since or time.monotonic()
        for entry in self.truth.entries.values():
            if entry.alive or entry.deleted_at is None or entry.deleted_at < since:
                continue
            folder = (self.root / entry.path).parent
            if not folder.is_dir() or not any(folder.iterdir()):
                self.kept_by_design.add(entry.ident)

    # --- quiescence ------------------------------------------------------------------------
    def catalog(self, sql: str) -> list[tuple[Any, ...]]:
        url = self.database_url.replace("+aiosqlite", "")
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def outbox(self) -> int:
        path = self.config / "ingestor-state.db"
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
            try:
                return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:
            return -1

    async def queue_depth(self) -> int:
        connection = await aio_pika.connect(AMQP_DIRECT)
        try:
            channel = await connection.channel()
            queue = await channel.declare_queue(self.topology.catalog_queue, passive=True)
            return int(queue.declaration_result.message_count or 0)
        finally:
            await connection.close()

    def busy_jobs(self) -> int:
        """Jobs running, or pending and due: what a quiet stack must not have."""
        now = datetime.now(UTC).replace(tzinfo=None)
        busy = 0
        for status, stored in self.catalog(
            "SELECT status, next_attempt_at FROM jobs WHERE status IN ('in_progress', 'pending')"
        ):
            due = stored
            if isinstance(due, str):
                due = datetime.fromisoformat(due)
            if isinstance(due, datetime) and due.tzinfo is not None:
                due = due.astimezone(UTC).replace(tzinfo=None)
            if status == "in_progress" or due is None or due <= now:
                busy += 1
        return busy

    def fingerprint(self) -> tuple[Any, ...]:
        rows = self.catalog(
            "SELECT count(*), sum(CASE WHEN is_deleted THEN 1 ELSE 0 END), max(updated_at) "
            "FROM assets"
        )
        return rows[0]

    async def quiesce(self, within: float) -> bool:
        for task in list(self.writers):
            await task
        for service in self.services:
            if not service.alive():
                service.start()
        deadline = time.monotonic() + within
        last: tuple[Any, ...] | None = None
        still_since = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            for service in self.services:
                if not service.alive():
                    log(
                        f"{service.name} exited with {service.proc and service.proc.returncode}; "
                        "restarting it"
                    )
                    service.start()
            state = (self.outbox(), await self.queue_depth(), self.busy_jobs(), self.fingerprint())
            if state != last:
                last, still_since = state, time.monotonic()
                continue
            if (
                state[0] == 0
                and state[1] == 0
                and state[2] == 0
                and (time.monotonic() - still_since >= 5)
            ):
                return True
        log(f"not quiet after {within:.0f} s: outbox, queue, busy jobs, assets = {last}")
        return False

    # --- the verdict -----------------------------------------------------------------------
    def disk(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                found[str(path.relative_to(self.root))] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
        return found

    def verdict(self) -> dict[str, Any]:
        disk = self.disk()
        model = {e.path: e.sha256 for e in self.truth.alive()}
        assets = self.catalog(
            "SELECT canonical_key, sha256, is_deleted, approved_for_broadcast, state FROM assets"
        )
        live: dict[str, list[str | None]] = {}
        soft: set[str] = set()
        for key, sha, deleted, _, _ in assets:
            if deleted:
                soft.add(key)
            else:
                live.setdefault(key, []).append(sha)
        lost = [p for p in disk if len(live.get(p, [])) != 1]
        wrong = [p for p, sha in disk.items() if len(live.get(p, [])) == 1 and live[p][0] != sha]
        extra = [k for k in live if k not in disk]
        by_design = {self.truth.entries[i].path for i in self.kept_by_design}
        doubled = [k for k in extra if k not in by_design]
        split = [e.path for e in self.truth.alive() if any(former in soft for former in e.former)]
        stuck = self.busy_jobs() + sum(1 for *_, state in assets if state == "enriching")
        approved = sum(1 for _, _, _, ok, _ in assets if ok)
        jobs = dict(self.catalog("SELECT status, count(*) FROM jobs GROUP BY status"))
        states = Counter(state for *_, state in assets)
        history = self.catalog("SELECT count(*) FROM asset_history")[0][0]
        # Informational: a job whose file moved away while it ran fails (the path it was given
        # is gone) and no new job follows, as the content did not change.
        raced = self.catalog(
            "SELECT count(*) FROM jobs j JOIN assets a ON a.uuid = j.asset_uuid "
            "WHERE a.is_deleted = false AND j.status = 'failed' "
            "AND j.error LIKE '%No such file or directory%' AND NOT EXISTS "
            "(SELECT 1 FROM jobs k WHERE k.asset_uuid = j.asset_uuid AND k.queued_at > j.queued_at)"
        )[0][0]
        return {
            "lost": lost,
            "doubled": doubled,
            "wrong": wrong,
            "stuck": stuck,
            "split": split,
            "approved": approved,
            "kept_by_design": sorted(set(extra) & by_design),
            "model_vs_disk": sorted(set(model) ^ set(disk))
            + [p for p, sha in model.items() if p in disk and disk[p] != sha],
            "files_on_disk": len(disk),
            "deleted_files": sum(1 for e in self.truth.entries.values() if not e.alive),
            "moved_files": sum(1 for e in self.truth.alive() if e.former),
            "assets": len(assets),
            "soft_deleted": len(soft),
            "jobs": jobs,
            "states": dict(states),
            "history": history,
            "enrichment_raced_a_move": raced,
        }

    # --- the whole run ---------------------------------------------------------------------
    async def run(self) -> int:
        declare_connection = await aio_pika.connect(AMQP_DIRECT)
        channel = await declare_connection.channel()
        await declare_topology(channel, self.topology)
        try:
            await self.setup()
            started = time.monotonic()
            until = started + self.args.minutes * 60
            log(
                f"{self.args.minutes} min on {self.args.catalog}, {self.args.consumers} "
                f"consumer(s), {self.args.workers} worker(s); exchange {self.topology.exchange}; "
                f"work {self.work}"
            )
            await asyncio.gather(self.generate(until), self.unleash(until))
            generated_s = time.monotonic() - started
            log("generator and chaos stopped; quiescing")
            quiet = await self.quiesce(self.args.quiesce)
            settled_s = time.monotonic() - started
            stopped = await asyncio.gather(*(s.terminate() for s in self.services))
            codes = {s.name: code for s, code in zip(self.services, stopped, strict=True)}
            result = self.verdict()
        finally:
            for service in self.services:
                service.reap_group()
                service.logfile.close()
            if self.truth.journal is not None:
                self.truth.journal.close()
            await self.proxy.close()
            with contextlib.suppress(Exception):
                await delete_topology(channel, self.topology)
            await declare_connection.close()
            if self.args.keep and self.pg_database is not None:
                log(f"kept the PostgreSQL database {self.pg_database} (drop it yourself)")
            else:
                with contextlib.suppress(Exception):
                    self.drop_catalog()
        if self.args.json:
            summary = {
                k: (len(v) if isinstance(v, list) else v)
                for k, v in result.items()
                if k not in ("jobs", "states")
            }
            summary.update(
                quiet=quiet,
                seed=self.args.seed,
                examples={k: result[k][:5] for k in ("lost", "doubled", "wrong", "split")},
                operations=dict(self.truth.ops),
                chaos=dict(self.chaos),
                exit_codes=codes,
            )
            print(json.dumps(summary))
        else:
            self.report(result, generated_s, settled_s, quiet, codes)
        counts = ("lost", "doubled", "wrong", "split", "model_vs_disk")
        bad = sum(len(result[c]) for c in counts) + result["stuck"] + result["approved"]
        return 0 if bad == 0 and quiet else 1

    def report(
        self,
        r: dict[str, Any],
        generated_s: float,
        settled_s: float,
        quiet: bool,
        codes: dict[str, int | None],
    ) -> None:
        ops = sum(self.truth.ops.values())
        print(
            f"soak: {self.args.minutes} min on {self.args.catalog}, "
            f"{self.args.consumers} consumer(s), {self.args.workers} enrichment worker(s), "
            f"seed {self.args.seed}"
        )
        print(
            f"file operations:  {ops} in {generated_s:.0f} s ({ops / generated_s:.1f}/s): "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.truth.ops.items()))
        )
        print(
            "chaos:            "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.chaos.items())) or "none")
        )
        print(
            f"quiet:            {'yes' if quiet else 'NO'} after {settled_s - generated_s:.0f} s;"
            f" exit codes on SIGTERM: " + ", ".join(f"{k} {v}" for k, v in codes.items())
        )
        load = os.getloadavg()
        print(
            f"machine:          {os.cpu_count()} cores, load average now {load[0]:.1f} "
            f"{load[1]:.1f} {load[2]:.1f} (1, 5, 15 min; shared with other work)"
        )
        print(
            f"disk:             {r['files_on_disk']} files; {r['deleted_files']} deleted, "
            f"{r['moved_files']} present files moved at least once"
        )
        print(
            f"catalog:          {r['assets']} assets ({r['soft_deleted']} soft-deleted), "
            f"states {r['states']}, jobs {r['jobs']}"
        )
        print(
            f"throughput:       {r['history']} catalog decisions in {settled_s:.0f} s "
            f"({r['history'] / settled_s:.1f}/s)"
        )
        for name in ("lost", "doubled", "wrong", "split"):
            items = r[name]
            print(f"{name + ':':17} {len(items)}" + (f"  e.g. {items[:5]}" if items else ""))
        print(f"{'stuck:':17} {r['stuck']}")
        print(f"{'approved:':17} {r['approved']}")
        print(
            f"{'kept_by_design:':17} {len(r['kept_by_design'])}"
            + (f"  e.g. {r['kept_by_design'][:5]}" if r["kept_by_design"] else "")
        )
        print(
            f"{'enrichment raced a move:':17} {r['enrichment_raced_a_move']} live asset(s) whose "
            "last job failed on a path moved away meanwhile (not retried: content unchanged)"
        )
        if r["model_vs_disk"]:
            print(f"soak bug: its model and the disk differ: {r['model_vs_disk'][:5]}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--catalog", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--consumers", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--rate", type=float, default=1.0, help="file activity, 1 = default pace")
    parser.add_argument("--quiesce", type=float, default=240.0, help="most seconds to settle")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (logs) and the PG database"
    )
    parser.add_argument("--json", action="store_true", help="the counts as one JSON document")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    if args.catalog == "sqlite" and args.consumers > 1:
        parser.error(
            "a SQLite catalog takes one consumer (a second is refused at start): "
            "use --catalog postgresql for --consumers > 1"
        )
    return args


async def amain(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="apollonia-soak-"))
    soak = Soak(args, work)
    try:
        return await soak.run()
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
