"""`apollonia collection ...`: collections of a source, and collection ingest (seed 004 B-/D-)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from apollonia.bootstrap import collection_ingestor, enricher_registry
from apollonia.bootstrap import enrichers as enrichers_of
from apollonia.cli.common import (
    CatalogTarget,
    DryRunOpt,
    JsonOpt,
    TestDbOpt,
    run_operation,
    settings_or_exit,
)
from apollonia.cli.enrich import enrich_after_ingest, enrichment_lines
from apollonia.cli.errors import plural
from apollonia.cli.output import ExitCode, Output
from apollonia.cli.progress import progress_for
from apollonia.cli.render import (
    collection_dict,
    collections_table,
    ingest_lines,
    iso,
    key_values,
)
from consumer.adapters.importers.registry import default_importers
from consumer.domain.importing import IngestScope
from consumer.service_layer import admin, queries
from consumer.service_layer.collection_ingest import CollectionIngestResult, utcnow

app = typer.Typer(
    help="Collections: folders of a source, cataloged as assets.", no_args_is_help=True
)

CollectionArg = Annotated[
    str, typer.Argument(metavar="COLLECTION", help="Collection UUID, external id or name.")
]
YesOpt = Annotated[bool, typer.Option("--yes", help="Confirm a destructive change.")]
AutoEnrichOpt = Annotated[
    bool | None,
    typer.Option(
        "--auto-enrich/--no-auto-enrich",
        help="Enrich new and changed assets automatically (default), or let their jobs wait "
        "for 'apollonia enrich'.",
    ),
]
MediaTypeOpt = Annotated[
    str | None,
    typer.Option(
        "--media-type",
        metavar="movie|episode|other",
        help="Force every asset's type: movie, episode or other (commercials, bumpers, "
        "idents); none clears it.",
    ),
]
AudioOnlyOpt = Annotated[
    bool | None,
    typer.Option(
        "--audio-only/--not-audio-only",
        help="Quality control wants an audio stream instead of a video stream.",
    ),
]
EnrichOpt = Annotated[
    bool,
    typer.Option(
        "--enrich",
        help="Also run the enrichment jobs this ingest queued before returning, and report "
        "what was enriched and what failed (the exit code stays the ingest's).",
    ),
]


FullOpt = Annotated[
    bool,
    typer.Option(
        "--full",
        help="Plex, Jellyfin: list the whole library instead of only what the server changed "
        "since the last ingest, and mark what it no longer has deleted (a folder is always "
        "listed whole).",
    ),
]


def enrichment_options(
    auto_enrich: bool | None, media_type: str | None, audio_only: bool | None
) -> admin.EnrichmentOptions:
    return admin.EnrichmentOptions(
        auto_enrich=auto_enrich, media_type=media_type, audio_only=audio_only
    )


@app.command("add")
def add(
    source_sel: Annotated[
        str,
        typer.Option("--source", metavar="SOURCE", help="Source UUID, external id or name."),
    ],
    name: Annotated[
        str,
        typer.Option("--name", metavar="NAME", help="Collection name (unique in its source)."),
    ],
    path: Annotated[
        str, typer.Option("--path", metavar="DIR", help="Root folder of the collection.")
    ],
    enrichers: Annotated[
        list[str] | None,
        typer.Option(
            "--enricher",
            metavar="ID:PRIORITY",
            help="An enricher and its priority (lower runs first). Repeatable. "
            "The ids: 'apollonia enricher list'.",
        ),
    ] = None,
    sync_disable: Annotated[
        bool, typer.Option("--sync-disable", help="Add it with full-collection sync disabled.")
    ] = False,
    hash_mode: Annotated[
        str,
        typer.Option(
            "--hash-mode",
            metavar="full|stat",
            help="full (hash every new or changed file) or stat "
            "(size + mtime only, for libraries too slow to read).",
        ),
    ] = "full",
    external_id: Annotated[
        str | None,
        typer.Option(
            "--external-id",
            metavar="ID",
            help="The id another system knows it by; accepted wherever a name is.",
        ),
    ] = None,
    auto_enrich: AutoEnrichOpt = None,
    media_type: MediaTypeOpt = None,
    audio_only: AudioOnlyOpt = None,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Add a collection (sync-enabled unless --sync-disable).

    \b
    Examples:
      apollonia collection add --source Media --name Movies --path /mnt/media/Movies
      apollonia collection add --source Media --name TV --path /mnt/media/TV --sync-disable
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, test_db=test_db)

    async def _add() -> dict[str, Any]:
        async with target.open() as catalog:
            collection = await admin.create_collection(
                catalog,
                source_sel,
                default_importers(settings.media_extensions),
                name=name,
                root_path=path,
                enrichers=enrichers or [],
                sync_enabled=not sync_disable,
                hash_mode=hash_mode,
                external_id=external_id,
                now=utcnow(),
                known_enrichers=enricher_registry(),
                options=enrichment_options(auto_enrich, media_type, audio_only),
            )
        return {"status": "success", "mode": target.mode, "collection": collection_dict(collection)}

    doc = run_operation(output, _add)

    def human(console: Console) -> None:
        col = doc["collection"]
        console.print(
            f"Added collection '{col['name']}' ({col['id']}) at {col['root_path']}", markup=False
        )
        if not col["ingestible"]:
            console.print(
                "  Warning: the folder is not ingestible right now (missing or unreadable).",
                markup=False,
            )

    output.emit(doc, human)


@app.command("list")
def list_collections(
    source_sel: Annotated[
        str | None,
        typer.Argument(
            metavar="SOURCE", help="Only this source's collections (UUID, external id or name)."
        ),
    ] = None,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """List collections, optionally of one source.

    \b
    Examples:
      apollonia collection list
      apollonia collection list Media --json
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _list() -> list[dict[str, Any]]:
        async with target.open() as catalog:
            rows = await queries.list_collections(catalog, source_sel)
        return [collection_dict(r.collection, r.assets) for r in rows]

    rows = run_operation(output, _list)
    output.emit(
        {"status": "success", "mode": target.mode, "collections": rows},
        lambda c: collections_table(c, rows),
    )


@app.command("show")
def show(
    collection_sel: CollectionArg, test_db: TestDbOpt = False, json_out: JsonOpt = False
) -> None:
    """Show a collection: settings, live ingestibility check, assets and recent ingests.

    \b
    Examples:
      apollonia collection show Movies
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, test_db=test_db)

    async def _show() -> dict[str, Any]:
        async with target.open() as catalog:
            detail = await queries.show_collection(
                catalog,
                collection_sel,
                default_importers(settings.media_extensions),
                enrichers=enrichers_of(settings),
            )
        source, verdict, runs = detail.source, detail.ingestible_now, detail.recent_runs
        doc = collection_dict(detail.collection, detail.assets_live)
        doc.update(
            {
                "source": {"id": source.uuid, "name": source.name} if source else None,
                "assets_total": detail.assets_total,
                "assets_deleted": detail.assets_total - detail.assets_live,
                "duplicates": detail.duplicates,
                "readiness": detail.readiness.as_dict() if detail.readiness else None,
                "jobs": detail.jobs,
                "ingestible_check": {"ok": verdict.ok, "reason": verdict.reason}
                if verdict
                else None,
                "recent_runs": [
                    {
                        "run_id": r.uuid,
                        "kind": r.kind,
                        "status": r.status,
                        "scope": r.scope,
                        "started_at": iso(r.started_at),
                        "finished_at": iso(r.finished_at),
                        "error": r.error,
                        "item_errors": r.stats.get("errors_total", 0),
                    }
                    for r in runs
                ],
            }
        )
        return {"status": "success", "mode": target.mode, "collection": doc}

    doc = run_operation(output, _show)

    def human(console: Console) -> None:
        col = doc["collection"]
        check = col["ingestible_check"] or {}
        enrichers = ", ".join(f"{e['enricher_id']}:{e['priority']}" for e in col["enrichers"])
        key_values(
            console,
            f"Collection '{col['name']}'",
            [
                ("id", col["id"]),
                ("external id", col["external_id"] or "-"),
                ("source", col["source"]["name"] if col["source"] else "-"),
                ("root", col["root_path"]),
                ("sync enabled", col["sync_enabled"]),
                ("ingestible", f"{col['ingestible']} (now: {check.get('reason', '?')})"),
                ("hash mode", col["hash_mode"]),
                ("enrichers", enrichers or "none"),
                (
                    "automatic enrichment",
                    "on" if col["auto_enrich"] else "off (jobs wait for 'apollonia enrich')",
                ),
                ("media type", col["media_type"] or "not forced"),
                ("audio only", col["audio_only"]),
                ("can reach ready", readiness_words(col["readiness"])),
                ("jobs", ", ".join(f"{n} {s}" for s, n in sorted(col["jobs"].items())) or "none"),
                ("assets", f"{col['assets']} live, {col['assets_deleted']} deleted"),
                ("duplicates", col["duplicates"]),
                ("last ingest", col["last_ingest_time"] or "never"),
            ],
        )
        for run in col["recent_runs"]:
            count = run["item_errors"]
            with_errors = f" with {count} error{'s' if count != 1 else ''}" if count else ""
            console.print(
                f"  run {run['run_id']} {run['kind']} {run['status']}{with_errors} "
                f"{run['started_at']} {run['error'] or ''}",
                markup=False,
            )

    output.emit(doc, human)


def readiness_words(readiness: dict[str, Any] | None) -> str:
    if not readiness:
        return "?"
    if readiness["can_reach_ready"]:
        return "yes"
    return f"no: {readiness['why']} (its assets stay new)"


@app.command("update")
def update(
    collection_sel: CollectionArg,
    sync_enable: Annotated[
        bool,
        typer.Option(
            "--sync-enable",
            help="Let a full ingest (collection or source ingest) keep it in step with disk.",
        ),
    ] = False,
    sync_disable: Annotated[
        bool,
        typer.Option(
            "--sync-disable",
            help="Only targeted ingests (--title/--season/--episode) from now on.",
        ),
    ] = False,
    path: Annotated[
        str | None,
        typer.Option("--path", metavar="DIR", help="New root folder; re-evaluates ingestible."),
    ] = None,
    add_enricher: Annotated[
        str | None,
        typer.Option(
            "--add-enricher",
            metavar="ID",
            help="Add an enricher (or change its priority); needs --priority. "
            "The ids: 'apollonia enricher list'.",
        ),
    ] = None,
    priority: Annotated[
        int | None,
        typer.Option(
            "--priority",
            metavar="N",
            help="Priority of --add-enricher: lower runs first.",
        ),
    ] = None,
    remove_enricher: Annotated[
        str | None,
        typer.Option("--remove-enricher", metavar="ID", help="Remove this enricher."),
    ] = None,
    hash_mode: Annotated[
        str | None,
        typer.Option(
            "--hash-mode",
            metavar="full|stat",
            help="full (hash every new or changed file) or stat (size + mtime only).",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="NAME", help="Rename it (unique in its source)."),
    ] = None,
    auto_enrich: AutoEnrichOpt = None,
    media_type: MediaTypeOpt = None,
    audio_only: AudioOnlyOpt = None,
    mappings: Annotated[
        list[str] | None,
        typer.Option(
            "--path-mapping",
            metavar="FROM=TO",
            help="Plex, Jellyfin library: a prefix of the server's paths and where this host "
            "has it, beside the source's mappings (the longest prefix wins). Repeatable.",
        ),
    ] = None,
    clear_mappings: Annotated[
        bool,
        typer.Option(
            "--clear-path-mappings", help="Plex, Jellyfin library: remove its own path mappings."
        ),
    ] = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Change a collection's sync flag, root, enrichers, hash mode, name, enrichment options or
    (a media server's library) path mappings.

    \b
    Examples:
      apollonia collection update Movies --sync-enable
      apollonia collection update Movies --add-enricher tmdb --priority 10
      apollonia collection update TV --hash-mode stat --name Series
      apollonia collection update Bumpers --media-type other --no-auto-enrich
      apollonia collection update Movies --path-mapping /movies=/mnt/movies
    """
    output = Output(json_out)
    if sync_enable and sync_disable:
        output.fail(
            ExitCode.VALIDATION,
            "--sync-enable and --sync-disable exclude each other",
            error_code="usage",
        )
    if add_enricher is not None and priority is None:
        output.fail(ExitCode.VALIDATION, "--add-enricher requires --priority", error_code="usage")
    if priority is not None and add_enricher is None:
        output.fail(ExitCode.VALIDATION, "--priority requires --add-enricher", error_code="usage")
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, test_db=test_db)
    sync = True if sync_enable else (False if sync_disable else None)

    async def _update() -> dict[str, Any]:
        async with target.open() as catalog:
            change = await admin.change_collection(
                catalog,
                collection_sel,
                default_importers(settings.media_extensions),
                sync_enabled=sync,
                root_path=path,
                add_enricher=(add_enricher, priority)
                if add_enricher and priority is not None
                else None,
                remove_enricher=remove_enricher,
                hash_mode=hash_mode,
                name=name,
                now=utcnow(),
                known_enrichers=enricher_registry(),
                options=enrichment_options(auto_enrich, media_type, audio_only),
                mappings=mappings,
                clear_mappings=clear_mappings,
            )
        return {
            "status": "success",
            "mode": target.mode,
            "changes": change.changes,
            "collection": collection_dict(change.collection),
        }

    doc = run_operation(output, _update)

    def human(console: Console) -> None:
        console.print(f"Updated collection '{doc['collection']['name']}'", markup=False)
        for change in doc["changes"] or ["nothing changed"]:
            console.print(f"  {change}", markup=False)

    output.emit(doc, human)


@app.command("remove")
def remove(
    collection_sel: CollectionArg,
    yes: YesOpt = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Remove a collection and its assets (asks for --yes if it has any).

    \b
    Examples:
      apollonia collection remove Movies --yes
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _remove() -> dict[str, Any]:
        async with target.open() as catalog:
            removal = await admin.remove_collection(catalog, collection_sel, confirmed=yes)
        return {
            "status": "success",
            "mode": target.mode,
            "removed": collection_dict(removal.collection),
            "assets_removed": removal.assets_removed,
        }

    doc = run_operation(output, _remove)
    output.emit(
        doc,
        lambda c: c.print(
            f"Removed collection '{doc['removed']['name']}' "
            f"({plural(doc['assets_removed'], 'asset')})",
            markup=False,
        ),
    )


@app.command("ingest")
def ingest(
    collection_sel: CollectionArg,
    title: Annotated[
        str | None, typer.Option("--title", metavar="TITLE", help="Only this title.")
    ] = None,
    season: Annotated[
        int | None, typer.Option("--season", metavar="N", help="Only this season of --title.")
    ] = None,
    episode: Annotated[
        int | None, typer.Option("--episode", metavar="N", help="Only this episode of --season.")
    ] = None,
    dry_run: DryRunOpt = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Let an empty root mark its assets missing "
            "(normally refused: the share may be unmounted).",
        ),
    ] = False,
    hash_content: Annotated[
        bool,
        typer.Option(
            "--hash",
            help="With --dry-run: read and hash new and changed files, to compare their "
            "content and count duplicates (a dry run otherwise reads no file; a real ingest "
            "always hashes).",
        ),
    ] = False,
    enrich: EnrichOpt = False,
    full: FullOpt = False,
) -> None:
    """Ingest a collection, or one title, season or episode of it.

    \b
    Examples:
      apollonia collection ingest Movies
      apollonia collection ingest TV --title 'The Office (US)' --season 2 --dry-run
    """
    output = Output(json_out)
    if season is not None and title is None:  # B-3
        output.fail(ExitCode.VALIDATION, "Error: --season requires --title", error_code="usage")
    if episode is not None and season is None:  # B-4
        output.fail(ExitCode.VALIDATION, "Error: --episode requires --season", error_code="usage")
    for flag, value in (("--season", season), ("--episode", episode)):  # B-9
        if value is not None and value < 0:
            output.fail(
                ExitCode.VALIDATION,
                f"Error: {flag} must be a non-negative integer",
                error_code="usage",
            )
    scope = IngestScope(title=title, season=season, episode=episode)
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, test_db=test_db, dry_run=dry_run)
    context: dict[str, Any] = {"scope": scope.kind, "dry_run": dry_run, "mode": target.mode}
    context.update(
        {
            k: v
            for k, v in (("title", title), ("season", season), ("episode", episode))
            if v is not None
        }
    )

    async def _ingest() -> CollectionIngestResult:
        async with target.open() as catalog:
            found = await queries.collection_for_ingest(catalog, collection_sel)  # B-1
            collection, source = found.collection, found.source
            context.update(collection_id=collection.uuid, collection_name=collection.name)
            if json_out:  # the scope line still reaches the operator, on stderr
                output.note(scope.describe(collection.name))
            progress = progress_for(collection.name, enabled=not json_out)
            async with collection_ingestor(settings, catalog, progress) as ingestor:
                done = await ingestor.ingest(
                    collection,
                    source,
                    scope,
                    allow_empty=allow_empty,
                    hash_in_dry_run=hash_content,
                    full=full,
                )
            if enrich and not dry_run:
                enriched.extend(await enrich_after_ingest(settings, catalog, [collection.uuid]))
            return done

    enriched: list[dict[str, Any]] = []
    result = run_operation(output, _ingest, context=context)
    doc: dict[str, Any] = {
        "status": "success",
        "scope": scope.kind,
        "collection_id": result.collection.uuid,
        "collection_name": result.collection.name,
    }
    doc.update(
        {
            k: v
            for k, v in (("title", title), ("season", season), ("episode", episode))
            if v is not None
        }
    )
    doc.update(
        {
            "dry_run": dry_run,
            "mode": target.mode,
            "stats": result.stats.as_dict(),
            "last_ingest_time": iso(
                result.collection.last_ingest_time if dry_run else result.last_ingest_time
            ),
            "run_id": result.run_id,
            "duration_seconds": round(result.duration_seconds, 3),
        }
    )
    if enrich:
        doc["enrichment"] = enriched

    def human(console: Console) -> None:
        for line in ingest_lines(result):
            console.print(line, markup=False)
        if enrich:
            for line in enrichment_lines(enriched):
                console.print(line, markup=False)

    output.emit(doc, human)
