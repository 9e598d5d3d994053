"""Fixtures for the CLI contract tests: a real media tree, the real CLI, a real SQLite catalog."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from apollonia.settings import load_settings, sqlite_url
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.service_layer import admin
from tests import catalog_sql
from tests.cli import Result, run_cli

TV_FILES = {
    "The Show (2005)/Season 01/The Show - S01E01 - Pilot.mkv": b"show s1e1",
    "The Show (2005)/Season 01/The Show - S01E02.mkv": b"show s1e2",
    "The Show (2005)/Season 02/The Show - S02E01.mkv": b"show s2e1",
    "The Show (2005)/Season 02/The Show - S02E02.mkv": b"show s2e2",
    "Other Show/Season 1/Other.Show.S01E01.mkv": b"other s1e1",
    "Other Show/Season 1/Other.Show.S01E01.en.srt": b"subtitle, not media",
    "Other Show/Season 1/.hidden.mkv": b"dot-file, ignored",
    "Other Show/Season 1/Other.Show.S01E02.mkv.part": b"in progress, ignored",
}
TV_MEDIA = [k for k in TV_FILES if k.endswith(".mkv") and "/." not in k]


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Library:
    """A media library on disk and the CLI pointed at a fresh catalog."""

    root: Path
    config_dir: Path
    # PostgreSQL runs (modules marked `catalog_backends`): the catalogs' URLs; None on SQLite.
    url: str | None = None
    test_url: str | None = None

    @property
    def backend(self) -> str:
        return "sqlite" if self.url is None else "postgresql"

    def catalog_url(self, *, test_db: bool = False) -> str:
        url = self.test_url if test_db else self.url
        if url is not None:
            return url
        return sqlite_url(self.test_db if test_db else self.db)

    @property
    def tv(self) -> Path:
        return self.root / "tv"

    @property
    def films(self) -> Path:
        return self.root / "films"

    @property
    def db(self) -> Path:
        return self.config_dir / "apollonia.db"

    @property
    def test_db(self) -> Path:
        return self.config_dir / "apollonia-test.db"

    def cli(self, *args: str, **kwargs: Any) -> Result:
        return run_cli(*args, **kwargs)

    def ok(self, *args: str) -> Any:
        """Run with --json, require exit 0, return the document."""
        result = run_cli(*args, "--json")
        assert result.code == 0, f"{args} exited {result.code}: {result.stdout} {result.stderr}"
        return result.json()

    def setup(self, *, sync_tv: bool = True, test_db: bool = False) -> dict[str, str]:
        """Source 'Local' with collections 'TV' (external id `tv-ext`) and 'Films'.

        Set up in-process through the same admin functions the CLI calls (`source add` and
        `collection add` have their own CLI tests) to keep the suite fast.
        """
        return asyncio.run(self._setup(sync_tv=sync_tv, test_db=test_db))

    async def _setup(self, *, sync_tv: bool, test_db: bool) -> dict[str, str]:
        settings = load_settings()
        importer = FilesystemImporter(settings.media_extensions)
        now = datetime.now(UTC)
        catalog = CatalogDatabase(settings.catalog_url(test_db=test_db))
        async with catalog, catalog.unit_of_work() as uow:
            source = await admin.add_source(
                uow,
                name="Local",
                source_type="filesystem",
                root_path=str(self.root),
                mappings=[],
                external_id=None,
                now=now,
            )
            tv = await admin.add_collection(
                uow,
                source,
                importer,
                name="TV",
                root_path=str(self.tv),
                enrichers=[],
                sync_enabled=sync_tv,
                hash_mode="full",
                external_id="tv-ext",
                now=now,
            )
            films = await admin.add_collection(
                uow,
                source,
                importer,
                name="Films",
                root_path=str(self.films),
                enrichers=[],
                sync_enabled=True,
                hash_mode="full",
                external_id=None,
                now=now,
            )
            await uow.commit()
        return {"source": source.uuid, "tv": tv.uuid, "films": films.uuid}

    def query(
        self, sql: str, params: tuple[Any, ...] = (), *, test_db: bool = False
    ) -> list[tuple[Any, ...]]:
        return catalog_sql.rows(self.catalog_url(test_db=test_db), sql, params)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        catalog_sql.execute(self.catalog_url(), sql, params)

    def asset(self, key: str) -> dict[str, Any]:
        found = catalog_sql.dicts(
            self.catalog_url(), "SELECT * FROM assets WHERE canonical_key = ?", (key,)
        )
        assert found, f"no asset {key}"
        return found[0]

    def snapshot(self) -> dict[str, str]:
        """Digest of every catalog file in the config dir (main file, WAL, SHM); on PostgreSQL,
        of every table's rows, under the names the SQLite files would have."""
        if self.url is None:
            return {
                p.name: file_digest(p) for p in sorted(self.config_dir.iterdir()) if p.is_file()
            }
        return {
            "apollonia.db": catalog_sql.digest(self.catalog_url()),
            "apollonia-test.db": catalog_sql.digest(self.catalog_url(test_db=True)),
        }


@pytest.fixture
def library(tmp_path: Path, config_dir: Path, catalog_env: str | None) -> Library:
    root = tmp_path / "media"
    write_tree(root / "tv", TV_FILES)
    write_tree(
        root / "films",
        {"Alien (1979).mkv": b"alien", "Heat (1995)/Heat.mkv": b"heat", "poster.jpg": b"not media"},
    )
    test_url = os.environ.get("APOLLONIA_TEST_DATABASE_URL") if catalog_env else None
    return Library(root=root, config_dir=config_dir, url=catalog_env, test_url=test_url)


Touch = Callable[[Path], None]


def touch_later(path: Path) -> None:
    """Same bytes, a newer mtime (as `touch` would do a second later)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
