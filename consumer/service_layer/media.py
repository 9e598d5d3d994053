"""Media items for operators: list them with their progress, show one, add a wanted one.

`list_media` is the terminal UI's landing list and `apollonia media list`: one aggregate query
for every item, whatever their number. `show_media` adds the item's assets (in episode order for
a season) with their episodes and the gaps between them. `add_media` creates a *wanted* item
before any file exists; ingest attaches files to it when they arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from consumer.domain.errors import OperationError
from consumer.domain.media_items import (
    MEDIA_TYPES,
    RECENT_CHANGE,
    ItemAssetRow,
    ItemTally,
    MediaItem,
    MediaProgress,
    episode_gaps,
    episode_order,
    is_active,
    new_item,
    requested_key,
    resolve,
    safe_name,
)
from consumer.domain.names import episode_list
from consumer.service_layer.admin import resolve_collection
from consumer.service_layer.unit_of_work import Catalog, UnitOfWork

__all__ = [
    "MediaAsset",
    "MediaDetail",
    "MediaItem",
    "MediaProgress",
    "MediaSummary",
    "add_media",
    "list_media",
    "show_media",
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MediaSummary:
    item: MediaItem
    collection_name: str
    progress: MediaProgress
    active: bool
    last_change: datetime | None
    open_jobs: int = 0  # assets whose latest job is pending or running


@dataclass(frozen=True, slots=True)
class MediaAsset:
    asset_id: str
    canonical_key: str
    episodes: list[int]
    episode_title: str | None
    state: str
    approved: bool
    is_deleted: bool
    qc_passed: bool | None  # None: no quality check of its current content yet
    qc_failures: list[str]
    job_id: str | None  # its latest job
    job_status: str | None


@dataclass(frozen=True, slots=True)
class MediaDetail:
    summary: MediaSummary
    assets: list[MediaAsset] = field(default_factory=list)
    episodes: list[int] = field(default_factory=list)  # of live assets, ascending, once each
    gaps: list[int] = field(default_factory=list)

    @property
    def item(self) -> MediaItem:
        return self.summary.item


def _summary(tally: ItemTally, now: datetime, recent: timedelta) -> MediaSummary:
    return MediaSummary(
        item=tally.item,
        collection_name=tally.collection_name,
        progress=tally.progress,
        active=is_active(
            tally.progress,
            open_jobs=tally.open_jobs,
            last_change=tally.last_change,
            now=now,
            recent=recent,
        ),
        last_change=tally.last_change,
        open_jobs=tally.open_jobs,
    )


def _check_type(media_type: str | None) -> None:
    if media_type is not None and media_type not in MEDIA_TYPES:
        raise OperationError(
            "invalid_argument", case="media_item_type", value=media_type, known=list(MEDIA_TYPES)
        )


async def list_media(
    catalog: Catalog,
    *,
    collection: str | None = None,
    active_only: bool = True,
    media_type: str | None = None,
    name: str | None = None,
    item_id: str | None = None,
    now: datetime | None = None,
    recent: timedelta = RECENT_CHANGE,
) -> list[MediaSummary]:
    """Items with their progress, by type then name; with `active_only` only those not yet
    all approved, with a job pending, running or failed, or changed within `recent`. `name`
    keeps the items whose safe name contains its safe name (`fire` finds Firefly)."""
    _check_type(media_type)
    now = now or _utcnow()
    async with catalog.unit_of_work(read_only=True) as uow:
        collection_uuid = None
        if collection is not None:
            collection_uuid = (await resolve_collection(uow, collection)).uuid
        tallies = await uow.media.tallies(
            collection_uuid=collection_uuid,
            media_type=media_type,
            name=safe_name(name) if name else None,
            item_id=item_id,
        )
    summaries = [_summary(t, now, recent) for t in tallies]
    return [s for s in summaries if s.active] if active_only else summaries


async def _find_item(uow: UnitOfWork, item_id: str) -> MediaItem:
    item = await uow.media.get(item_id)
    if item is not None:
        return item
    matches = await uow.media.find_by_id_prefix(item_id) if item_id else []
    if len(matches) > 1:
        raise OperationError("ambiguous_media_id", prefix=item_id)
    if not matches:
        raise OperationError("media_not_found", item_id=item_id)
    return matches[0]


def episodes_of(row: ItemAssetRow) -> list[int]:
    """Every episode a file holds: a multi-episode name (`S01E01E02`) gives them all."""
    filename = row.canonical_key.rpartition("/")[2]
    _season, numbers = episode_list(filename)
    if numbers:
        return sorted(set(numbers))
    episode = row.tech_metadata.get("episode")
    return [episode] if isinstance(episode, int) else []


def _media_asset(row: ItemAssetRow, episodes: list[int]) -> MediaAsset:
    title = row.tech_metadata.get("episode_title")
    return MediaAsset(
        asset_id=row.asset_uuid,
        canonical_key=row.canonical_key,
        episodes=episodes,
        episode_title=title if isinstance(title, str) else None,
        state=row.state,
        approved=row.approved,
        is_deleted=row.is_deleted,
        qc_passed=row.qc_passed,
        qc_failures=row.qc_failures,
        job_id=row.job_id,
        job_status=row.job_status,
    )


async def show_media(
    catalog: Catalog,
    item_id: str,
    *,
    now: datetime | None = None,
    recent: timedelta = RECENT_CHANGE,
) -> MediaDetail:
    """One item (by id or unique id prefix) with its assets; a season's in episode order,
    with the episode numbers present and the gaps between them."""
    now = now or _utcnow()
    async with catalog.unit_of_work(read_only=True) as uow:
        item = await _find_item(uow, item_id)
        tallies = await uow.media.tallies(item_id=item.id)
        rows = await uow.media.assets_of(item.id)
    summary = _summary(tallies[0], now, recent)
    with_episodes = [(row, episodes_of(row) if item.media_type == "tv" else []) for row in rows]
    if item.media_type == "tv":
        with_episodes.sort(key=lambda pair: episode_order(pair[1], pair[0].canonical_key))
    assets = [_media_asset(row, episodes) for row, episodes in with_episodes]
    present = sorted({n for a in assets if not a.is_deleted for n in a.episodes})
    return MediaDetail(
        summary=summary,
        assets=assets,
        episodes=present,
        gaps=episode_gaps(present) if item.media_type == "tv" else [],
    )


async def add_media(
    catalog: Catalog,
    *,
    collection: str,
    media_type: str,
    name: str,
    year: int | None = None,
    season: int | None = None,
    now: datetime | None = None,
) -> MediaItem:
    """A wanted item: created now, waiting for its files (ingest attaches them by the same key).
    Refused: an unknown collection, a collection that has no items (commercials, music), an
    item that exists already, a TV item without a season, a movie with one, a bad year."""
    key = requested_key(media_type, name, year=year, season=season)
    now = now or _utcnow()
    async with catalog.unit_of_work(label="media add") as uow:
        target = await resolve_collection(uow, collection)
        if target.audio_only or target.media_type not in (None, "movie", "episode"):
            raise OperationError(
                "media_not_for_collection",
                collection=target.name,
                kind="audio-only" if target.audio_only else str(target.media_type),
            )
        forced = {"movie": "movie", "episode": "tv"}.get(str(target.media_type))
        if forced is not None and forced != key.media_type:
            raise OperationError(
                "media_type_mismatch",
                collection=target.name,
                collection_type=target.media_type,
                media_type=key.media_type,
            )
        existing = resolve(key, await uow.media.by_names(target.uuid, [key.safe_name]))
        if existing is not None and (key.year is None or existing.year == key.year):
            raise OperationError(
                "media_exists",
                collection=target.name,
                item=existing.label,
                item_id=existing.id,
            )
        item = new_item(target.uuid, key, now)
        await uow.media.add_many([item])
        await uow.commit()
    return item


def summary_dict(summary: MediaSummary) -> dict[str, Any]:
    """A summary as JSON-ready data (the CLI's and the TUI's one shape)."""
    item = summary.item
    return {
        "id": item.id,
        "collection": summary.collection_name,
        "collection_id": item.collection_uuid,
        "type": item.media_type,
        "name": item.name,
        "safe_name": item.safe_name,
        "year": item.year,
        "season": item.season,
        "label": item.label,
        "progress": summary.progress.as_dict(),
        "open_jobs": summary.open_jobs,
        "active": summary.active,
        "last_change": summary.last_change.isoformat() if summary.last_change else None,
        "created_at": item.created_at.isoformat(),
    }


def detail_dict(detail: MediaDetail) -> dict[str, Any]:
    doc = summary_dict(detail.summary)
    doc["episodes"] = detail.episodes
    doc["gaps"] = detail.gaps
    doc["assets"] = [
        {
            "id": a.asset_id,
            "canonical_key": a.canonical_key,
            "episodes": a.episodes,
            "episode_title": a.episode_title,
            "state": a.state,
            "approved": a.approved,
            "is_deleted": a.is_deleted,
            "qc_passed": a.qc_passed,
            "qc_failures": a.qc_failures,
            "job_id": a.job_id,
            "job_status": a.job_status,
        }
        for a in detail.assets
    ]
    return doc
