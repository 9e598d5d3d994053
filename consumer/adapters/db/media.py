"""MediaRepository: media items in and out of the catalog, and their progress in one query.

The landing list of the terminal UI asks for every item with its progress: 5,000 items over
100,000 assets. That is one aggregate statement (items LEFT JOIN their assets, each asset with
its latest job, GROUP BY item with CASE counts), never a query per item.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, and_, case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from consumer.adapters.db import bulk
from consumer.adapters.db.repository import chunked
from consumer.adapters.db.tables import assets, collections, jobs, media_items, qc_results
from consumer.domain.media_items import (
    ItemAssetRow,
    ItemTally,
    MediaItem,
    MediaProgress,
    MediaType,
)

CATEGORIES = ("new", "enriching", "ready", "approved", "failed", "deleted")


def item_from_row(row: Row[Any]) -> MediaItem:
    m = row._mapping
    kind: MediaType = "tv" if m["media_type"] == "tv" else "movie"
    return MediaItem(
        id=m["uuid"],
        collection_uuid=m["collection_uuid"],
        media_type=kind,
        name=m["name"],
        safe_name=m["safe_name"],
        year=m["year"],
        season=m["season"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def item_to_row(item: MediaItem) -> dict[str, Any]:
    return {
        "uuid": item.id,
        "collection_uuid": item.collection_uuid,
        "media_type": item.media_type,
        "name": item.name,
        "safe_name": item.safe_name,
        "season": item.season,
        "year": item.year,
        "item_key": item.identity,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _latest_job(column: Any) -> Any:
    """The asset's latest job's `column` (answered from ix_jobs_asset_latest)."""
    return (
        select(column)
        .where(jobs.c.asset_uuid == assets.c.uuid)
        .order_by(jobs.c.queued_at.desc(), jobs.c.uuid.desc())
        .limit(1)
        .correlate(assets)
        .scalar_subquery()
    )


def _category(row: Any) -> ColumnElement[Any]:
    """`consumer.domain.media_items.asset_category` in SQL over one asset's row with its latest
    job's status (a test keeps the two equal)."""
    return case(
        (or_(row.c.is_deleted, row.c.state == "retired"), literal("deleted")),
        (row.c.approved, literal("approved")),
        (row.c.state == "ready", literal("ready")),
        (
            or_(
                row.c.job_status == "failed",
                and_(row.c.job_status == "completed", row.c.state == "new"),
            ),
            literal("failed"),
        ),
        (row.c.state == "enriching", literal("enriching")),
        else_=literal("new"),
    )


class MediaRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # --- items ---------------------------------------------------------------------------
    async def get(self, item_id: str) -> MediaItem | None:
        row = (
            await self._conn.execute(select(media_items).where(media_items.c.uuid == item_id))
        ).first()
        return None if row is None else item_from_row(row)

    async def find_by_id_prefix(self, prefix: str, limit: int = 2) -> list[MediaItem]:
        rows = await self._conn.execute(
            select(media_items)
            .where(media_items.c.uuid.startswith(prefix, autoescape=True))
            .limit(limit)
        )
        return [item_from_row(r) for r in rows]

    async def by_names(self, collection_uuid: str, safe_names: Iterable[str]) -> list[MediaItem]:
        """Every item of the collection with one of these safe names (all types, seasons and
        years: attaching chooses among them)."""
        wanted = sorted(set(safe_names))
        found: list[MediaItem] = []
        for chunk in chunked(wanted):
            rows = await self._conn.execute(
                select(media_items).where(
                    media_items.c.collection_uuid == collection_uuid,
                    media_items.c.safe_name.in_(chunk),
                )
            )
            found.extend(item_from_row(r) for r in rows)
        return found

    async def add_many(self, items: Sequence[MediaItem]) -> None:
        # In UNIQUE(collection, item_key) order and updates in uuid order: two consumers making
        # the same items wait for each other in one order instead of deadlocking.
        rows = sorted((item_to_row(i) for i in items), key=lambda r: str(r["item_key"]))
        await bulk.insert_many(self._conn, media_items, rows)

    async def update_many(self, items: Sequence[MediaItem]) -> None:
        rows = []
        for item in sorted(items, key=lambda i: i.id):
            row = item_to_row(item)
            del row["collection_uuid"], row["created_at"]
            rows.append(row)
        await bulk.update_many(self._conn, media_items, "uuid", rows)

    async def attach(self, item_id: str | None, asset_uuids: Sequence[str]) -> None:
        for chunk in chunked(asset_uuids):
            await self._conn.execute(
                update(assets).where(assets.c.uuid.in_(chunk)).values(media_item_id=item_id)
            )

    # --- progress ------------------------------------------------------------------------
    async def tallies(
        self,
        *,
        collection_uuid: str | None = None,
        media_type: str | None = None,
        name: str | None = None,
        item_id: str | None = None,
    ) -> list[ItemTally]:
        """Items with their progress: ONE statement, whatever the number of items."""
        # Each asset with its latest job's status, looked up once per asset and only where it
        # matters (a live asset not yet ready); MATERIALIZED keeps the planner from copying
        # the correlated lookup into every CASE below.
        undecided = and_(assets.c.state.in_(("new", "enriching")), assets.c.is_deleted.is_(False))
        per_asset = select(
            assets.c.media_item_id.label("item"),
            assets.c.state,
            assets.c.approved_for_broadcast.label("approved"),
            assets.c.is_deleted,
            assets.c.updated_at,
            case((undecided, _latest_job(jobs.c.status))).label("job_status"),
        ).where(assets.c.media_item_id.is_not(None))
        if collection_uuid is not None:
            per_asset = per_asset.where(assets.c.collection_uuid == collection_uuid)
        if item_id is not None:
            per_asset = per_asset.where(assets.c.media_item_id == item_id)
        pa = per_asset.cte("per_asset").prefix_with("MATERIALIZED")
        category = _category(pa)

        def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
            return func.sum(case((condition, 1), else_=0))

        # Counted per item first (5,000 rows), then joined to the items.
        counts = (
            select(
                pa.c.item,
                *(count(category == c).label(f"n_{c}") for c in CATEGORIES),
                count(pa.c.job_status.in_(("pending", "in_progress"))).label("open_jobs"),
                func.max(pa.c.updated_at).label("last_asset_change"),
            )
            .group_by(pa.c.item)
            .cte("counts")
        )
        query = (
            select(
                media_items,
                collections.c.name.label("collection_name"),
                *(func.coalesce(counts.c[f"n_{c}"], 0).label(f"n_{c}") for c in CATEGORIES),
                func.coalesce(counts.c.open_jobs, 0).label("open_jobs"),
                counts.c.last_asset_change,
            )
            .select_from(
                media_items.join(
                    collections, collections.c.uuid == media_items.c.collection_uuid
                ).outerjoin(counts, counts.c.item == media_items.c.uuid)
            )
            .order_by(
                media_items.c.media_type,
                media_items.c.safe_name,
                media_items.c.year,
                media_items.c.season,
            )
        )
        if collection_uuid is not None:
            query = query.where(media_items.c.collection_uuid == collection_uuid)
        if media_type is not None:
            query = query.where(media_items.c.media_type == media_type)
        if name:
            query = query.where(media_items.c.safe_name.contains(name, autoescape=True))
        if item_id is not None:
            query = query.where(media_items.c.uuid == item_id)
        tallies = []
        for row in await self._conn.execute(query):
            m = row._mapping
            tally = {c: int(m[f"n_{c}"]) for c in CATEGORIES}
            item = item_from_row(row)
            changes = [t for t in (item.updated_at, m["last_asset_change"]) if t is not None]
            tallies.append(
                ItemTally(
                    item=item,
                    collection_name=m["collection_name"],
                    progress=MediaProgress(total=sum(tally.values()) - tally["deleted"], **tally),
                    open_jobs=int(m["open_jobs"]),
                    last_change=max(changes) if changes else None,
                )
            )
        return tallies

    async def assets_of(self, item_id: str) -> list[ItemAssetRow]:
        """The item's assets with their latest job and their latest quality check."""
        rows = (
            await self._conn.execute(
                select(
                    assets.c.uuid,
                    assets.c.canonical_key,
                    assets.c.tech_metadata,
                    assets.c.state,
                    assets.c.approved_for_broadcast,
                    assets.c.is_deleted,
                    assets.c.updated_at,
                    assets.c.content_signature,
                    _latest_job(jobs.c.uuid).label("job_id"),
                    _latest_job(jobs.c.status).label("job_status"),
                )
                .where(assets.c.media_item_id == item_id)
                .order_by(assets.c.canonical_key)
            )
        ).all()
        checks: dict[str, tuple[str, bool, list[Any]]] = {}
        for chunk in chunked([r.uuid for r in rows]):
            for qc in await self._conn.execute(
                select(
                    qc_results.c.asset_uuid,
                    qc_results.c.content_signature,
                    qc_results.c.passed,
                    qc_results.c.failures,
                )
                .where(qc_results.c.asset_uuid.in_(chunk))
                .order_by(qc_results.c.id)
            ):
                checks[qc.asset_uuid] = (qc.content_signature, bool(qc.passed), qc.failures or [])
        out = []
        for r in rows:
            signature, passed, failures = checks.get(r.uuid, (None, None, []))
            current = signature == r.content_signature
            out.append(
                ItemAssetRow(
                    asset_uuid=r.uuid,
                    canonical_key=r.canonical_key,
                    tech_metadata=dict(r.tech_metadata or {}),
                    state=r.state,
                    approved=bool(r.approved_for_broadcast),
                    is_deleted=bool(r.is_deleted),
                    updated_at=r.updated_at,
                    job_id=r.job_id,
                    job_status=r.job_status,
                    qc_passed=passed if current else None,
                    qc_failures=[_failure(f) for f in failures] if current else [],
                )
            )
        return out


def _failure(entry: Any) -> str:
    if isinstance(entry, dict):
        rule, reason = entry.get("rule"), entry.get("reason")
        return f"{rule}: {reason}" if reason else str(rule)
    return str(entry)


__all__ = ["MediaRepository", "item_from_row", "item_to_row"]
