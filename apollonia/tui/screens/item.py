"""One media item: its assets (a season's episodes in order, gaps marked), each with its state,
QC result and job status. `i` ingests the item's collection, `e` enriches (or retries) the item,
`E` the highlighted asset, `a` / `v` approve / revoke the highlighted asset (confirmed, with a
note), Enter opens the asset's latest job and its logs."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from apollonia.tui import actions
from apollonia.tui.progress import bar
from apollonia.tui.screens.base import CatalogScreen, cells

if TYPE_CHECKING:
    from consumer.domain.media_items import MediaProgress
    from consumer.service_layer.collection_ingest import CollectionIngestResult
    from consumer.service_layer.enrichment_ops import EnrichRun
    from consumer.service_layer.media import MediaAsset, MediaDetail

GAP_KEY = "gap:"


def episode_words(asset: MediaAsset) -> str:
    if not asset.episodes:
        return "-"
    return "-".join(f"E{e:02d}" for e in asset.episodes)


def qc_words(asset: MediaAsset) -> str:
    if asset.qc_passed is None:
        return "-"
    if asset.qc_passed:
        return "passed"
    return "FAILED"


def progress_words(p: MediaProgress) -> str:
    """`3 files: 1 new, 2 ready` (the counts that are not zero)."""
    if p.total == 0:
        return "waiting for files"
    parts = [
        f"{n} {word}"
        for n, word in (
            (p.new, "new"),
            (p.enriching, "enriching"),
            (p.ready, "ready"),
            (p.approved, "approved"),
            (p.failed, "failed"),
        )
        if n
    ]
    files = "1 file" if p.total == 1 else f"{p.total} files"
    return f"{files}: {', '.join(parts)}"


def state_words(asset: MediaAsset) -> str:
    if asset.is_deleted:
        return "deleted"
    return "approved" if asset.approved else asset.state


class ItemScreen(CatalogScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("i", "ingest", "Ingest"),
        Binding("e", "enrich_item", "Enrich item"),
        Binding("E", "enrich_asset", "Enrich asset"),
        Binding("a", "approve", "Approve"),
        Binding("v", "revoke", "Revoke"),
    ]
    COLUMNS = ("Ep", "File", "State", "QC", "Job")

    def __init__(self, item_id: str) -> None:
        super().__init__()
        self.item_id = item_id
        self.detail: MediaDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading...", id="meta", classes="meta", markup=False)
        yield DataTable(id="assets", cursor_type="row", zebra_stripes=True)
        yield Static("", id="asset", classes="meta", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*self.COLUMNS)

    async def load(self) -> None:
        self.detail = await self.call(lambda c: actions.media_item(c, self.item_id))
        self.show(self.detail)

    def show(self, detail: MediaDetail) -> None:
        s = detail.summary
        p = s.progress
        head = Text(f"{s.item.label}  ({s.item.media_type}, collection {s.collection_name})\n")
        head.append_text(bar(p.fraction_done, width=20, failed=p.failed > 0))
        head.append(f"  {progress_words(p)}")
        if detail.gaps:
            head.append("\nMissing: " + ", ".join(f"E{e:02d}" for e in detail.gaps), style="red")
        self.query_one("#meta", Static).update(head)
        table = self.query_one(DataTable)
        current = self.current_key()
        table.clear()
        rows: list[tuple[int, int, MediaAsset | int]] = []
        for asset in detail.assets:
            first = asset.episodes[0] if asset.episodes else 10**6
            rows.append((first, 0, asset))
        for gap in detail.gaps:
            rows.append((gap, 1, gap))
        rows.sort(key=lambda r: (r[0], r[1], getattr(r[2], "canonical_key", "")))
        for _, _, entry in rows:
            if isinstance(entry, int):
                table.add_row(
                    Text(f"E{entry:02d}", style="red"),
                    Text("(missing)", style="red italic"),
                    "",
                    "",
                    "",
                    key=f"{GAP_KEY}{entry}",
                )
                continue
            table.add_row(
                *cells(
                    episode_words(entry),
                    entry.canonical_key.rpartition("/")[2],
                    state_words(entry),
                    qc_words(entry),
                    entry.job_status or "-",
                ),
                key=entry.asset_id,
            )
        if current is not None and current in table.rows:
            table.move_cursor(row=table.get_row_index(current))
        self.describe(self.current_asset())

    def current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.describe(self.current_asset())

    def describe(self, asset: MediaAsset | None) -> None:
        """The highlighted asset in full: its key, id, title, QC reasons and job."""
        if asset is None:
            self.query_one("#asset", Static).update("")
            return
        lines = [asset.canonical_key, f"Asset {asset.asset_id}"]
        if asset.episode_title:
            lines[0] += f"  ({asset.episode_title})"
        lines += [f"QC failed: {reason}" for reason in asset.qc_failures]
        if asset.job_id is not None:
            lines.append(f"Job {asset.job_id[:8]}: {asset.job_status} (Enter: its logs)")
        self.query_one("#asset", Static).update("\n".join(lines))

    def current_asset(self) -> MediaAsset | None:
        key = self.current_key()
        if self.detail is None or key is None:
            return None
        return next((a for a in self.detail.assets if a.asset_id == key), None)

    # --- actions -----------------------------------------------------------------------
    def action_ingest(self) -> None:
        if self.detail is None:
            return
        collection = self.detail.summary.item.collection_uuid
        settings = self.apollonia.backend.settings
        self.notify("Ingesting the collection...")

        def done(result: CollectionIngestResult) -> None:
            st = result.stats
            self.notify(
                f"Ingest of '{result.collection.name}': {st.assets_discovered} discovered, "
                f"{st.assets_ingested} new, {st.assets_updated} updated, "
                f"{st.assets_missing} missing, {st.errors_total} errors (run log: u)"
            )

        self.act(lambda c: actions.ingest_collection(c, settings, collection), done)

    def _enrich(self, *, asset: str | None) -> None:
        if self.detail is None:
            return
        settings = self.apollonia.backend.settings
        if asset is None:
            ids = [a.asset_id for a in self.detail.assets if not a.is_deleted]
            self.act(lambda c: actions.enrich_assets(c, settings, ids), self._enriched)
        else:
            self.act(lambda c: actions.enrich(c, settings, asset=asset), self._enriched)
        self.notify("Enriching...")

    def _enriched(self, run: EnrichRun) -> None:
        ready = sum(1 for o in run.outcomes if o.outcome == "ready")
        self.notify(f"Enrichment: {ready} of {len(run.outcomes)} ready")

    def action_enrich_item(self) -> None:
        self._enrich(asset=None)

    def action_enrich_asset(self) -> None:
        asset = self.current_asset()
        if asset is not None:
            self._enrich(asset=asset.asset_id)

    def _decide(self, verb: str) -> None:
        asset = self.current_asset()
        if asset is None:
            return
        ids = [asset.asset_id]

        def send(actor: str, note: str) -> None:
            said = f"{asset.canonical_key}: {verb}d by {actor}"
            if verb == "approve":
                self.act(
                    lambda c: actions.approve(c, ids, by=actor, note=note),
                    lambda _: self.notify(said),
                )
            else:
                self.act(
                    lambda c: actions.revoke(c, ids, by=actor, note=note),
                    lambda _: self.notify(said),
                )

        def with_actor(actor: str) -> None:
            self.apollonia.confirm(
                verb,
                f"'{asset.canonical_key}'",
                actor,
                note_required=verb == "revoke",
                then=lambda note: send(actor, note),
            )

        self.apollonia.with_actor(with_actor)

    def action_approve(self) -> None:
        self._decide("approve")

    def action_revoke(self) -> None:
        self._decide("revoke")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        asset = self.current_asset()
        if asset is None:
            return
        if asset.job_id is None:
            self.notify("No job for this asset yet.")
            return
        from apollonia.tui.screens.jobs import JobScreen  # noqa: PLC0415

        self.app.push_screen(JobScreen(asset.job_id))
