"""Enrichment throughput: ours through the job table against the bare tools, in the same run.

    python bench/enrich.py [--files 300] [--jobs CORES] [--blocks 6] [--keep DIR] [--profile FILE]

Makes N small real media files (1-second testsrc + sine clips, MKV and MP4 alternating: a few
distinct clips made with ffmpeg, then copied under N names) in --blocks folders, adds one
collection per folder with the ffprobe enricher and ingests them through the real CLI, which
queues one `enrich` job per asset (untimed). Then, timed, block after block:

* ours: `enrich_pending` (what `apollonia enrich --collection C` runs) in this process, with
  the worker's pool at --jobs, from the first claim to the last job written: probe, tail check,
  QC, the results and the state change committed through the job table;
* bare: `xargs -P<jobs>` running, per file, the very commands the enricher runs, taken from it:
  `nice -n 10 ffprobe -v error -print_format json -show_format -show_streams -show_chapters FILE`
  and then the tail check `nice -n 10 ffmpeg -nostdin -v error -sseof -5 -i FILE -f null -`.
  The enricher runs its tools at a lower CPU priority than the apply path; the reference runs at
  the same one, so on a machine others share the scheduler treats both alike and their
  contention cancels in the ratio (`--reference-nice 0`: an un-niced reference, the stricter
  figure on a busy machine, the same one on an idle machine).

The two take turns on each block (bare first on odd blocks, ours first on even ones), so a
machine whose load changes over the minutes of a run slows both alike: the figure is the sum of
bare's block times over the sum of ours' (and the range of the per-block ratios shows how noisy
the run was). Prints both times and bare/ours against the target >= 0.9 (ours at most ~11%
slower), and the CPU the Python process spent on ours (event loop, SQLite thread), per job.
`--profile FILE` samples the Python process with py-spy (`pip install py-spy`) during ours and
writes the stacks in py-spy's raw (collapsed) format: one line per stack, its sample count last.

No assertion: machines are shared and noisy; read the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

APOLLONIA = [sys.executable, "-m", "apollonia"]
TARGET = 0.9
DISTINCT = 10


def make_media(root: Path, files: int) -> list[Path]:
    masters = root.parent / "masters"
    masters.mkdir(exist_ok=True)
    made: list[Path] = []
    for i in range(min(DISTINCT, files)):
        ext = "mkv" if i % 2 == 0 else "mp4"
        target = masters / f"clip{i}.{ext}"
        subprocess.run(
            [
                "ffmpeg", "-nostdin", "-v", "error", "-y",
                "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:decimals={i % 3}",
                "-f", "lavfi", "-i", f"sine=frequency={220 + 40 * i}:sample_rate=48000",
                "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", str(target),
            ],
            check=True,
        )  # fmt: skip
        made.append(target)
    paths = []
    for n in range(files):
        master = made[n % len(made)]
        path = root / f"Clip {n:04d}{master.suffix}"
        shutil.copyfile(master, path)
        paths.append(path)
    return paths


def cli(args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run([*APOLLONIA, *args], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"apollonia {' '.join(args)} exited {proc.returncode}: {proc.stderr}")


def reference_script(nice: int) -> str:
    """The enricher's own two commands for the file "$1", as sh(1) runs them."""
    from consumer.adapters.enrichers.ffprobe import FfprobeEnricher, FfprobeOptions

    enricher = FfprobeEnricher(FfprobeOptions())
    prefix = ["nice", "-n", str(nice)] if nice else []

    def command(argv: list[str]) -> str:
        return " ".join(shlex.quote(a) if a != "$1" else '"$1"' for a in [*prefix, *argv])

    return (
        f"{command(enricher.probe_argv('$1'))} >/dev/null && "
        f"{command(enricher.tail_argv('$1'))} </dev/null"
    )


def bare(paths: list[Path], jobs: int, script: str) -> float:
    listing = b"\0".join(str(p).encode() for p in paths)
    start = time.perf_counter()
    subprocess.run(
        ["xargs", "-0", f"-P{jobs}", "-n1", "sh", "-c", script, "_"],
        input=listing,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU this process has used so far, all its threads (not its children)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def profiler(output: Path) -> subprocess.Popen[bytes]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("--profile needs py-spy (pip install py-spy)")
    proc = subprocess.Popen(
        [py_spy, "record", "--pid", str(os.getpid()), "--rate", "250", "--threads",
         "--format", "raw", "--output", str(output)],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)  # attached before the first claim
    return proc


@dataclass
class Tally:
    ours: float = 0.0  # seconds, summed over the blocks
    bare: float = 0.0
    cpu: float = 0.0  # CPU seconds of this process during ours
    enriched: int = 0
    failed: int = 0
    ratios: list[float] = field(default_factory=list)  # bare/ours per block


async def interleaved(
    blocks: list[list[Path]], jobs: int, script: str, profile: Path | None
) -> Tally:
    """Each block's files by bare and by ours, taking turns."""
    # Imported here: after the environment is set, as a fresh process would read it.
    from apollonia import bootstrap
    from apollonia.settings import load_settings
    from consumer.service_layer.enrichment import utcnow
    from consumer.service_layer.enrichment_ops import enrich_pending
    from shared.runtime.log import configure_logging

    configure_logging("WARNING", "console")
    settings = load_settings()
    tally = Tally()
    async with bootstrap.catalog(settings) as catalog:
        enrichment = bootstrap.enrichment(settings, catalog)
        spy = profiler(profile) if profile is not None else None

        async def ours(n: int) -> float:
            start, cpu = time.perf_counter(), cpu_seconds()
            run = await enrich_pending(
                catalog, enrichment, collection_sel=f"clips{n}", now=utcnow()
            )
            elapsed = time.perf_counter() - start
            tally.cpu += cpu_seconds() - cpu
            tally.failed += sum(t.failed for t in run.collections)
            tally.enriched += sum(t.enriched for t in run.collections)
            return elapsed

        for n, paths in enumerate(blocks, 1):
            if n % 2:
                bare_s = bare(paths, jobs, script)
                ours_s = await ours(n)
            else:
                ours_s = await ours(n)
                bare_s = bare(paths, jobs, script)
            tally.ours += ours_s
            tally.bare += bare_s
            tally.ratios.append(bare_s / ours_s)
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            spy.wait()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--blocks", type=int, default=6, help="folders (collections) the two take turns on"
    )
    parser.add_argument("--keep", type=Path, help="work in DIR and leave it there")
    parser.add_argument(
        "--reference-nice",
        type=int,
        default=None,
        help="nice(1) level of the bare reference's tools (default: the enricher's, 10)",
    )
    parser.add_argument(
        "--profile", type=Path, help="sample ours with py-spy into FILE (raw collapsed stacks)"
    )
    args = parser.parse_args()
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: apt-get install ffmpeg)")

    work = args.keep or Path(tempfile.mkdtemp(prefix="apollonia-bench-enrich-"))
    try:
        root = work / "media"
        root.mkdir(parents=True, exist_ok=True)
        paths = make_media(root, args.files)
        blocks: list[list[Path]] = [[] for _ in range(max(1, min(args.blocks, args.files)))]
        for i, path in enumerate(paths):
            blocks[i * len(blocks) // len(paths)].append(path)
        for n, block in enumerate(blocks, 1):
            (root / f"block{n}").mkdir()
            for i, path in enumerate(block):
                block[i] = path.rename(root / f"block{n}" / path.name)
        env = {
            "APOLLONIA_CONFIG_DIR": str(work / "config"),
            "APOLLONIA_LOG_LEVEL": "WARNING",
            "APOLLONIA_ENRICHMENT_CONCURRENCY": str(args.jobs),
        }
        os.environ.update(env)
        full_env = dict(os.environ)
        cli(["source", "add", "--type", "filesystem", "--name", "bench", "--path", str(root)],
            full_env)  # fmt: skip
        for n in range(1, len(blocks) + 1):
            cli(
                ["collection", "add", "--source", "bench", "--name", f"clips{n}",
                 "--path", str(root / f"block{n}"), "--enricher", "ffprobe:1"],
                full_env,
            )  # fmt: skip
        cli(["source", "ingest", "bench", "--json"], full_env)

        from consumer.adapters.enrichers.ffprobe import FfprobeOptions

        nice = FfprobeOptions().nice if args.reference_nice is None else args.reference_nice
        script = reference_script(nice)
        tally = asyncio.run(interleaved(blocks, args.jobs, script, args.profile))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    ratio = tally.bare / tally.ours
    print(
        f"files: {args.files} ({DISTINCT} distinct clips, mkv/mp4) in {len(blocks)} blocks, "
        f"parallelism: {args.jobs}"
    )
    print(
        f"ours (job table, enrich_pending): {tally.ours:7.2f} s  "
        f"({tally.enriched} ready, {tally.failed} failed)"
    )
    per_job = tally.cpu / args.files * 1000
    print(f"  ours' Python process: {tally.cpu:.2f} s CPU ({per_job:.1f} ms per job)")
    print(f"bare (xargs -P{args.jobs} ffprobe + tail): {tally.bare:7.2f} s")
    print(f"  each file: sh -c '{script}'")
    print(f"  per block bare/ours: {' '.join(f'{r:.2f}' for r in tally.ratios)}")
    verdict = "OK" if ratio >= TARGET else "BELOW"
    print(f"bare/ours: {ratio:.2f}  (target >= {TARGET})  {verdict}")


if __name__ == "__main__":
    main()
