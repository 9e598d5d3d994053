"""Building the ingest services from settings (the CLI and the embedded runner share this)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from apollonia.settings import Settings
from consumer.db.catalog import CatalogDatabase
from consumer.importers.registry import default_importers
from consumer.ingest.collection import CollectionIngestor, Progress
from ingestor.hashing import Hasher


@asynccontextmanager
async def collection_ingestor(
    settings: Settings, catalog: CatalogDatabase, progress: Progress | None = None
) -> AsyncIterator[CollectionIngestor]:
    hasher = Hasher(workers=settings.hash_workers, chunk_size=settings.hash_chunk_size)
    try:
        yield CollectionIngestor(
            catalog, default_importers(settings.media_extensions), hasher, progress=progress
        )
    finally:
        hasher.close()
