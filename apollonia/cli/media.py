"""`apollonia media ...`: movies and TV seasons with their progress, one item's files, and
wanted items created before their files exist."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from apollonia.cli.common import CatalogTarget, JsonOpt, TestDbOpt, run_operation, settings_or_exit
from apollonia.cli.errors import plural
from apollonia.cli.output import Output
from consumer.service_layer import media

app = typer.Typer(
    help="Media items: movies and TV seasons, their progress, and wanted items.",
    no_args_is_help=True,
)

TypeOpt = Annotated[
    str | None,
    typer.Option("--type", metavar="TYPE", help="movie or tv (a TV item is one season)."),
]


def progress_words(progress: dict[str, Any]) -> str:
    """`waiting for files`, `2 of 10 approved; 3 ready, 1 failed`."""
    if progress["waiting_for_files"]:
        words = "waiting for files"
        if progress["deleted"]:
            words += f" ({plural(progress['deleted'], 'file')} gone)"
        return words
    head = f"{progress['approved']} of {progress['total']} approved"
    rest = [
        f"{progress[name]} {name}"
        for name in ("ready", "enriching", "new", "failed")
        if progress[name]
    ]
    if progress["deleted"]:
        rest.append(f"{progress['deleted']} gone")
    return head + (f"; {', '.join(rest)}" if rest else "")


@app.command("list")
def list_command(
    collection: Annotated[
        str | None,
        typer.Option("--collection", metavar="COLLECTION", help="Only this collection's items."),
    ] = None,
    active: Annotated[
        bool,
        typer.Option(
            "--active/--all",
            help="Only active items (not all approved, a job pending, running or failed, or "
            "changed in the last 24 hours; the default), or every item.",
        ),
    ] = True,
    media_type: TypeOpt = None,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="TEXT", help="Only items whose name contains TEXT."),
    ] = None,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """List media items with their progress, by type then name.

    \b
    Examples:
      apollonia media list
      apollonia media list --all --type tv --collection Shows
      apollonia media list --name firefly --json
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _list() -> list[dict[str, Any]]:
        async with target.open() as catalog:
            found = await media.list_media(
                catalog,
                collection=collection,
                active_only=active,
                media_type=media_type,
                name=name,
            )
        return [media.summary_dict(s) for s in found]

    items = run_operation(output, _list)

    def human(console: Console) -> None:
        if not items:
            console.print("No active media items." if active else "No media items.", markup=False)
            return
        table = Table("ID", "Collection", "Type", "Item", "Progress")
        for item in items:
            table.add_row(
                item["id"][:8],
                item["collection"],
                item["type"],
                item["label"],
                progress_words(item["progress"]),
            )
        console.print(table)

    output.emit(
        {"status": "success", "mode": target.mode, "active_only": active, "items": items}, human
    )


@app.command("show")
def show_command(
    item_id: Annotated[
        str, typer.Argument(metavar="ITEM_ID", help="Media item UUID or unique prefix.")
    ],
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Show a media item: its progress, its files (a season's by episode) and missing episodes.

    \b
    Examples:
      apollonia media show 3f2a9c
      apollonia media show 3f2a9c --json
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _show() -> dict[str, Any]:
        async with target.open() as catalog:
            detail = await media.show_media(catalog, item_id)
        return media.detail_dict(detail)

    item = run_operation(output, _show)

    def human(console: Console) -> None:
        console.print(f"{item['label']} ({item['type']}, {item['collection']})", markup=False)
        console.print(f"  id: {item['id']}", markup=False)
        console.print(f"  progress: {progress_words(item['progress'])}", markup=False)
        if item["type"] == "tv":
            episodes = ", ".join(str(n) for n in item["episodes"]) or "-"
            console.print(f"  episodes: {episodes}", markup=False)
            if item["gaps"]:
                missing = ", ".join(str(n) for n in item["gaps"])
                console.print(f"  missing episodes: {missing}", markup=False)
        if not item["assets"]:
            console.print("  no files yet: ingest attaches them when they arrive", markup=False)
            return
        table = Table("Episode", "State", "QC", "Job", "File")
        for asset in item["assets"]:
            state = "deleted" if asset["is_deleted"] else asset["state"]
            if asset["approved"]:
                state = "approved"
            qc = {True: "passed", False: "failed", None: "-"}[asset["qc_passed"]]
            table.add_row(
                ", ".join(str(n) for n in asset["episodes"]) or "-",
                state,
                qc,
                asset["job_status"] or "-",
                asset["canonical_key"],
            )
        console.print(table)

    output.emit({"status": "success", "mode": target.mode, "item": item}, human)


@app.command("add")
def add_command(
    collection: Annotated[
        str,
        typer.Option("--collection", metavar="COLLECTION", help="The collection it belongs to."),
    ],
    media_type: Annotated[
        str, typer.Option("--type", metavar="TYPE", help="movie or tv (a TV item is one season).")
    ],
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="The movie's title or the show's name.")
    ],
    year: Annotated[
        int | None,
        typer.Option("--year", metavar="YEAR", help="The year (films of one name differ by it)."),
    ] = None,
    season: Annotated[
        int | None,
        typer.Option("--season", metavar="N", help="The season number (TV only; 0 = specials)."),
    ] = None,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Add a wanted media item before its files exist; ingest attaches them when they arrive.

    \b
    Examples:
      apollonia media add --collection Shows --type tv --name Firefly --season 1
      apollonia media add --collection Films --type movie --name Alien --year 1979
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _add() -> dict[str, Any]:
        async with target.open() as catalog:
            item = await media.add_media(
                catalog,
                collection=collection,
                media_type=media_type,
                name=name,
                year=year,
                season=season,
            )
            (summary,) = await media.list_media(catalog, active_only=False, item_id=item.id)
        return media.summary_dict(summary)

    item = run_operation(output, _add)

    def human(console: Console) -> None:
        console.print(
            f"Added {item['label']} to {item['collection']} ({item['id']}): waiting for files",
            markup=False,
        )

    output.emit({"status": "success", "mode": target.mode, "item": item}, human)
