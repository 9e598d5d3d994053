"""JSON documents and human text for sources, collections and ingest results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from consumer.domain.catalog import Collection, Source
from consumer.service_layer.collection_ingest import CollectionIngestResult, IngestStats

ERRORS_SHOWN = 5


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def source_dict(source: Source, collections: int | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": source.uuid,
        "external_id": source.external_id,
        "name": source.name,
        "type": source.type,
        "root_path": source.root_path,
        "path_mappings": [m.as_dict() for m in source.path_mappings],
        "created_at": iso(source.created_at),
        "updated_at": iso(source.updated_at),
    }
    if source.server is not None:
        # Where the secret comes from, never what it is.
        doc["server"] = {
            "url": source.server.url,
            "secret": source.server.secret.as_dict(),
            "timeout_seconds": source.server.timeout,
        }
    if collections is not None:
        doc["collections"] = collections
    return doc


def collection_dict(collection: Collection, assets: int | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": collection.uuid,
        "source_id": collection.source_uuid,
        "external_id": collection.external_id,
        "name": collection.name,
        "root_path": collection.root_path,
        "sync_enabled": collection.sync_enabled,
        "ingestible": collection.ingestible,
        "enrichers": [e.as_dict() for e in collection.enrichers],
        "hash_mode": collection.hash_mode,
        "auto_enrich": collection.auto_enrich,
        "media_type": collection.media_type,
        "audio_only": collection.audio_only,
        "last_ingest_time": iso(collection.last_ingest_time),
        "created_at": iso(collection.created_at),
        "updated_at": iso(collection.updated_at),
    }
    state = collection.importer_state
    if state.get("library_id"):
        # A media server's library: which one, and what the next ingest starts from.
        doc["server_library"] = {
            "id": state.get("library_id"),
            "kind": state.get("kind"),
            "locations": state.get("locations") or [],
            "path_mappings": state.get("path_mappings") or [],
            "changed_since": state.get("high_water"),
        }
    if assets is not None:
        doc["assets"] = assets
    return doc


def sources_table(console: Console, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print(
            "No sources. Add one with 'apollonia source add --type filesystem "
            "--name NAME --path DIR'.",
            markup=False,
        )
        return
    table = Table("Name", "Type", "Root", "Collections", "ID")
    for row in rows:
        table.add_row(
            row["name"],
            row["type"],
            row["root_path"] or "-",
            str(row.get("collections", "")),
            row["id"],
        )
    console.print(table)


def collections_table(console: Console, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("No collections.", markup=False)
        return
    table = Table("Name", "Root", "Sync", "Ingestible", "Assets", "Last ingest", "ID")
    for row in rows:
        table.add_row(
            row["name"],
            row["root_path"],
            "yes" if row["sync_enabled"] else "no",
            "yes" if row["ingestible"] else "no",
            str(row.get("assets", "")),
            row["last_ingest_time"] or "never",
            row["id"],
        )
    console.print(table)


def key_values(console: Console, title: str, pairs: list[tuple[str, Any]]) -> None:
    console.print(title, markup=False)
    width = max(len(k) for k, _ in pairs) if pairs else 0
    for key, value in pairs:
        console.print(f"  {key.ljust(width)}  {value}", markup=False)


def stats_lines(stats: IngestStats, *, dry_run: bool) -> list[str]:
    labels: tuple[tuple[str, object], ...] = (
        ("Would create" if dry_run else "Ingested", stats.assets_ingested),
        ("Would update" if dry_run else "Updated", stats.assets_updated),
        ("Would skip" if dry_run else "Skipped", stats.assets_skipped),
        ("Would mark missing" if dry_run else "Missing", stats.assets_missing),
    )
    rows = [
        ("Discovered", stats.assets_discovered),
        *labels,
        ("Duplicates", "unknown without --hash" if stats.duplicates is None else stats.duplicates),
        ("Changed content", stats.assets_changed_content),
        ("Changed enrichers", stats.assets_changed_enricher),
        ("Errors", stats.errors_total),
    ]
    lines = [f"  {label + ':':<20}{value}" for label, value in rows]
    if stats.content_unread:
        lines.append(
            f"  {stats.content_unread} new or changed {plural(stats.content_unread, 'file')} "
            "judged by size and modification time, not read (--hash compares content)"
        )
    for error in stats.errors[:ERRORS_SHOWN]:
        lines.append(f"    {error['path']}: {error['message']}")
    if stats.errors_total > ERRORS_SHOWN:
        lines.append(f"    ... and {stats.errors_total - ERRORS_SHOWN} more")
    return lines


def ingest_lines(result: CollectionIngestResult) -> list[str]:
    lines = [result.scope.describe(result.collection.name)]
    if result.dry_run:
        lines.append("  Dry run: nothing was written.")
    lines.extend(stats_lines(result.stats, dry_run=result.dry_run))
    when = result.collection.last_ingest_time if result.dry_run else result.last_ingest_time
    lines.append(f"  {'Last ingest time:':<20}{iso(when) or 'never'}")
    if result.stats.errors_total:
        lines.append(with_errors("Completed", result.stats.errors_total))
    return lines


def with_errors(done: str, errors: int) -> str:
    """The closing line of an ingest that went through but could not read or catalog some
    items: they keep what the catalog knew and are looked at again by the next ingest."""
    return (
        f"{done} with {errors} {plural(errors, 'error')}: "
        f"{'that item was' if errors == 1 else 'those items were'} not cataloged or updated "
        "and will be checked again by the next ingest"
    )


def plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"
