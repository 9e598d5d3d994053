"""`apollonia ingest-file`: one prospected file event, applied now through the one apply path."""

from __future__ import annotations

from collections.abc import Collection as Extensions
from dataclasses import dataclass

from consumer.domain.errors import OperationError
from consumer.service_layer.apply import AppliedDecision
from consumer.service_layer.events import RunSpec, apply_plan, in_process
from consumer.service_layer.routing import RouterCache, plan_batch
from consumer.service_layer.unit_of_work import Catalog
from shared.schemas.file_event import FileEvent


@dataclass(frozen=True, slots=True)
class IngestedFile:
    collection_uuid: str
    collection_name: str
    decision: AppliedDecision


async def ingest_event(
    catalog: Catalog, event: FileEvent, media_extensions: Extensions[str]
) -> IngestedFile:
    """Apply `event` to whichever collection holds its path (sync-enabled or not: the operator
    asked for this file), with an `ingest_file` run record."""
    plan = await plan_batch(RouterCache(catalog, media_extensions), [event])
    if plan.unmatched:
        raise OperationError("no_collection", path=event.file_path)
    if plan.ignored:
        raise OperationError("not_media", path=event.file_path)
    if plan.rejected:
        raise OperationError("path_rejected", reason=plan.rejected[0][2])
    run = RunSpec(
        "ingest_file", {"kind": "file", "path": event.file_path}, ("created", "updated", "skipped")
    )
    applied = await apply_plan(plan, in_process(catalog, run=run))
    (result,) = applied.results
    assert result.outcome is not None
    collection = result.group.collection
    return IngestedFile(collection.uuid, collection.name, result.outcome.decisions[-1])
