"""`apollonia source ...`: sources of media, their collections, and source-wide ingest."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from apollonia.bootstrap import collection_ingestor
from apollonia.cli import errors
from apollonia.cli.collection import EnrichOpt, FullOpt
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
    iso,
    key_values,
    source_dict,
    sources_table,
    stats_lines,
    with_errors,
)
from consumer.adapters.importers.filesystem import FilesystemImporter
from consumer.adapters.importers.registry import default_importers
from consumer.domain.catalog import Source
from consumer.service_layer import admin, queries
from consumer.service_layer.collection_ingest import utcnow
from consumer.service_layer.source_ingest import (
    NARROWING_REFUSED,
    SourceIngestor,
    SourceIngestResult,
)

app = typer.Typer(help="Sources: where media comes from.", no_args_is_help=True)

SourceArg = Annotated[
    str, typer.Argument(metavar="SOURCE", help="Source UUID, external id or name.")
]
YesOpt = Annotated[bool, typer.Option("--yes", help="Confirm a destructive change.")]


UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url", metavar="URL", help="plex, jellyfin: the server's address (http://HOST:PORT)."
    ),
]
TokenFileOpt = Annotated[
    str | None,
    typer.Option(
        "--token-file",
        metavar="PATH",
        help="plex, jellyfin: a file holding the Plex token or Jellyfin API key, read "
        "each time the server is asked (the catalog keeps only this path).",
    ),
]
TokenEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--token-env",
        metavar="VAR",
        help="plex, jellyfin: an environment variable holding the token or API key, "
        "read each time the server is asked (the catalog keeps only its name).",
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="plex, jellyfin: how long to wait for an answer (default 10).",
    ),
]


@app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="Unique name of the source.")],
    source_type: Annotated[
        str,
        typer.Option("--type", metavar="TYPE", help="Source type: filesystem, plex or jellyfin."),
    ],
    path: Annotated[
        str | None,
        typer.Option(
            "--path",
            metavar="DIR",
            help="Root folder of the source (a folder; one not mounted yet is kept, "
            "not ingestible).",
        ),
    ] = None,
    mappings: Annotated[
        list[str] | None,
        typer.Option(
            "--path-mapping",
            metavar="FROM=TO",
            help="A path prefix as reported elsewhere (a media server's path), and as this "
            "host sees it; the longest matching prefix wins. Repeatable.",
        ),
    ] = None,
    external_id: Annotated[
        str | None,
        typer.Option(
            "--external-id",
            metavar="ID",
            help="The id another system knows it by; accepted wherever a name is.",
        ),
    ] = None,
    url: UrlOpt = None,
    token_file: TokenFileOpt = None,
    token_env: TokenEnvOpt = None,
    timeout: TimeoutOpt = None,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Add a source: a folder tree, or a Plex or Jellyfin server.

    \b
    Examples:
      apollonia source add --type filesystem --name Media --path /mnt/media
      apollonia source add --type filesystem --name NAS --path /nas --path-mapping /data=/nas
      apollonia source add --type plex --name home --url http://plex:32400 \\
          --token-file /run/secrets/plex_token --path-mapping /data/movies=/mnt/movies
      apollonia source add --type jellyfin --name jf --url http://jellyfin:8096 \\
          --token-env JELLYFIN_API_KEY --path-mapping /media=/mnt/media
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _add() -> dict[str, Any]:
        async with target.open() as catalog:
            source = await admin.create_source(
                catalog,
                name=name,
                source_type=source_type,
                root_path=path,
                mappings=mappings or [],
                external_id=external_id,
                now=utcnow(),
                server=admin.ServerOptions(
                    url=url, token_file=token_file, token_env=token_env, timeout=timeout
                ),
            )
        return root_report(
            {"status": "success", "mode": target.mode, "source": source_dict(source)}, source
        )

    doc = run_operation(output, _add)
    output.emit(
        doc,
        lambda c: c.print(
            f"Added source '{doc['source']['name']}' ({doc['source']['id']})", markup=False
        ),
    )
    if "warning" in doc:
        output.note(doc["warning"])


def server_lines(src: dict[str, Any]) -> list[tuple[str, Any]]:
    """A media server's address and where its secret is read from (never the secret)."""
    server = src.get("server")
    if not server:
        return []
    secret = server["secret"]
    where = (
        f"read from the file {secret['path']}"
        if secret["from"] == "file"
        else f"read from the environment variable {secret['variable']}"
    )
    return [
        ("server", server["url"]),
        ("token", where),
        ("timeout", f"{server['timeout_seconds']:g} s"),
    ]


def root_report(doc: dict[str, Any], source: Source) -> dict[str, Any]:
    """`ingestible` (and a `warning` when not) for a source whose root may not exist yet."""
    ingestible = source.root_path is None or admin.source_root_exists(source.root_path)
    doc["ingestible"] = ingestible
    if not ingestible:
        doc["warning"] = errors.warning(
            "source_root_missing", path=source.root_path, source=source.name, source_id=source.uuid
        )
    return doc


@app.command("list")
def list_sources(test_db: TestDbOpt = False, json_out: JsonOpt = False) -> None:
    """List sources.

    \b
    Examples:
      apollonia source list --json
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _list() -> list[dict[str, Any]]:
        async with target.open() as catalog:
            rows = await queries.list_sources(catalog)
        return [source_dict(r.source, r.collections) for r in rows]

    rows = run_operation(output, _list)
    output.emit(
        {"status": "success", "mode": target.mode, "sources": rows},
        lambda c: sources_table(c, rows),
    )


@app.command("show")
def show(source_sel: SourceArg, test_db: TestDbOpt = False, json_out: JsonOpt = False) -> None:
    """Show a source and its collections.

    \b
    Examples:
      apollonia source show Media
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _show() -> dict[str, Any]:
        async with target.open() as catalog:
            detail = await queries.show_source(catalog, source_sel)
        counts = detail.asset_counts
        doc = source_dict(detail.source, len(detail.collections))
        doc["collection_list"] = [
            collection_dict(c, counts.get(c.uuid, 0)) for c in detail.collections
        ]
        return {"status": "success", "mode": target.mode, "source": doc}

    doc = run_operation(output, _show)

    def human(console: Console) -> None:
        src = doc["source"]
        mappings = ", ".join(f"{m['from']}={m['to']}" for m in src["path_mappings"]) or "none"
        key_values(
            console,
            f"Source '{src['name']}'",
            [
                ("id", src["id"]),
                ("external id", src["external_id"] or "-"),
                ("type", src["type"]),
                ("root", src["root_path"] or "-"),
                *server_lines(src),
                ("path mappings", mappings),
                ("collections", src["collections"]),
            ],
        )
        for col in src["collection_list"]:
            console.print(
                f"  - {col['name']} ({col['id']}) sync={col['sync_enabled']} "
                f"ingestible={col['ingestible']} assets={col['assets']}",
                markup=False,
            )

    output.emit(doc, human)


@app.command("update")
def update(
    source_sel: SourceArg,
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="Rename it (names are unique).")
    ] = None,
    path: Annotated[
        str | None,
        typer.Option(
            "--path",
            metavar="DIR",
            help="New root folder (a folder; one not mounted yet is kept, not ingestible).",
        ),
    ] = None,
    mappings: Annotated[
        list[str] | None,
        typer.Option(
            "--path-mapping",
            metavar="FROM=TO",
            help="Add a path mapping (after --clear-path-mappings if both). Repeatable.",
        ),
    ] = None,
    clear_mappings: Annotated[
        bool, typer.Option("--clear-path-mappings", help="Remove every path mapping.")
    ] = False,
    url: UrlOpt = None,
    token_file: TokenFileOpt = None,
    token_env: TokenEnvOpt = None,
    timeout: TimeoutOpt = None,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Rename a source, change its root, its path mappings, or a media server's address, secret
    or timeout.

    \b
    Examples:
      apollonia source update Media --path /mnt/media2
      apollonia source update NAS --clear-path-mappings --path-mapping /share=/mnt/nas
      apollonia source update home --url https://plex.lan:32400 --token-env PLEX_TOKEN
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _update() -> dict[str, Any]:
        async with target.open() as catalog:
            source = await admin.change_source(
                catalog,
                source_sel,
                name=name,
                root_path=path,
                mappings=mappings,
                clear_mappings=clear_mappings,
                now=utcnow(),
                server=admin.ServerOptions(
                    url=url, token_file=token_file, token_env=token_env, timeout=timeout
                ),
            )
        return root_report(
            {"status": "success", "mode": target.mode, "source": source_dict(source)}, source
        )

    doc = run_operation(output, _update)
    output.emit(doc, lambda c: c.print(f"Updated source '{doc['source']['name']}'", markup=False))
    if "warning" in doc:
        output.note(doc["warning"])


@app.command("remove")
def remove(
    source_sel: SourceArg,
    yes: YesOpt = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Remove a source with its collections and their assets (asks for --yes if any).

    \b
    Examples:
      apollonia source remove Media --yes
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _remove() -> dict[str, Any]:
        async with target.open() as catalog:
            removal = await admin.remove_source(catalog, source_sel, confirmed=yes)
        return {
            "status": "success",
            "mode": target.mode,
            "removed": source_dict(removal.source),
            "collections_removed": removal.collections_removed,
            "assets_removed": removal.assets_removed,
        }

    doc = run_operation(output, _remove)
    output.emit(
        doc,
        lambda c: c.print(
            f"Removed source '{doc['removed']['name']}' "
            f"({plural(doc['collections_removed'], 'collection')}, "
            f"{plural(doc['assets_removed'], 'asset')})",
            markup=False,
        ),
    )


@app.command("discover")
def discover(
    source_sel: SourceArg,
    dry_run: DryRunOpt = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Create one collection per top-level folder of the source root, or per movie and TV
    library of a Plex or Jellyfin server (sync disabled).

    \b
    Examples:
      apollonia source discover Media --dry-run
      apollonia source discover home --json
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, test_db=test_db, dry_run=dry_run)

    async def _discover() -> dict[str, Any]:
        importer_for = default_importers(settings.media_extensions)
        lister = FilesystemImporter(settings.media_extensions).top_level_folders
        async with target.open() as catalog:
            result = await admin.discover(catalog, source_sel, importer_for, lister, now=utcnow())
        return {
            "status": "success",
            "mode": target.mode,
            "dry_run": dry_run,
            "source": source_dict(result.source),
            "created": [collection_dict(c) for c in result.created],
            "existing": [collection_dict(c) for c in result.existing],
        }

    doc = run_operation(output, _discover)

    def human(console: Console) -> None:
        verb = "Would create" if dry_run else "Created"
        console.print(f"Discovering collections of source '{doc['source']['name']}'", markup=False)
        for col in doc["created"]:
            library = f" library {col['external_id']}" if doc["source"].get("server") else ""
            console.print(
                f"  {verb} '{col['name']}'{library} ({col['root_path']}) "
                f"ingestible={col['ingestible']} sync=disabled",
                markup=False,
            )
        for col in doc["existing"]:
            console.print(f"  Exists  '{col['name']}' ({col['root_path']})", markup=False)
        console.print(
            f"{len(doc['created'])} new, {len(doc['existing'])} already known", markup=False
        )

    output.emit(doc, human)


@app.command("ingest")
def ingest(
    source_sel: SourceArg,
    dry_run: DryRunOpt = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Let an empty collection root mark its "
            "assets missing (normally refused: the share may be unmounted).",
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
    title: Annotated[str | None, typer.Option("--title", metavar="TITLE", hidden=True)] = None,
    season: Annotated[str | None, typer.Option("--season", metavar="N", hidden=True)] = None,
    episode: Annotated[str | None, typer.Option("--episode", metavar="N", hidden=True)] = None,
    enrich: EnrichOpt = False,
    full: FullOpt = False,
) -> None:
    """Ingest every sync-enabled, ingestible collection of a source, each in its own transaction.

    \b
    Examples:
      apollonia source ingest Media
      apollonia source ingest Media --dry-run --json
      apollonia source ingest home --full
    """
    output = Output(json_out)
    if title is not None or season is not None or episode is not None:  # B-3/B-4
        output.fail(ExitCode.VALIDATION, NARROWING_REFUSED, error_code="narrowing_not_allowed")
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, test_db=test_db, dry_run=dry_run)
    context: dict[str, Any] = {"dry_run": dry_run, "mode": target.mode}

    async def _ingest() -> tuple[dict[str, Any], SourceIngestResult]:
        async with target.open() as catalog:
            found = await queries.source_for_ingest(catalog, source_sel)
            source, collections = found.source, found.collections
            context["source"] = {"id": source.uuid, "name": source.name, "type": source.type}
            progress = progress_for(f"source {source.name}", enabled=not json_out)
            async with collection_ingestor(settings, catalog, progress) as ingestor:
                result = await SourceIngestor(ingestor).ingest(
                    source,
                    collections,
                    allow_empty=allow_empty,
                    hash_in_dry_run=hash_content,
                    full=full,
                )
            enriched = (
                await enrich_after_ingest(
                    settings, catalog, [o.collection.uuid for o in result.succeeded]
                )
                if enrich and not dry_run
                else []
            )
        totals = result.totals()
        collection_results = [SourceIngestor.outcome_dict(o) for o in result.outcomes]
        for entry, outcome in zip(collection_results, result.outcomes, strict=True):
            if dry_run:
                entry["last_ingest_time"] = iso(outcome.collection.last_ingest_time)
            else:
                entry["last_ingest_time"] = iso(entry["last_ingest_time"])
        doc = {
            "status": result.status,
            "source": context["source"],
            "dry_run": dry_run,
            "mode": target.mode,
            "collections_processed": len(result.outcomes),
            "collections_succeeded": len(result.succeeded),
            "collections_failed": len(result.failed),
            "total_created_assets": totals["assets_ingested"],
            "total_updated_assets": totals["assets_updated"],
            "total_skipped_assets": totals["assets_skipped"],
            "total_missing_assets": totals["assets_missing"],
            "total_duplicates": totals["duplicates"],
            "total_errors": totals["errors_total"],
            "collection_results": collection_results,
            "skipped_collections": [
                {"collection_id": c.uuid, "collection_name": c.name, "reason": reason}
                for c, reason in result.skipped
            ],
            "errors": [
                {
                    "collection_id": o.collection.uuid,
                    "collection_name": o.collection.name,
                    "code": o.failure.error_code,
                    "message": errors.message(o.failure),
                }
                for o in result.failed
                if o.failure is not None
            ],
            "summary": SourceIngestor.summary(result),
        }
        if enrich:
            doc["enrichment"] = enriched
        return doc, result

    doc, result = run_operation(output, _ingest, context=context)

    def human(console: Console) -> None:
        src = doc["source"]
        console.print(
            f"Ingesting source '{src['name']}' ({src['type']}): "
            f"{doc['collections_processed']} eligible collections"
            + (" (dry run: nothing will be written)" if dry_run else ""),
            markup=False,
        )
        for outcome in result.outcomes:
            name = outcome.collection.name
            if outcome.result is not None:
                console.print(f"Collection '{name}': success", markup=False)
                for line in stats_lines(outcome.result.stats, dry_run=dry_run):
                    console.print(line, markup=False)
            elif outcome.failure is not None:
                console.print(
                    f"Collection '{name}': failed: {errors.message(outcome.failure)}",
                    markup=False,
                )
        for skipped in doc["skipped_collections"]:
            console.print(
                f"Skipped '{skipped['collection_name']}': {skipped['reason']}", markup=False
            )
        duplicates = doc["total_duplicates"]
        console.print(
            f"Totals: {doc['total_created_assets']} created, {doc['total_updated_assets']} "
            f"updated, {doc['total_skipped_assets']} skipped, {doc['total_missing_assets']} "
            "missing, "
            + (
                "duplicate candidates unknown without --hash"
                if duplicates is None
                else f"{duplicates} duplicate candidates"
            ),
            markup=False,
        )
        status = {"ok": "Success", "partial": "Partial Success", "error": "Error"}[doc["status"]]
        if result.item_errors:
            console.print(
                with_errors(f"{doc['summary']} — {status}", result.item_errors), markup=False
            )
        else:
            console.print(f"{doc['summary']} — {status}", markup=False)
        if enrich:
            for line in enrichment_lines(doc["enrichment"]):
                console.print(line, markup=False)

    output.emit(doc, human)
    if result.exit_code:
        if not json_out:
            output.note(
                f"Error: {len(doc['errors'])} of "
                f"{plural(doc['collections_processed'], 'collection')} failed"
            )
        raise typer.Exit(result.exit_code)
