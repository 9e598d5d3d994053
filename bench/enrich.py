"""Enrichment throughput: ours through the job table against the bare tools, in the same run.

    python bench/enrich.py [--files 300] [--jobs CORES] [--keep DIR]

Makes N small real media files (1-second testsrc + sine clips, MKV and MP4 alternating: a few
distinct clips made with ffmpeg, then copied under N names), adds a collection with the ffprobe
enricher and ingests it through the real CLI, which queues one `enrich` job per asset (untimed).
Then, timed:

* ours: `enrich_pending` (what `apollonia enrich` runs) in this process, with the worker's pool
  at --jobs, from the first claim to the last job written: probe, tail check, QC, the results
  and the state change committed through the job table;
* bare: `xargs -P<jobs>` running, per file, the same ffprobe command
  (`ffprobe -v error -print_format json -show_format -show_streams -show_chapters FILE`) and
  the same tail check (`ffmpeg -nostdin -v error -sseof -5 -i FILE -f null -`).

Bare runs first and last; the better of the two is the figure (both warm the page cache the
same way). Prints both times and bare/ours against the target >= 0.9 (ours at most ~11% slower).

No assertion: machines are shared and noisy; read the ratio.
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

APOLLONIA = [sys.executable, "-m", "apollonia"]
TARGET = 0.9
DISTINCT = 10
PROBE = "ffprobe -v error -print_format json -show_format -show_streams -show_chapters"
TAIL = "ffmpeg -nostdin -v error -sseof -5 -i"


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


def bare(paths: list[Path], jobs: int) -> float:
    script = f'{PROBE} "$1" >/dev/null && {TAIL} "$1" -f null - </dev/null'
    listing = b"\0".join(str(p).encode() for p in paths)
    start = time.perf_counter()
    subprocess.run(
        ["xargs", "-0", f"-P{jobs}", "-n1", "sh", "-c", script, "_"],
        input=listing,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


async def ours() -> tuple[float, int, int]:
    """Seconds from the first claim to the last job written; jobs completed and failed."""
    # Imported here: after the environment is set, as a fresh process would read it.
    from apollonia import bootstrap
    from apollonia.settings import load_settings
    from consumer.service_layer.enrichment import utcnow
    from consumer.service_layer.enrichment_ops import enrich_pending
    from shared.runtime.log import configure_logging

    configure_logging("WARNING", "console")
    settings = load_settings()
    async with bootstrap.catalog(settings) as catalog:
        enrichment = bootstrap.enrichment(settings, catalog)
        start = time.perf_counter()
        run = await enrich_pending(catalog, enrichment, now=utcnow())
        elapsed = time.perf_counter() - start
    failed = sum(t.failed for t in run.collections)
    enriched = sum(t.enriched for t in run.collections)
    return elapsed, enriched, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="work in DIR and leave it there")
    args = parser.parse_args()
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: apt-get install ffmpeg)")

    work = args.keep or Path(tempfile.mkdtemp(prefix="apollonia-bench-enrich-"))
    try:
        root = work / "media"
        root.mkdir(parents=True, exist_ok=True)
        paths = make_media(root, args.files)
        env = {
            "APOLLONIA_CONFIG_DIR": str(work / "config"),
            "APOLLONIA_LOG_LEVEL": "WARNING",
            "APOLLONIA_ENRICHMENT_CONCURRENCY": str(args.jobs),
        }
        os.environ.update(env)
        full_env = dict(os.environ)
        cli(["source", "add", "--type", "filesystem", "--name", "bench", "--path", str(root)],
            full_env)  # fmt: skip
        cli(
            ["collection", "add", "--source", "bench", "--name", "clips", "--path", str(root),
             "--enricher", "ffprobe:1"],
            full_env,
        )  # fmt: skip
        cli(["collection", "ingest", "clips", "--json"], full_env)

        bare_first = bare(paths, args.jobs)
        ours_s, enriched, failed = asyncio.run(ours())
        bare_s = min(bare_first, bare(paths, args.jobs))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    ratio = bare_s / ours_s
    print(f"files: {args.files} ({DISTINCT} distinct clips, mkv/mp4), parallelism: {args.jobs}")
    print(f"ours (job table, enrich_pending): {ours_s:7.2f} s  ({enriched} ready, {failed} failed)")
    print(f"bare (xargs -P{args.jobs} ffprobe + tail): {bare_s:7.2f} s")
    verdict = "OK" if ratio >= TARGET else "BELOW"
    print(f"bare/ours: {ratio:.2f}  (target >= {TARGET})  {verdict}")


if __name__ == "__main__":
    main()
