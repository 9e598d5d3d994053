"""Collection ingest at scale: first ingest, and an unchanged re-ingest against `find`.

    python bench/rescan.py [--files 100000] [--keep DIR]

Creates N small media files in a Plex-style tree, ingests them once through the real CLI, then
times an unchanged re-ingest and, in the same run, `find ROOT -type f -printf '%s %T@\\n'` on the
same tree (both with a warm cache). Prints the figures and the ratios against the targets:

* unchanged re-ingest <= 3x find,
* first ingest >= 5,000 files/s,
* peak RSS of the ingest process < 300 MiB.

Both ingests are timed as the command reports them in its JSON (`duration_seconds`: listing,
catalog comparison, hashing, the transaction and the run record, everything that grows with the
tree). The whole CLI process is printed beside each; it adds the interpreter start-up and
imports, a constant (0.4-1 s) that no tree size changes.

Our modules are byte-compiled first, as a `pip install` does, so an environment with
PYTHONDONTWRITEBYTECODE=1 does not recompile them in every timed run.

No assertion: machines are shared and noisy; read the ratios.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

APOLLONIA = [sys.executable, "-m", "apollonia"]


def make_tree(root: Path, files: int) -> None:
    shows, seasons = 100, 10
    per_season = max(1, files // (shows * seasons))
    made = 0
    for show in range(shows):
        for season in range(1, seasons + 1):
            folder = root / f"Show {show:03d}" / f"Season {season:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            for episode in range(1, per_season + 1):
                if made >= files:
                    return
                name = f"Show {show:03d} - S{season:02d}E{episode:03d}.mkv"
                (folder / name).write_bytes(f"{show}/{season}/{episode}".encode() * 8)
                made += 1


def byte_compile() -> None:
    """What `pip install` does for an installed package; an editable checkout lacks it."""
    for package in ("apollonia", "consumer", "ingestor", "shared"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                compileall.compile_dir(folder, quiet=1)


def run(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall time, peak RSS (KiB) and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}: {out[-2000:]}")
    return elapsed, usage.ru_maxrss, out


def best_of(times: int, args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    runs = [run(args, env) for _ in range(times)]
    return min(runs, key=lambda r: r[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the timed re-runs")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="apollonia-rescan-"))
    root = work / "media"
    env = dict(os.environ, APOLLONIA_CONFIG_DIR=str(work / "config"), APOLLONIA_LOG_LEVEL="WARNING")
    byte_compile()
    try:
        if not root.exists():
            t = time.perf_counter()
            make_tree(root, args.files)
            print(f"created {args.files} files in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        run([*APOLLONIA, "source", "add", "--type", "filesystem", "--name", "bench"], env)
        run(
            [
                *APOLLONIA,
                "collection",
                "add",
                "--source",
                "bench",
                "--name",
                "tv",
                "--path",
                str(root),
            ],
            env,
        )

        first_s, first_rss, out = run([*APOLLONIA, "collection", "ingest", "tv", "--json"], env)
        first: dict[str, Any] = json.loads(out)
        created = first["stats"]["assets_ingested"]
        if created != args.files:
            raise SystemExit(f"expected {args.files} assets, ingested {created}")

        find_s, _, _ = best_of(
            args.repeat, ["find", str(root), "-type", "f", "-printf", "%s %T@\n"], env
        )
        rescans = [
            run([*APOLLONIA, "collection", "ingest", "tv", "--json"], env)
            for _ in range(args.repeat)
        ]
        inner_times = []
        for _, _, out in rescans:
            rescan: dict[str, Any] = json.loads(out)
            if rescan["stats"]["assets_skipped"] != args.files or rescan["stats"]["files_hashed"]:
                raise SystemExit(f"re-ingest was not a pure skip: {rescan['stats']}")
            inner_times.append(float(rescan["duration_seconds"]))
        rescan_s = min(r[0] for r in rescans)
        rescan_rss = max(r[1] for r in rescans)
        inner_s = min(inner_times)
        startup_s, _, _ = best_of(args.repeat, [*APOLLONIA, "--version"], env)

        first_inner = float(first["duration_seconds"])
        rate = args.files / first_inner
        peak = max(first_rss, rescan_rss) / 1024
        print(f"files:                         {args.files}")
        print(
            f"first ingest:                  {first_inner:8.2f} s  {rate:8.0f} files/s"
            f"  (target >= 5000)  {'OK' if rate >= 5000 else 'MISS'}"
        )
        print(
            f"  whole CLI process:           {first_s:8.2f} s  {args.files / first_s:8.0f} files/s"
            f"  (start-up included)"
        )
        print(f"find -printf '%s %T@':         {find_s:8.3f} s")
        print(
            f"unchanged re-ingest:           {inner_s:8.3f} s  ratio {inner_s / find_s:5.2f}x"
            f"  (target <= 3x)  {'OK' if inner_s <= 3 * find_s else 'MISS'}"
        )
        print(
            f"  whole CLI process:           {rescan_s:8.3f} s  ratio {rescan_s / find_s:5.2f}x"
            f"  (start-up included)"
        )
        print(f"  interpreter + imports:       {startup_s:8.3f} s  (apollonia --version)")
        print(
            f"peak RSS:                      {peak:8.1f} MiB  (target < 300)"
            f"  {'OK' if peak < 300 else 'MISS'}"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
