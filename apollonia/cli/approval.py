"""`apollonia asset approve | revoke | review | history`: the operator's decisions and the trail.

Thin: parse, call one function of `consumer.service_layer.approval`, render. A bulk form asks
for confirmation on a terminal; elsewhere (a script, `--json`) it needs `--yes`.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from apollonia.cli import errors
from apollonia.cli.common import CatalogTarget, JsonOpt, TestDbOpt, run_operation, settings_or_exit
from apollonia.cli.errors import plural
from apollonia.cli.output import ExitCode, Output
from apollonia.cli.render import iso
from consumer.domain.approvals import Approval
from consumer.domain.errors import OperationError
from consumer.service_layer import approval
from consumer.service_layer.unit_of_work import Catalog

IdsArg = Annotated[
    list[str] | None,
    typer.Argument(metavar="ID...", help="Asset UUIDs (or unique prefixes)."),
]
ByOpt = Annotated[
    str, typer.Option("--by", metavar="NAME", help="Who decides (written in the trail).")
]
CollectionOpt = Annotated[
    str | None,
    typer.Option(
        "--collection", metavar="COLLECTION", help="With --all-ready / --all-approved: this one."
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", help="Confirm a bulk decision without asking.")]


def approval_dict(row: Approval) -> dict[str, Any]:
    return {
        "id": row.id,
        "asset_id": row.asset_uuid,
        "action": row.action.value,
        "actor": row.actor,
        "time": iso(row.time),
        "note": row.note,
        "reason": row.reason.value if row.reason is not None else None,
        "sha256": row.sha256,
        "content_signature": row.content_signature,
        "enricher_checksum": row.enricher_checksum,
        "job_id": row.job_uuid,
        "enrichment": dict(row.enrichment),
        "enrichment_digest": row.enrichment_digest,
    }


Decide = Callable[[Catalog, bool], Awaitable[approval.Decisions]]


def _decide(output: Output, target: CatalogTarget, decide: Decide, *, yes: bool) -> dict[str, Any]:
    """Run a decision; a bulk one not confirmed by --yes is asked about on a terminal."""
    ask = not yes and not output.json_mode and sys.stdin.isatty()

    async def attempt(confirmed: bool) -> approval.Decisions | OperationError:
        async with target.open() as catalog:
            try:
                return await decide(catalog, confirmed)
            except OperationError as exc:
                if ask and exc.error_code == "confirmation_required":
                    return exc
                raise

    done = run_operation(output, lambda: attempt(yes))
    if isinstance(done, OperationError):
        question = errors.message(done).removeprefix("Error: ").split(";")[0]
        if not typer.confirm(f"{question[0].upper()}{question[1:]}. Go ahead?", default=False):
            output.fail(ExitCode.VALIDATION, "cancelled: nothing written", error_code="cancelled")
        done = run_operation(output, lambda: attempt(True))
    assert not isinstance(done, OperationError)
    return {
        "status": "success",
        "mode": target.mode,
        "action": done.action.value,
        "collection": done.collection,
        "count": len(done.rows),
        "assets": [
            {
                "id": a.uuid,
                "canonical_key": a.canonical_key,
                "state": a.state.value,
                "approved_for_broadcast": a.approved_for_broadcast,
            }
            for a in done.assets
        ],
        "approvals": [approval_dict(r) for r in done.rows],
    }


def _human(doc: dict[str, Any], verb: str) -> Callable[[Console], None]:
    def human(console: Console) -> None:
        if not doc["assets"]:
            console.print(f"Nothing to {verb.rstrip('d')}.", markup=False)
            return
        for a in doc["assets"]:
            console.print(f"{verb}: {a['canonical_key']} ({a['id']})", markup=False)
        console.print(f"{plural(doc['count'], 'asset')} {verb}.", markup=False)

    return human


def approve_command(
    by: ByOpt,
    asset_ids: IdsArg = None,
    note: Annotated[
        str | None, typer.Option("--note", metavar="TEXT", help="Why (kept in the trail).")
    ] = None,
    collection: CollectionOpt = None,
    all_ready: Annotated[
        bool, typer.Option("--all-ready", help="Every ready asset of --collection not approved.")
    ] = False,
    yes: YesOpt = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Approve assets for broadcast. Only a ready, present asset can be approved; if any given
    one cannot, nothing is approved and the reason is printed (exit 1).

    \b
    Examples:
      apollonia asset approve 3f2a9c1e 7b41d0aa --by alice --note "checked on air monitor"
      apollonia asset approve --collection Films --all-ready --by alice --yes
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def decide(catalog: Catalog, confirmed: bool) -> approval.Decisions:
        return await approval.approve(
            catalog,
            by=by,
            asset_ids=asset_ids or (),
            collection=collection,
            all_ready=all_ready,
            note=note,
            confirmed=confirmed,
        )

    doc = _decide(output, target, decide, yes=yes)
    output.emit(doc, _human(doc, "approved"))


def revoke_command(
    by: ByOpt,
    note: Annotated[
        str, typer.Option("--note", metavar="TEXT", help="Why (required; kept in the trail).")
    ],
    asset_ids: IdsArg = None,
    collection: CollectionOpt = None,
    all_approved: Annotated[
        bool, typer.Option("--all-approved", help="Every approved asset of --collection.")
    ] = False,
    yes: YesOpt = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Withdraw assets' approval for broadcast, saying why. If any given one is not approved,
    nothing is revoked (exit 1).

    \b
    Examples:
      apollonia asset revoke 3f2a9c1e --by alice --note "wrong audio track"
      apollonia asset revoke --collection Films --all-approved --by bob --note recall --yes
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def decide(catalog: Catalog, confirmed: bool) -> approval.Decisions:
        return await approval.revoke(
            catalog,
            by=by,
            note=note,
            asset_ids=asset_ids or (),
            collection=collection,
            all_approved=all_approved,
            confirmed=confirmed,
        )

    doc = _decide(output, target, decide, yes=yes)
    output.emit(doc, _human(doc, "revoked"))


def review_item_dict(item: approval.ReviewItem) -> dict[str, Any]:
    fields = dict(item.snapshot.fields)
    width, height = fields.get("width"), fields.get("height")
    return {
        "id": item.asset.uuid,
        "collection": item.collection,
        "canonical_key": item.asset.canonical_key,
        "path": item.asset.path,
        "sha256": item.asset.sha256,
        "ready_since": iso(item.ready_since),
        "summary": {
            "duration": fields.get("duration"),
            "container": fields.get("container"),
            "resolution": f"{width}x{height}" if width and height else None,
            "width": width,
            "height": height,
            "video_codec": fields.get("video_codec"),
            "audio_codecs": item.audio_codecs,
            "hdr": fields.get("hdr"),
            "audio_languages": fields.get("audio_languages") or [],
            "subtitle_languages": fields.get("subtitle_languages") or [],
        },
        "qc": {
            "passed": item.snapshot.qc_passed,
            "job_id": item.snapshot.job_uuid,
            "time": iso(item.snapshot.qc_time),
            "failures": [dict(f) for f in item.snapshot.qc_failures],
            "warnings": [dict(w) for w in item.snapshot.qc_warnings],
        },
    }


def review_command(
    collection: Annotated[
        str | None,
        typer.Option("--collection", metavar="COLLECTION", help="Only this collection's assets."),
    ] = None,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """List what waits for a decision: ready assets not approved, oldest first, with their
    technical summary and quality-control result.

    \b
    Examples:
      apollonia asset review --collection Films --json
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _review() -> dict[str, Any]:
        async with target.open() as catalog:
            items = await approval.review_queue(catalog, collection=collection)
        return {
            "status": "success",
            "mode": target.mode,
            "count": len(items),
            "assets": [review_item_dict(i) for i in items],
        }

    doc = run_operation(output, _review)

    def human(console: Console) -> None:
        if not doc["assets"]:
            console.print("Nothing waits for a decision.", markup=False)
            return
        table = Table("Ready since", "Key", "Duration", "Resolution", "Codecs", "HDR", "Audio")
        table.add_column("Subtitles")
        table.add_column("QC")
        table.add_column("ID")
        for a in doc["assets"]:
            s = a["summary"]
            codecs = "/".join([c for c in [s["video_codec"], *s["audio_codecs"]] if c])
            duration = s["duration"]
            warnings = len(a["qc"]["warnings"])
            table.add_row(
                a["ready_since"] or "",
                a["canonical_key"],
                f"{duration:.1f} s" if isinstance(duration, int | float) else "-",
                s["resolution"] or "-",
                codecs or "-",
                s["hdr"] or "-",
                ",".join(s["audio_languages"]) or "-",
                ",".join(s["subtitle_languages"]) or "-",
                ("passed" if a["qc"]["passed"] else "not passed")
                + (f" ({plural(warnings, 'warning')})" if warnings else ""),
                a["id"],
            )
        console.print(table)
        waiting = "waits" if doc["count"] == 1 else "wait"
        console.print(f"{plural(doc['count'], 'asset')} {waiting} for a decision.", markup=False)

    output.emit(doc, human)


def history_command(
    asset_id: Annotated[str, typer.Argument(metavar="ID", help="Asset UUID (or a unique prefix).")],
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Show an asset's story in time order: catalog decisions (create, update, delete, move,
    enrich), its enrichment jobs, and every approval, revocation and automatic revocation.

    \b
    Examples:
      apollonia asset history 3f2a9c1e
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _history() -> dict[str, Any]:
        async with target.open() as catalog:
            story = await approval.history(catalog, asset_id)
        a = story.asset
        return {
            "status": "success",
            "mode": target.mode,
            "asset": {
                "id": a.uuid,
                "canonical_key": a.canonical_key,
                "state": a.state.value,
                "approved_for_broadcast": a.approved_for_broadcast,
                "is_deleted": a.is_deleted,
                "sha256": a.sha256,
            },
            "entries": [e.as_dict() for e in story.entries],
            "approvals": [approval_dict(r) for r in story.approvals],
        }

    doc = run_operation(output, _history)

    def human(console: Console) -> None:
        a = doc["asset"]
        console.print(
            f"Asset {a['id']}  {a['canonical_key']}  state {a['state']}, "
            f"{'approved' if a['approved_for_broadcast'] else 'not approved'}",
            markup=False,
        )
        for e in doc["entries"]:
            who = f" by {e['actor']}" if e["actor"] else ""
            console.print(
                f"  {e['time']}  {e['kind']:<8} {e['event']:<16} {e['detail']}{who}", markup=False
            )

    output.emit(doc, human)
