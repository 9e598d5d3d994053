"""One-shot jobs that need both halves: prospect a file (the ingestor's code) and apply it to
the catalog (the consumer's service layer)."""

from __future__ import annotations

import os
from typing import Any

from apollonia import bootstrap
from apollonia.settings import Settings
from consumer.domain.errors import OperationError
from consumer.service_layer.ingest_file import ingest_event
from ingestor.events import created_event, utc_now
from ingestor.prospect import Hashed, Prospector


async def ingest_file(settings: Settings, raw: bytes, *, test_db: bool) -> dict[str, Any]:
    """`apollonia ingest-file PATH`: the document it reports."""
    hasher = bootstrap.hasher(settings, workers=1)
    try:
        (outcome,) = await Prospector(hasher).prospect([raw])
    finally:
        hasher.close()
    if not isinstance(outcome, Hashed):
        raise OperationError(
            "not_a_readable_file",
            path=os.fsdecode(raw),
            detail=getattr(outcome, "detail", "unreadable"),
        )
    event = created_event(
        outcome, event_type="ingest-file", ingestor_id=settings.ingestor_id, now=utc_now()
    )
    async with bootstrap.catalog(settings, test_db=test_db) as catalog:
        ingested = await ingest_event(catalog, event, settings.media_extensions)
    decision = ingested.decision
    return {
        "status": "success",
        "mode": "test" if test_db else "production",
        "path": event.file_path,
        "collection_id": ingested.collection_uuid,
        "collection_name": ingested.collection_name,
        "canonical_key": decision.canonical_key,
        "decision": decision.action.value,
        "reason": decision.reason,
        "asset_id": decision.asset_uuid,
        "sha256": event.sha256_hash,
        "xxh128": event.xxh128_hash,
        "size": event.size,
    }
