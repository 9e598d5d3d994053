"""`apollonia replay`: re-apply the event log to the catalog."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from apollonia.cli.common import CatalogTarget, DryRunOpt, JsonOpt, run_operation, settings_or_exit
from apollonia.cli.errors import plural
from apollonia.cli.output import Output
from apollonia.cli.render import iso
from consumer.entrypoints.replay import Replayer, ReplayStats, parse_from, parse_until
from consumer.service_layer import queries

RUNBOOK = "docs/operations.md#replay-and-disaster-recovery"


def replay_hint(unmatched: int, collections: int) -> str | None:
    """What to do when events matched no collection (the exit code stays 0: nothing failed)."""
    if not unmatched:
        return None
    events = plural(unmatched, "event")
    if not collections:
        return (
            f"No collection matched: the catalog has no collections, so none of the {events} "
            "could be applied. Recreate the sources and collections with the roots they had, "
            f"then replay again (see 'Rebuilding a lost catalog' in {RUNBOOK})."
        )
    return (
        f"{events} matched no collection: their paths are under no collection root. Add the "
        f"collections they belong to, then replay again (see {RUNBOOK})."
    )


def replay_command(
    start: Annotated[
        str,
        typer.Option(
            "--from", metavar="OFFSET|TIME", help="first | last | an offset | an ISO-8601 time."
        ),
    ] = "first",
    until: Annotated[
        str | None,
        typer.Option(
            "--until", metavar="TIME", help="Only events observed up to this ISO-8601 time."
        ),
    ] = None,
    collection_sel: Annotated[
        str | None,
        typer.Option("--collection", metavar="COLLECTION", help="Only events of this collection."),
    ] = None,
    idle_timeout: Annotated[
        float,
        typer.Option(
            "--idle-timeout",
            metavar="SECONDS",
            min=0.1,
            help="Stop once no event has arrived for this many seconds.",
        ),
    ] = 3.0,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Read the `<exchange>.events` stream and apply every event through the same path the
    consumer uses. Safe to repeat: what the catalog already reflects is skipped.

    \b
    Examples:
      apollonia replay --from first
      apollonia replay --from 2026-05-01T00:00:00Z --collection Movies --dry-run
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    target = CatalogTarget(settings, dry_run=dry_run)
    context: dict[str, Any] = {"from": start, "until": until, "dry_run": dry_run}

    def progress(stats: ReplayStats) -> None:
        output.note(
            f"replayed {plural(stats.read, 'event')} (offset {stats.last_offset}): "
            f"{stats.applied} applied, {stats.unchanged} unchanged, {stats.stale} stale"
        )

    async def _replay() -> dict[str, Any]:
        origin = parse_from(start)
        end = parse_until(until) if until else None
        async with target.open() as catalog:
            collection = None
            if collection_sel is not None:
                collection = await queries.find_collection(catalog, collection_sel)
            replayer = Replayer(
                catalog,
                settings.amqp_url,
                settings.topology(),
                settings.media_extensions,
                start=origin,
                until=end,
                collection=collection,
                idle_timeout=idle_timeout,
                progress=progress if not json_out else None,
                max_message_bytes=settings.max_message_bytes,
            )
            stats = await replayer.run()
            collections = len(await queries.list_collections(catalog))
        hint = replay_hint(stats.unmatched, collections)
        return {
            "status": "success",
            "stream": settings.topology().stream,
            "from": start,
            "until": iso(end),
            "collection": collection.name if collection else None,
            "dry_run": dry_run,
            "mode": target.mode,
            "stats": stats.as_dict(),
            **({"hint": hint} if hint else {}),
        }

    doc = run_operation(output, _replay, context=context)

    def human(console: Console) -> None:
        st = doc["stats"]
        verb = "Would apply" if dry_run else "Applied"
        console.print(
            f"Replayed {plural(st['read'], 'event')} from {doc['stream']} (offsets "
            f"{st['first_offset']}..{st['last_offset']})",
            markup=False,
        )
        console.print(
            f"  {verb}: {st['applied']} ({st['created']} created, {st['updated']} "
            f"updated, {st['deleted']} deleted, {st['moved']} moved)",
            markup=False,
        )
        console.print(
            f"  Unchanged: {st['unchanged']}  Stale: {st['stale']}  Unmatched: "
            f"{st['unmatched']}  Ignored: {st['ignored']}  Invalid: {st['invalid']}",
            markup=False,
        )
        if doc["collection"]:
            console.print(f"  Other collections: {st['other_collection']}", markup=False)
        if st["outside_window"]:
            console.print(f"  Outside --from/--until: {st['outside_window']}", markup=False)
        if "hint" in doc:
            console.print(doc["hint"], markup=False)

    output.emit(doc, human)
