"""No file in the repository carries a merge's conflict markers (a merge resolved in haste once
left them in docs/architecture.md, where nothing else would have noticed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
TEXT = (".py", ".md", ".toml", ".yml", ".yaml", ".json", ".tcss", ".sh", ".cfg", ".txt", ".mako")


def tracked_text_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listing.split("\0") if name.endswith(TEXT)]


def test_no_tracked_file_holds_conflict_markers() -> None:
    files = tracked_text_files()
    assert files, "git ls-files listed nothing: the test would prove nothing"
    marked = [
        str(path.relative_to(ROOT))
        for path in files
        if path.is_file() and MARKER.search(path.read_text(errors="replace"))
    ]
    assert marked == []
