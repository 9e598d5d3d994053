"""`apollonia dlq ...`: the dead-letter queue."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from apollonia.cli.common import JsonOpt, run_operation, settings_or_exit
from apollonia.cli.errors import plural
from apollonia.cli.output import ExitCode, Output
from consumer.adapters.amqp.deadletters import DeadLetter, DeadLetterQueue

app = typer.Typer(help="Dead letters: messages the catalog could not apply.", no_args_is_help=True)


@app.command("list")
def list_dead(
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", min=1, help="Show at most this many.")
    ] = 100,
    json_out: JsonOpt = False,
) -> None:
    """Show each dead message's reason, event id, path and time; they stay in the queue.

    \b
    Examples:
      apollonia dlq list --limit 20
    """
    output = Output(json_out)
    settings = settings_or_exit(output)

    async def _list() -> dict[str, Any]:
        async with DeadLetterQueue(settings.amqp_url, settings.topology()) as dlq:
            total = await dlq.count()
            letters = await dlq.peek(limit)
        return {
            "status": "success",
            "queue": settings.topology().dead_queue,
            "total": total,
            "shown": len(letters),
            "messages": [d.as_dict() for d in letters],
        }

    doc = run_operation(output, _list)

    def human(console: Console) -> None:
        console.print(f"{doc['queue']}: {doc['total']} dead messages", markup=False)
        if not doc["messages"]:
            return
        table = Table("Time", "Event id", "Path", "Reason")
        for m in doc["messages"]:
            table.add_row(m["dead_at"] or "-", m["event_id"] or "-", m["path"] or "-", m["reason"])
        console.print(table)
        if doc["total"] > doc["shown"]:
            console.print(f"(first {doc['shown']}; use --limit for more)", markup=False)

    output.emit(doc, human)


@app.command("requeue")
def requeue(
    all_: Annotated[bool, typer.Option("--all", help="Requeue every dead message.")] = False,
    event_ids: Annotated[
        list[str] | None,
        typer.Option("--event-id", metavar="ID", help="Requeue this event (repeatable)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Send dead messages back to the catalog queue (only there) once their cause is fixed.

    \b
    Examples:
      apollonia dlq requeue --event-id 0b7c...e1
      apollonia dlq requeue --all
    """
    output = Output(json_out)
    if all_ == bool(event_ids):
        output.fail(
            ExitCode.VALIDATION, "give either --all or one or more --event-id", error_code="usage"
        )
    settings = settings_or_exit(output)
    wanted = set(event_ids or [])

    def select(letter: DeadLetter) -> bool:
        return all_ or letter.event_id in wanted

    async def _requeue() -> dict[str, Any]:
        async with DeadLetterQueue(settings.amqp_url, settings.topology()) as dlq:
            moved, kept = await dlq.requeue(select)
        found = {m.event_id for m in moved}
        return {
            "status": "success",
            "queue": settings.topology().catalog_queue,
            "requeued": len(moved),
            "left": kept,
            "event_ids": [m.event_id for m in moved],
            "not_found": sorted(wanted - found),
        }

    doc = run_operation(output, _requeue)

    def human(console: Console) -> None:
        console.print(
            f"Requeued {doc['requeued']} to {doc['queue']}; {doc['left']} left in the "
            "dead-letter queue",
            markup=False,
        )
        for missing in doc["not_found"]:
            console.print(f"  not in the dead-letter queue: {missing}", markup=False)

    output.emit(doc, human)
    if doc["not_found"] and not doc["requeued"]:
        raise typer.Exit(ExitCode.VALIDATION)


@app.command("purge")
def purge(
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the messages are lost.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Delete every dead message (asks for --yes).

    \b
    Examples:
      apollonia dlq purge --yes
    """
    output = Output(json_out)
    if not yes:
        output.fail(
            ExitCode.VALIDATION,
            "purging deletes every dead message for good; re-run with --yes",
            error_code="confirmation_required",
        )
    settings = settings_or_exit(output)

    async def _purge() -> dict[str, Any]:
        async with DeadLetterQueue(settings.amqp_url, settings.topology()) as dlq:
            purged = await dlq.purge()
        return {"status": "success", "queue": settings.topology().dead_queue, "purged": purged}

    doc = run_operation(output, _purge)
    output.emit(
        doc,
        lambda c: c.print(
            f"Purged {plural(doc['purged'], 'message')} from {doc['queue']}", markup=False
        ),
    )
