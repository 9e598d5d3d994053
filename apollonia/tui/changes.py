"""Noticing that the catalog changed, without a query: a SQLite commit in WAL mode writes the
`-wal` file (and a checkpoint the database file), so their size and modification time change.
A `stat` of two files per second costs nothing, also with 100,000 assets. For a catalog that
is not a SQLite file (PostgreSQL) there is no token and the UI refreshes on its timer alone."""

from __future__ import annotations

import os
from pathlib import Path

from shared.sqlite import sqlite_path

Token = tuple[tuple[int, int], ...]


class ChangeWatch:
    def __init__(self, url: str) -> None:
        path = sqlite_path(url)
        self.files: tuple[Path, ...] = (
            () if path is None else (path, path.with_name(path.name + "-wal"))
        )
        self._last = self.token()

    @property
    def watching(self) -> bool:
        return bool(self.files)

    def token(self) -> Token:
        out = []
        for file in self.files:
            try:
                st = os.stat(file)
            except OSError:
                out.append((0, 0))
            else:
                out.append((st.st_mtime_ns, st.st_size))
        return tuple(out)

    def changed(self) -> bool:
        """Whether the files changed since the last call."""
        now = self.token()
        if now == self._last:
            return False
        self._last = now
        return True
