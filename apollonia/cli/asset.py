"""`apollonia asset ...` (what the catalog holds) and `apollonia ingest-file PATH`."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from apollonia import bootstrap
from apollonia.cli.common import (
    CatalogTarget,
    JsonOpt,
    TestDbOpt,
    run_operation,
    settings_or_exit,
)

# `ingest-file` (rewritten separately) still raises failures it words itself.
from apollonia.cli.errors import WordedError as OperationError
from apollonia.cli.output import ExitCode, Output
from apollonia.cli.render import iso
from consumer.domain.assets import Asset
from consumer.domain.lifecycle import AssetState
from consumer.domain.records import IngestRun
from consumer.service_layer import queries
from consumer.service_layer.events import CollectionRouter, apply_group, plan_events
from ingestor.events import created_event, utc_now
from ingestor.prospect import Hashed, Prospector

app = typer.Typer(help="Assets: what the catalog holds.", no_args_is_help=True)


def asset_dict(asset: Asset, *, full: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": asset.uuid,
        "collection_id": asset.collection_uuid,
        "canonical_key": asset.canonical_key,
        "path": asset.path,
        "size": asset.size,
        "state": asset.state.value,
        "approved_for_broadcast": asset.approved_for_broadcast,
        "is_deleted": asset.is_deleted,
        "sha256": asset.sha256,
        "updated_at": iso(asset.updated_at),
    }
    if full:
        doc.update(
            {
                "mtime_ns": asset.mtime_ns,
                "xxh128": asset.xxh128,
                "content_signature": asset.content_signature,
                "enricher_checksum": asset.enricher_checksum,
                "deleted_at": iso(asset.deleted_at),
                "tech_metadata": asset.tech_metadata,
                "neighbors": asset.neighbors,
                "last_event_at": iso(asset.last_event_at),
                "discovered_at": iso(asset.discovered_at),
                "created_at": iso(asset.created_at),
            }
        )
    return doc


@app.command("list")
def list_assets(
    collection_sel: Annotated[
        str | None, typer.Option("--collection", help="Only this collection's assets.")
    ] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="new | enriching | ready | retired")
    ] = None,
    include_deleted: Annotated[
        bool, typer.Option("--include-deleted", help="Also list soft-deleted assets.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 1000,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """List assets, optionally of one collection or in one lifecycle state."""
    output = Output(json_out)
    if state is not None and state not in {s.value for s in AssetState}:
        output.fail(
            ExitCode.VALIDATION,
            f"unknown state '{state}' (new, enriching, ready, retired)",
            error_code="usage",
        )
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _list() -> dict[str, Any]:
        async with target.open() as catalog:
            page = await queries.list_assets(
                catalog,
                collection_selector=collection_sel,
                state=state,
                include_deleted=include_deleted,
                limit=limit,
            )
        return {
            "status": "success",
            "mode": target.mode,
            "truncated": page.truncated,
            "assets": [asset_dict(a) for a in page.assets],
        }

    doc = run_operation(output, _list)

    def human(console: Console) -> None:
        if not doc["assets"]:
            console.print("No assets.", markup=False)
            return
        table = Table("Key", "State", "Approved", "Deleted", "Size", "ID")
        for a in doc["assets"]:
            table.add_row(
                a["canonical_key"],
                a["state"],
                "yes" if a["approved_for_broadcast"] else "no",
                "yes" if a["is_deleted"] else "no",
                str(a["size"]),
                a["id"],
            )
        console.print(table)
        if doc["truncated"]:
            console.print(f"(first {limit}; use --limit for more)", markup=False)

    output.emit(doc, human)


@app.command("show")
def show(
    asset_id: Annotated[str, typer.Argument(metavar="ID", help="Asset UUID (or a unique prefix).")],
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Show an asset: every field, its neighbours, and its decision history with reasons."""
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _show() -> dict[str, Any]:
        async with target.open() as catalog:
            detail = await queries.show_asset(catalog, asset_id)
        doc = asset_dict(detail.asset, full=True)
        doc["collection_name"] = detail.collection_name
        doc["history"] = [
            {
                "time": iso(h.time),
                "decision": h.decision,
                "reason": h.reason,
                "event_id": h.event_id,
                "run_id": h.run_uuid,
            }
            for h in detail.history
        ]
        return {"status": "success", "mode": target.mode, "asset": doc}

    doc = run_operation(output, _show)

    def human(console: Console) -> None:
        a = doc["asset"]
        console.print(f"Asset {a['id']}", markup=False)
        for key in (
            "collection_name",
            "canonical_key",
            "path",
            "size",
            "mtime_ns",
            "sha256",
            "xxh128",
            "state",
            "approved_for_broadcast",
            "is_deleted",
            "deleted_at",
            "tech_metadata",
            "last_event_at",
            "created_at",
            "updated_at",
        ):
            console.print(f"  {key:<24}{a[key]}", markup=False)
        console.print("  neighbours:", markup=False)
        for neighbour in a["neighbors"] or ["(none)"]:
            console.print(f"    {neighbour}", markup=False)
        console.print("  history:", markup=False)
        for h in a["history"]:
            console.print(
                f"    {h['time']}  {h['decision']:<7} {h['reason']}"
                + (f"  (event {h['event_id']})" if h["event_id"] else ""),
                markup=False,
            )

    output.emit(doc, human)


@app.command("duplicates")
def duplicates(
    collection_sel: Annotated[str, typer.Argument(metavar="COLLECTION")],
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """List duplicate candidates: live assets with the same content under different keys. They
    are never merged automatically."""
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _dups() -> dict[str, Any]:
        async with target.open() as catalog:
            report = await queries.duplicates(catalog, collection_sel)
        groups = report.groups
        return {
            "status": "success",
            "mode": target.mode,
            "collection_id": report.collection.uuid,
            "collection_name": report.collection.name,
            "groups": len(groups),
            "duplicates": report.duplicates,
            "candidates": [
                {
                    "sha256": sha,
                    "assets": [
                        {"id": a.uuid, "canonical_key": a.canonical_key, "size": a.size}
                        for a in members
                    ],
                }
                for sha, members in groups.items()
            ],
        }

    doc = run_operation(output, _dups)

    def human(console: Console) -> None:
        console.print(
            f"Collection '{doc['collection_name']}': {doc['duplicates']} duplicate "
            f"candidates in {doc['groups']} groups",
            markup=False,
        )
        for group in doc["candidates"]:
            console.print(f"  sha256 {group['sha256']}", markup=False)
            for a in group["assets"]:
                console.print(f"    {a['canonical_key']}  ({a['id']})", markup=False)

    output.emit(doc, human)


def ingest_file_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The file to catalog.")],
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Catalog one file now: prospect it (stat, SHA-256 + xxh128, neighbours) and apply it straight
    to the catalog, then exit. Safe to run many at once."""
    output = Output(json_out)
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, test_db=test_db)
    raw = os.path.abspath(os.fsencode(path))

    async def _ingest() -> dict[str, Any]:
        hasher = bootstrap.hasher(settings, workers=1)
        try:
            (outcome,) = await Prospector(hasher).prospect([raw])
        finally:
            hasher.close()
        if not isinstance(outcome, Hashed):
            raise OperationError(
                1,
                "not_a_readable_file",
                f"Error: {os.fsdecode(raw)} is not a readable regular file "
                f"({getattr(outcome, 'detail', 'unreadable')})",
            )
        event = created_event(
            outcome, event_type="ingest-file", ingestor_id=settings.ingestor_id, now=utc_now()
        )
        async with target.open() as catalog:
            async with catalog.unit_of_work(read_only=True) as uow:
                router = await CollectionRouter.load(uow, settings.media_extensions)
            plan = plan_events(router, [event])
            if plan.unmatched:
                raise OperationError(
                    1,
                    "no_collection",
                    f"Error: {event.file_path} is under no collection; add one "
                    "with 'apollonia collection add'",
                )
            if plan.ignored:
                raise OperationError(
                    1,
                    "not_media",
                    f"Error: {event.file_path} is not a media file (see "
                    "APOLLONIA_MEDIA_EXTENSIONS)",
                )
            if plan.rejected:
                raise OperationError(1, "path_rejected", f"Error: {plan.rejected[0][2]}")
            (group,) = plan.groups.values()
            run_uuid = str(uuid.uuid4())
            now = utc_now()
            async with catalog.unit_of_work(label="ingest-file") as uow:
                applied = await apply_group(uow, group, now=now, run_uuid=run_uuid)
                await uow.runs.add(
                    IngestRun(
                        uuid=run_uuid,
                        kind="ingest_file",
                        source_uuid=group.collection.source_uuid,
                        collection_uuid=group.collection.uuid,
                        scope={"kind": "file", "path": event.file_path},
                        status="success",
                        started_at=now,
                        finished_at=utc_now(),
                        stats={
                            "created": applied.created,
                            "updated": applied.updated,
                            "skipped": applied.skipped,
                        },
                    )
                )
                await uow.commit()
        decision = applied.decisions[-1]
        return {
            "status": "success",
            "mode": target.mode,
            "path": event.file_path,
            "collection_id": group.collection.uuid,
            "collection_name": group.collection.name,
            "canonical_key": decision.canonical_key,
            "decision": decision.action.value,
            "reason": decision.reason,
            "asset_id": decision.asset_uuid,
            "sha256": event.sha256_hash,
            "xxh128": event.xxh128_hash,
            "size": event.size,
        }

    doc = run_operation(output, _ingest)
    output.emit(
        doc,
        lambda c: c.print(
            f"{doc['decision']}: {doc['canonical_key']} in '{doc['collection_name']}' "
            f"({doc['reason']})",
            markup=False,
        ),
    )
