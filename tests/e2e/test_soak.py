"""The soak for ~20 seconds on SQLite: the whole stack as real processes under file activity and
chaos (kills, broker cuts, the root emptied), then the catalog against the disk
(bench/soak.py; run it for 10 minutes by hand). No timing assertions: only the counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.broker_required import require_broker

pytestmark = [pytest.mark.e2e, pytest.mark.soak, pytest.mark.timeout(900)]

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_twenty_seconds_of_chaos_lose_double_and_corrupt_nothing() -> None:
    require_broker()
    proc = subprocess.run(
        [sys.executable, str(SOAK), "--minutes", "0.33", "--json", "--quiesce", "300"],
        capture_output=True,
        text=True,
        timeout=800,
        check=False,
    )
    assert proc.stdout.strip(), proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    detail = json.dumps(result, indent=1)
    assert result["quiet"], detail
    assert result["model_vs_disk"] == 0, detail  # the soak's own truth agrees with the disk
    # split: a moved file that did not keep its asset. Renames are moves even when the file
    # changed before the change was published (moved, then modified), when published as deleted
    # + created (move inference on the sha256), or made while the ingestor was down (inode and
    # birth time).
    for count in ("lost", "doubled", "wrong", "split", "stuck", "approved"):
        assert result[count] == 0, f"{count}: {detail}"
    assert set(result["exit_codes"].values()) == {0}, detail
