"""Shared set-up for the enrichment tests: a collection on a real catalog, files applied to it
through the apply path (which queues their jobs), and an `Enrichment` with real enrichers."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.enrichers.ffprobe import FfprobeEnricher, FfprobeOptions
from consumer.domain.assets import FileFacts
from consumer.domain.catalog import Collection, Source
from consumer.domain.signatures import EnricherRef
from consumer.service_layer.apply import FilePresent, apply_changes
from consumer.service_layer.enrichment import Enrichment, EnrichmentPolicy
from tests import catalog_sql

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def make_collection(
    db: CatalogDatabase,
    root: Path,
    *,
    enrichers: tuple[str, ...] = ("ffprobe",),
    audio_only: bool = False,
    auto_enrich: bool = True,
    name: str = "Films",
) -> Collection:
    async with db.unit_of_work() as uow:
        sources = await uow.sources.find("Local")
        if not sources:
            await uow.sources.add(
                Source("src", "Local", "filesystem", str(root), created_at=NOW, updated_at=NOW)
            )
        collection = Collection(
            f"col-{name}",
            "src",
            name,
            str(root),
            enrichers=[EnricherRef(e, i + 1) for i, e in enumerate(enrichers)],
            created_at=NOW,
            updated_at=NOW,
            audio_only=audio_only,
            auto_enrich=auto_enrich,
        )
        await uow.collections.add(collection)
        await uow.commit()
    return collection


def observe(path: Path, root: Path, sha: str | None = None) -> FileFacts:
    st = path.stat()
    return FileFacts(
        str(path.relative_to(root)),
        str(path),
        st.st_size,
        st.st_mtime_ns,
        sha256=sha,
        observed_at=datetime.now(UTC),
    )


async def apply_files(
    db: CatalogDatabase, collection: Collection, root: Path, *paths: Path
) -> None:
    async with db.unit_of_work() as uow:
        await apply_changes(
            uow,
            collection,
            [FilePresent(observe(p, root)) for p in paths],
            now=datetime.now(UTC),
        )
        await uow.commit()


def enrichment(
    db: CatalogDatabase, *, ffprobe: str = "ffprobe", worker: str = "w1", **policy: Any
) -> Enrichment:
    registry = {"ffprobe": FfprobeEnricher(FfprobeOptions(ffprobe=ffprobe, deadline=20))}
    return Enrichment(db, registry, EnrichmentPolicy(worker_id=worker, **policy))


def rows(db: Path | str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Raw SQL on a SQLite file, or on a catalog URL (PostgreSQL: values as sqlite3 gives them)."""
    if isinstance(db, str):
        return catalog_sql.rows(db, sql, params)
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    os.utime(target, ns=(source.stat().st_mtime_ns, source.stat().st_mtime_ns))
    return target
