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
    for count in ("lost", "doubled", "wrong", "stuck", "approved"):
        assert result[count] == 0, f"{count}: {detail}"
    assert set(result["exit_codes"].values()) == {0}, detail
    if result["split"]:
        # Renames published as deleted + created keep their asset now (move inference, same
        # sha256). Left, and reported: a file whose content changed and that moved before the
        # change was published (rewritten a moment before its folder was renamed, or both while
        # the ingestor was down, a rename-over giving it a new inode too) reaches the catalog as
        # one file deleted and another with other bytes created: nothing ties the two.
        pytest.xfail(f"moved with changed content: {result['examples']['split']}")
