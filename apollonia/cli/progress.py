"""A progress bar on stderr for long ingests, only when stderr is a terminal."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from consumer.service_layer.collection_ingest import NoProgress
from consumer.service_layer.collection_ingest import Progress as ProgressProtocol


class RichProgress:
    def __init__(self, label: str) -> None:
        self._label = label
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: TaskID | None = None
        self._found = 0

    def found(self, files: int) -> None:
        self._found = files

    def hashing(self, files: int, total_bytes: int) -> None:
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(
                f"{self._label}: hashing ({self._found} files found)", total=total_bytes
            )
        else:
            task = self._progress.tasks[0]
            self._progress.update(self._task, total=(task.total or 0) + total_bytes)

    def hashed(self, files: int, nbytes: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, nbytes)

    def finished(self) -> None:
        if self._task is not None:
            self._progress.stop()
            self._task = None


def progress_for(label: str, *, enabled: bool = True) -> ProgressProtocol:
    if enabled and sys.stderr.isatty():
        return RichProgress(label)
    return NoProgress()
