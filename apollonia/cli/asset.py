"""`apollonia asset ...` (what the catalog holds) and `apollonia ingest-file PATH`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from apollonia.cli import approval
from apollonia.cli.common import (
    CatalogTarget,
    JsonOpt,
    TestDbOpt,
    run_operation,
    settings_or_exit,
)

# `ingest-file` (rewritten separately) still raises failures it words itself.
from apollonia.cli.output import ExitCode, Output
from apollonia.cli.render import iso
from consumer.domain.approvals import EnrichmentSnapshot
from consumer.domain.assets import Asset
from consumer.domain.lifecycle import AssetState
from consumer.service_layer import queries

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


def qc_dict(snapshot: EnrichmentSnapshot) -> dict[str, Any]:
    return {
        "passed": snapshot.qc_passed,
        "time": iso(snapshot.qc_time),
        "job_id": snapshot.job_uuid,
        "failures": [dict(f) for f in snapshot.qc_failures],
        "warnings": [dict(w) for w in snapshot.qc_warnings],
    }


def approval_dict(detail: queries.AssetDetail) -> dict[str, Any]:
    """`approved`, `waiting` (ready, undecided) or `not ready`, and the trail's last row."""
    asset, last = detail.asset, detail.last_decision
    if asset.approved_for_broadcast:
        state = "approved"
    elif asset.state is AssetState.READY and not asset.is_deleted:
        state = "waiting for a decision"
    else:
        state = "not ready"
    return {
        "state": state,
        "last": None
        if last is None
        else {
            "action": last.action.value,
            "actor": last.actor,
            "time": iso(last.time),
            "note": last.note,
            "reason": last.reason.value if last.reason is not None else None,
        },
    }


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)


@app.command("list")
def list_assets(
    collection_sel: Annotated[
        str | None,
        typer.Option("--collection", metavar="COLLECTION", help="Only this collection's assets."),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option("--state", metavar="STATE", help="new | enriching | ready | retired"),
    ] = None,
    qc_failed: Annotated[
        bool,
        typer.Option("--qc-failed", help="Only assets whose last quality control failed."),
    ] = False,
    qc_rule: Annotated[
        str | None,
        typer.Option(
            "--qc-rule",
            metavar="RULE",
            help="Only assets whose last quality control failed on this rule"
            " (probe, duration, video_stream, audio_stream, tail_decodes).",
        ),
    ] = None,
    codec: Annotated[
        str | None,
        typer.Option("--codec", metavar="CODEC", help="Only assets with this video codec (h264)."),
    ] = None,
    min_height: Annotated[
        int | None,
        typer.Option(
            "--min-height", metavar="N", min=1, help="Only assets at least N pixels high."
        ),
    ] = None,
    include_deleted: Annotated[
        bool, typer.Option("--include-deleted", help="Also list soft-deleted assets.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", min=1, help="At most this many.")
    ] = 1000,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """List assets, optionally of one collection, in one lifecycle state, failing quality
    control, or by video codec and height.

    \b
    Examples:
      apollonia asset list --collection Movies --state new
      apollonia asset list --qc-failed --json
      apollonia asset list --qc-rule tail_decodes --collection Movies
      apollonia asset list --codec hevc --min-height 2160
      apollonia asset list --include-deleted --limit 50 --json
    """
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
                include_deleted=include_deleted,
                limit=limit,
                where=queries.AssetFilter(
                    state=state,
                    qc_failed=qc_failed,
                    qc_rule=qc_rule,
                    video_codec=codec,
                    min_height=min_height,
                ),
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
    """Show an asset: every field, its neighbours, and its decision history with reasons.

    \b
    Examples:
      apollonia asset show 3f2a9c1e
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _show() -> dict[str, Any]:
        async with target.open() as catalog:
            detail = await queries.show_asset(catalog, asset_id)
        doc = asset_dict(detail.asset, full=True)
        doc["collection_name"] = detail.collection_name
        doc["technical"] = dict(detail.enrichment.fields)
        doc["qc"] = qc_dict(detail.enrichment)
        doc["enrichers"] = [
            {
                "id": o.enricher_id,
                "version": o.version,
                "kind": o.kind,
                "ok": o.ok,
                "reason": o.reason,
                "tool": o.tool,
                "tool_version": o.tool_version,
                "time": iso(o.time),
            }
            for o in detail.enrichers
        ]
        doc["approval"] = approval_dict(detail)
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
        console.print("  technical:", markup=False)
        for key, value in a["technical"].items():
            console.print(f"    {key:<22}{_plain(value)}", markup=False)
        qc = a["qc"]
        if qc["passed"] is None:
            console.print("  qc:                     not run yet", markup=False)
        else:
            verdict = "passed" if qc["passed"] else "FAILED"
            console.print(f"  qc:                     {verdict} ({qc['time']})", markup=False)
            for failure in qc["failures"]:
                console.print(f"    {failure['rule']}: {failure['reason']}", markup=False)
            for warning in qc["warnings"]:
                console.print(f"    warning {warning['rule']}: {warning['reason']}", markup=False)
        console.print("  enrichers:", markup=False)
        for e in a["enrichers"] or [None]:
            if e is None:
                console.print("    (none run)", markup=False)
                continue
            outcome = "ok" if e["ok"] else f"failed: {e['reason']}"
            tool = f"  [{e['tool']} {e['tool_version']}]" if e["tool"] else ""
            console.print(f"    {e['id']} {e['version']}  {outcome}{tool}", markup=False)
        approval_ = a["approval"]
        console.print(
            f"  approval:               {approval_['state']}"
            + (
                f" (last: {approval_['last']['action']} by {approval_['last']['actor']}"
                f" at {approval_['last']['time']})"
                if approval_["last"]
                else ""
            ),
            markup=False,
        )
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
    collection_sel: Annotated[
        str | None,
        typer.Argument(
            metavar="COLLECTION",
            help="Collection UUID, external id or name; with --all, only the contents it holds.",
            show_default=False,
        ),
    ] = None,
    everywhere: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Across every collection: the same content under different collections too.",
        ),
    ] = False,
    test_db: TestDbOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """List duplicate candidates: live assets with the same content under different keys. They
    are never merged automatically.

    \b
    Examples:
      apollonia asset duplicates Movies
    """
    output = Output(json_out)
    target = CatalogTarget(settings_or_exit(output), test_db=test_db)

    async def _dups() -> dict[str, Any]:
        async with target.open() as catalog:
            report = await queries.duplicates(catalog, collection_sel, everywhere=everywhere)
        groups = report.groups
        if report.everywhere:
            return _duplicates_everywhere(target.mode, report)
        assert report.collection is not None
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
        if doc.get("scope") == "all":
            where = (
                "All collections"
                if doc["collection_name"] is None
                else f"Collection '{doc['collection_name']}' and copies elsewhere"
            )
        else:
            where = f"Collection '{doc['collection_name']}'"
        console.print(
            f"{where}: {doc['duplicates']} duplicate candidates in {doc['groups']} groups",
            markup=False,
        )
        for group in doc["candidates"]:
            console.print(f"  sha256 {group['sha256']}", markup=False)
            for a in group["assets"]:
                place = f"[{a['collection_name']}] " if "collection_name" in a else ""
                console.print(f"    {place}{a['canonical_key']}  ({a['id']})", markup=False)

    output.emit(doc, human)


def _duplicates_everywhere(mode: str, report: queries.DuplicateReport) -> dict[str, Any]:
    """The --all document: each asset says which collection holds it."""
    names = report.collection_names
    return {
        "status": "success",
        "mode": mode,
        "scope": "all",
        "collection_id": report.collection.uuid if report.collection else None,
        "collection_name": report.collection.name if report.collection else None,
        "groups": len(report.groups),
        "duplicates": report.duplicates,
        "candidates": [
            {
                "sha256": sha,
                "collections": len({a.collection_uuid for a in members}),
                "assets": [
                    {
                        "id": a.uuid,
                        "collection_id": a.collection_uuid,
                        "collection_name": names.get(a.collection_uuid),
                        "canonical_key": a.canonical_key,
                        "size": a.size,
                    }
                    for a in members
                ],
            }
            for sha, members in report.groups.items()
        ],
    }


# The operator's decisions and the trail (apollonia/cli/approval.py).
app.command("approve")(approval.approve_command)
app.command("revoke")(approval.revoke_command)
app.command("review")(approval.review_command)
app.command("history")(approval.history_command)
