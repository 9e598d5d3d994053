"""A progress display on stderr for long ingests, only when stderr is a terminal.

While the files are listed there is no total to show: a spinner says so. Once the ingest knows
what it will read (`planned`), the bar shows files and bytes against totals that never change
afterwards, advances while a big file is read (the hasher reports every chunk from its worker
threads), and gives an ETA.
"""

from __future__ import annotations

import sys
import threading
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from consumer.service_layer.collection_ingest import NoProgress
from consumer.service_layer.collection_ingest import Progress as ProgressProtocol

# Worker threads report every chunk; the display is updated at most this often.
REDRAW_SECONDS = 0.1


class RichProgress:
    def __init__(self, label: str) -> None:
        self._label = label
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[files]}"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._lock = threading.Lock()
        self._task: TaskID | None = None
        self._files = self._files_total = 0
        self._bytes = self._bytes_total = 0
        self._drawn = 0.0

    def listing(self) -> None:
        with self._lock:
            if self._task is None:
                self._progress.start()
                self._task = self._progress.add_task(
                    f"{self._label}: listing files", total=None, files=""
                )

    def planned(self, files: int, total_bytes: int) -> None:
        with self._lock:
            self._files, self._files_total = 0, files
            self._bytes, self._bytes_total = 0, total_bytes
            if self._task is None:
                self._progress.start()
                self._task = self._progress.add_task("", total=None, files="")
            self._progress.update(
                self._task,
                description=f"{self._label}: reading",
                total=total_bytes or max(files, 1),  # nothing to read: count files
                completed=0,
                files=self._files_text(),
            )

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._files = min(self._files_total, self._files + files)
            self._bytes = min(self._bytes_total, self._bytes + nbytes)
            now = time.monotonic()
            done = self._files == self._files_total and self._bytes == self._bytes_total
            if self._task is None or (now - self._drawn < REDRAW_SECONDS and not done):
                return
            self._drawn = now
            completed = self._bytes if self._bytes_total else self._files
            self._progress.update(self._task, completed=completed, files=self._files_text())

    def finished(self) -> None:
        with self._lock:
            if self._task is not None:
                self._progress.stop()
                self._progress.remove_task(self._task)
                self._task = None

    def _files_text(self) -> str:
        return f"{self._files:,}/{self._files_total:,} files"


def progress_for(label: str, *, enabled: bool = True) -> ProgressProtocol:
    if enabled and sys.stderr.isatty():
        return RichProgress(label)
    return NoProgress()
