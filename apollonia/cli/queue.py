"""`apollonia queue stats`: how full the queues are, and how fast they move."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from apollonia.cli.common import JsonOpt, run_operation, settings_or_exit
from apollonia.cli.output import Output, to_json
from apollonia.queues import QueueStats, sample_amqp, sample_management
from apollonia.settings import Settings

app = typer.Typer(help="Queues: depth, consumers and rates.", no_args_is_help=True)

SAMPLE_GAP = 1.0  # seconds between the two samples rates are derived from without the API


async def _sample(
    settings: Settings, previous: dict[str, QueueStats] | None, gap: float
) -> dict[str, QueueStats]:
    topology = settings.topology()
    if settings.rabbitmq_api_url:
        return await sample_management(settings.rabbitmq_api_url, settings.amqp_url, topology)
    first = previous or await sample_amqp(settings.amqp_url, topology)
    if previous is None:
        await asyncio.sleep(gap)
    second = await sample_amqp(settings.amqp_url, topology)
    for name, stats in second.items():
        before = first.get(name)
        if before is not None and before.messages is not None and stats.messages is not None:
            stats.net_rate = round((stats.messages - before.messages) / gap, 2)
    return second


def _document(stats: dict[str, QueueStats], source: str) -> dict[str, Any]:
    return {
        "status": "success",
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "source": source,
        "queues": [s.as_dict() for s in stats.values()],
    }


def _human(console: Console, doc: dict[str, Any]) -> None:
    table = Table(
        "Queue",
        "Role",
        "Ready",
        "Unacked",
        "Consumers",
        "Publish/s",
        "Ack/s",
        "Net/s",
        title=f"{doc['time']} ({doc['source']})",
    )
    for q in doc["queues"]:

        def show(v: Any) -> str:
            return "-" if v is None else str(v)

        table.add_row(
            q["queue"],
            q["role"],
            show(q["messages"]),
            show(q["unacked"]),
            show(q["consumers"]),
            show(q["publish_rate"]),
            show(q["ack_rate"]),
            show(q["net_rate"]),
        )
    console.print(table)


@app.command("stats")
def stats(
    watch: Annotated[
        float | None,
        typer.Option(
            "--watch",
            metavar="SECONDS",
            min=0.5,
            help="Repeat every SECONDS until Ctrl-C (with --json, one JSON document per line).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Messages ready and consumers of the catalog queue, the dead queue and the stream; with
    APOLLONIA_RABBITMQ_API_URL also unacked counts and publish/ack rates, otherwise the net rate
    from two samples.

    \b
    Examples:
      apollonia queue stats
      apollonia queue stats --watch 5
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    source = "management-api" if settings.rabbitmq_api_url else "amqp"

    if watch is None:
        sampled = run_operation(output, lambda: _sample(settings, None, SAMPLE_GAP))
        doc = _document(sampled, source)
        output.emit(doc, lambda c: _human(c, doc))
        return

    async def _watch() -> None:
        previous: dict[str, QueueStats] | None = None
        while True:
            started = time.monotonic()
            current = await _sample(settings, previous, watch if previous else SAMPLE_GAP)
            doc = _document(current, source)
            if json_out:
                sys.stdout.write(to_json(doc).replace("\n", "") + "\n")
                sys.stdout.flush()
            else:
                _human(output.out, doc)
            previous = current
            await asyncio.sleep(max(0.0, watch - (time.monotonic() - started)))

    try:
        run_operation(output, _watch)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
