"""The review queue: everything `ready` that waits for a decision, oldest first, with its
technical summary and QC result. One key each: `a` approve, `n` approve with a note, `v` revoke
(what this session approved), `s` skip. The actor's name is asked once per session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from apollonia.tui import actions
from apollonia.tui.screens.base import CatalogScreen, cells
from apollonia.tui.screens.jobs import short_when
from consumer.service_layer.approval import ReviewItem


def duration_words(value: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    seconds = int(value)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def summary(fields: Mapping[str, Any], audio_codecs: list[str]) -> list[str]:
    """Duration, resolution, codecs, HDR, audio and subtitle languages."""
    width, height = fields.get("width"), fields.get("height")
    codecs = "/".join(c for c in [fields.get("video_codec"), *audio_codecs] if c)
    return [
        duration_words(fields.get("duration")),
        f"{width}x{height}" if width and height else "-",
        codecs or "-",
        str(fields.get("hdr") or "-"),
        ",".join(fields.get("audio_languages") or []) or "-",
        ",".join(fields.get("subtitle_languages") or []) or "-",
    ]


def qc_words(item: ReviewItem) -> str:
    snap = item.snapshot
    if snap.qc_passed is None:
        return "-"
    words = "passed" if snap.qc_passed else "FAILED"
    if snap.qc_warnings:
        words += f" ({len(snap.qc_warnings)} warn)"
    return words


class ReviewScreen(CatalogScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "approve", "Approve"),
        Binding("n", "approve_noted", "Approve+note"),
        Binding("v", "revoke", "Revoke"),
        Binding("s", "skip", "Skip"),
    ]
    # The file last: at 80 columns the summary and the decision stay in view; the highlighted
    # asset is described in full below the table.
    COLUMNS = ("Ready", "Dur", "Res", "Codecs", "HDR", "QC", "Decision", "File")

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, ReviewItem] = {}
        # What this session decided, kept on screen (the queue itself drops approved assets).
        self.decided: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Review", id="title", classes="title")
        yield DataTable(id="review", cursor_type="row", zebra_stripes=True)
        yield Static("", id="asset", classes="meta", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*self.COLUMNS)

    async def load(self) -> None:
        queue = await self.call(actions.review)
        self.show(queue)

    def show(self, queue: list[ReviewItem]) -> None:
        table = self.query_one(DataTable)
        current = self.current_id()
        fresh = {i.asset.uuid: i for i in queue}
        # Decided rows stay where they were; new arrivals join in queue order.
        kept = {k: v for k, v in self.items.items() if k in self.decided and k not in fresh}
        self.items = {**kept, **fresh}
        ordered = sorted(self.items.values(), key=lambda i: (i.ready_since, i.asset.canonical_key))
        table.clear()
        for item in ordered:
            table.add_row(*cells(*self.row(item)), key=item.asset.uuid)
        waiting = len(fresh)
        self.query_one("#title", Static).update(
            f"Review: {waiting} waiting for a decision, oldest first"
            + (f"  ({len(self.decided)} decided this session)" if self.decided else "")
        )
        if current in self.items:
            table.move_cursor(row=table.get_row_index(current))
        self.describe()

    def row(self, item: ReviewItem) -> list[str]:
        duration, resolution, codecs, hdr, _, _ = summary(item.snapshot.fields, item.audio_codecs)
        decided = self.decided.get(item.asset.uuid, "")
        return [
            short_when(item.ready_since),
            duration,
            resolution,
            codecs,
            hdr,
            qc_words(item),
            decided.split(" by ")[0],
            item.asset.canonical_key.rpartition("/")[2],
        ]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.describe()

    def describe(self) -> None:
        """The highlighted asset: key, collection, languages, QC details, the decision."""
        asset_id = self.current_id()
        item = self.items.get(asset_id) if asset_id is not None else None
        text = ""
        if item is not None:
            *_, audio, subtitles = summary(item.snapshot.fields, item.audio_codecs)
            lines = [
                f"{item.asset.canonical_key}  ({item.collection})",
                f"Audio {audio}, subtitles {subtitles}",
            ]
            snap = item.snapshot
            lines += [f"QC failed: {f.get('reason') or dict(f)}" for f in snap.qc_failures]
            lines += [f"QC warning: {w.get('reason') or dict(w)}" for w in snap.qc_warnings]
            if item.asset.uuid in self.decided:
                lines.append(self.decided[item.asset.uuid].capitalize())
            text = "\n".join(lines)
        self.query_one("#asset", Static).update(text)

    def current_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def next_row(self) -> None:
        table = self.query_one(DataTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_skip(self) -> None:
        self.next_row()

    def action_approve(self) -> None:
        self._decide("approve", with_note=False)

    def action_approve_noted(self) -> None:
        self._decide("approve", with_note=True)

    def action_revoke(self) -> None:
        self._decide("revoke", with_note=True)

    def _decide(self, verb: str, *, with_note: bool) -> None:
        asset_id = self.current_id()
        if asset_id is None:
            return
        item = self.items[asset_id]

        def with_actor(actor: str) -> None:
            if not with_note:
                self._send(verb, item, actor, "")
                return
            self.apollonia.confirm(
                verb,
                f"'{item.asset.canonical_key}'",
                actor,
                note_required=verb == "revoke",
                then=lambda note: self._send(verb, item, actor, note),
            )

        self.apollonia.with_actor(with_actor)

    def _send(self, verb: str, item: ReviewItem, actor: str, note: str) -> None:
        """Move on at once (the operator need not wait); the row says what became of it."""
        self.next_row()
        self._decided(verb, item.asset.uuid, actor, note)

    @work(group="action")
    async def _decided(self, verb: str, asset_id: str, actor: str, note: str) -> None:
        ids = [asset_id]
        try:
            if verb == "approve":
                await self.call(lambda c: actions.approve(c, ids, by=actor, note=note))
            else:
                await self.call(lambda c: actions.revoke(c, ids, by=actor, note=note))
        except Exception as exc:
            self.fail(exc)
        else:
            past = "approved" if verb == "approve" else "revoked"
            self.decided[asset_id] = f"{past} by {actor}"
        self.reload()
