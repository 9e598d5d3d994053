"""What a real collection ingest tells its progress display: totals before the first advance,
never going back, bytes advancing inside a big file, and 100% reached exactly once."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apollonia import bootstrap
from apollonia.settings import load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.domain.importing import IngestScope
from consumer.service_layer import admin

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

CHUNK = 64 * 1024
BIG = 5 * 1024 * 1024 + 123  # several MiB: many chunks


class Recorder:
    """Every call, with the running totals after it (calls come from worker threads too)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, int, int]] = []
        self.files = self.nbytes = 0
        self.total: tuple[int, int] | None = None

    def listing(self) -> None:
        with self.lock:
            self.events.append(("listing", 0, 0))

    def planned(self, files: int, total_bytes: int) -> None:
        with self.lock:
            self.total = (files, total_bytes)
            self.events.append(("planned", files, total_bytes))

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        with self.lock:
            assert files >= 0 and nbytes >= 0
            self.files += files
            self.nbytes += nbytes
            self.events.append(("advance", self.files, self.nbytes))

    def finished(self) -> None:
        with self.lock:
            self.events.append(("finished", self.files, self.nbytes))


async def test_progress_of_a_real_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLONIA_HASH_CHUNK_SIZE", str(CHUNK))
    settings = load_settings()
    root = tmp_path / "films"
    root.mkdir()
    (root / "Big (2001).mkv").write_bytes(b"\x01" * BIG)
    for i in range(3):
        (root / f"Small {i} (2002).mkv").write_bytes(b"small %d" % i)
    sizes = sum(p.stat().st_size for p in root.iterdir())

    catalog = CatalogDatabase(settings.catalog_url())
    recorder = Recorder()
    async with catalog:
        now = datetime.now(UTC)
        async with catalog.unit_of_work() as uow:
            source = await admin.add_source(
                uow,
                name="Local",
                source_type="filesystem",
                root_path=str(tmp_path),
                mappings=[],
                external_id=None,
                now=now,
            )
            collection = await admin.add_collection(
                uow,
                source,
                FilesystemImporter(settings.media_extensions),
                name="Films",
                root_path=str(root),
                enrichers=[],
                sync_enabled=True,
                hash_mode="full",
                external_id=None,
                now=now,
            )
            await uow.commit()
        async with bootstrap.collection_ingestor(settings, catalog, recorder) as ingestor:
            result = await ingestor.ingest(collection, source, IngestScope())
    assert result.stats.assets_ingested == 4

    kinds = [kind for kind, _, _ in recorder.events]
    assert kinds[0] == "listing"
    assert kinds.count("planned") == 1
    assert kinds.index("planned") < kinds.index("advance")  # totals known first
    assert kinds[-1] == "finished"
    assert recorder.total == (4, sizes)

    advances = [(f, b) for kind, f, b in recorder.events if kind == "advance"]
    assert advances == sorted(advances)  # monotonic in files and bytes
    # 100% exactly once: reached at one point and never left (the totals never grow).
    first_full = advances.index(recorder.total)
    assert all(a == recorder.total for a in advances[first_full:])
    assert recorder.total not in advances[:first_full]
    assert all(f <= 4 and b <= sizes for f, b in advances)
    # Bytes advance while the big file is read: more byte steps than files, at most CHUNK each.
    steps = [b2 - b1 for (_, b1), (_, b2) in itertools.pairwise(advances) if b2 > b1]
    assert len(steps) >= BIG // CHUNK
    assert max(steps) <= CHUNK
