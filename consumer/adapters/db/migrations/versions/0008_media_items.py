"""Media items: movies and TV seasons per collection, every asset's link to its item, and a
backfill of the link for the assets a catalog already holds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

New: the table `media_items`, the nullable column `assets.media_item_id` (ADD COLUMN, so the
assets table keeps its rows and the triggers of 0001, 0006 and 0007), an index on it, and a
covering index on `jobs (asset_uuid, queued_at, uuid, status)` for an asset's latest job. No
triggers.

The backfill reads each asset's item from what is already known of it: the editorial fields of
its latest enrichment for its current content when there is one (merged in run order, the
earliest enricher winning), else its `tech_metadata` (the folder layout). The rules are frozen
here, not imported (like 0005's): a migration must do the same thing whatever the application
code becomes; `consumer.domain.media_items` holds the living ones.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_AUDIO = frozenset(
    [
        "aac",
        "aiff",
        "alac",
        "ape",
        "dsf",
        "flac",
        "m4a",
        "m4b",
        "mp2",
        "mp3",
        "oga",
        "ogg",
        "opus",
        "wav",
        "wma",
        "wv",
    ]
)
_CHUNK = 500
FK_NAME = "fk_assets_media_item_id_media_items"


def _safe(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    return _NON_WORD.sub("-", folded).strip("-") or folded.strip()


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


Key = tuple[str, str, int | None, int | None, str]  # type, safe name, season, year, name


def _key(key: str, fields: dict[str, Any], forced: str | None, audio_only: bool) -> Key | None:
    if audio_only or forced not in (None, "movie", "episode"):
        return None
    kind = fields.get("type")
    if kind not in (None, "movie", "episode"):
        return None
    if forced is None and "." in key and key.rpartition(".")[2].lower() in _AUDIO:
        return None
    title = fields.get("title")
    if not isinstance(title, str) or not title.strip():
        return None
    title = " ".join(title.split())
    year = _int(fields.get("year"))
    if year is not None and not 1870 <= year <= 2200:
        year = None
    season = _int(fields.get("season"))
    if forced == "movie" or kind == "movie":
        return ("movie", _safe(title), None, year, title)
    if season is not None:
        return ("tv", _safe(title), season, year, title)
    if forced == "episode" or kind == "episode" or fields.get("episode") is not None:
        return None
    if fields.get("episodes"):
        return None
    return ("movie", _safe(title), None, year, title)


def _identity(kind: str, safe: str, season: int | None, year: int | None) -> str:
    return f"{kind}:{safe}:{'' if season is None else season}:{'' if year is None else year}"


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return {}
    return value or {}


def _editorial(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    """asset uuid -> the merged editorial fields of its latest job, for its current content."""
    rows = conn.execute(
        sa.text(
            "SELECT r.asset_uuid, r.job_uuid, r.fields FROM enrichment_results r "
            "JOIN assets a ON a.uuid = r.asset_uuid "
            "WHERE r.kind = 'editorial' AND r.ok AND r.content_signature = a.content_signature "
            "ORDER BY r.asset_uuid, r.id"
        )
    ).all()
    by_job: dict[str, tuple[str | None, list[dict[str, Any]]]] = {}
    for asset_uuid, job_uuid, raw in rows:
        job, produced = by_job.get(asset_uuid, (None, []))
        if job != job_uuid:  # a later job: only the latest enrichment counts
            produced = []
        produced.append(_json(raw))
        by_job[asset_uuid] = (job_uuid, produced)
    merged: dict[str, dict[str, Any]] = {}
    for asset_uuid, (_job, produced) in by_job.items():
        fields: dict[str, Any] = {}
        for one in produced:
            for name, value in one.items():
                if value is not None and name not in fields:
                    fields[name] = value
        merged[asset_uuid] = fields
    return merged


def backfill() -> None:
    conn = op.get_bind()
    collections = {
        r[0]: (r[1], bool(r[2]))
        for r in conn.execute(sa.text("SELECT uuid, media_type, audio_only FROM collections"))
    }
    editorial = _editorial(conn)
    now = datetime.now(UTC).replace(tzinfo=None)  # UTC, as the catalog stores it
    items: dict[tuple[str, str], dict[str, Any]] = {}  # (collection, identity) -> row
    links: list[dict[str, str]] = []
    for asset_uuid, collection_uuid, canonical_key, tech in conn.execute(
        sa.text("SELECT uuid, collection_uuid, canonical_key, tech_metadata FROM assets")
    ):
        forced, audio_only = collections.get(collection_uuid, (None, False))
        fields = editorial.get(asset_uuid) or _json(tech)
        key = _key(canonical_key, fields, forced, audio_only)
        if key is None:
            continue
        kind, safe, season, year, name = key
        identity = _identity(kind, safe, season, year)
        row = items.get((collection_uuid, identity))
        if row is None:
            row = {
                "uuid": str(uuid.uuid4()),
                "collection_uuid": collection_uuid,
                "media_type": kind,
                "name": name,
                "safe_name": safe,
                "season": season,
                "year": year,
                "item_key": identity,
                "created_at": now,
                "updated_at": now,
            }
            items[(collection_uuid, identity)] = row
        links.append({"item": row["uuid"], "asset": asset_uuid})
    table = sa.table(
        "media_items",
        *(
            sa.column(c)
            for c in ("uuid", "collection_uuid", "media_type", "name", "safe_name", "item_key")
        ),
        sa.column("season", sa.Integer()),
        sa.column("year", sa.Integer()),
        sa.column("created_at", sa.DateTime()),
        sa.column("updated_at", sa.DateTime()),
    )
    rows = list(items.values())
    for start in range(0, len(rows), _CHUNK):
        conn.execute(table.insert(), rows[start : start + _CHUNK])
    update = sa.text("UPDATE assets SET media_item_id = :item WHERE uuid = :asset")
    for start in range(0, len(links), _CHUNK):
        conn.execute(update, links[start : start + _CHUNK])


def _drop_link_sqlite() -> None:
    """SQLite refuses DROP COLUMN on a column with a foreign key, and a batch rebuild of
    `assets` drops the table's triggers with it: rebuild, then put the triggers back."""
    conn = op.get_bind()
    triggers = [
        sql
        for (sql,) in conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'assets'"
        )
    ]
    with op.batch_alter_table("assets") as batch_op:
        batch_op.drop_column("media_item_id")
    for sql in triggers:
        conn.exec_driver_sql(sql)


def upgrade() -> None:
    op.create_table(
        "media_items",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("collection_uuid", sa.String(length=36), nullable=False),
        sa.Column("media_type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("safe_name", sa.String(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("item_key", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("media_type IN ('movie', 'tv')", name=op.f("ck_media_items_media_type")),
        sa.CheckConstraint(
            "(media_type = 'tv') = (season IS NOT NULL)", name=op.f("ck_media_items_season_for_tv")
        ),
        sa.ForeignKeyConstraint(
            ["collection_uuid"],
            ["collections.uuid"],
            name=op.f("fk_media_items_collection_uuid_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_media_items")),
        sa.UniqueConstraint(
            "collection_uuid", "item_key", name=op.f("uq_media_items_collection_uuid_item_key")
        ),
    )
    op.create_index(
        op.f("ix_media_items_collection_uuid_safe_name"),
        "media_items",
        ["collection_uuid", "safe_name"],
        unique=False,
    )
    # ADD COLUMN, not a batch rebuild: the assets table keeps its rows and its triggers.
    # SQLite takes the foreign key only inline (it has no ALTER ... ADD CONSTRAINT).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE assets ADD COLUMN media_item_id VARCHAR(36) "
            f"CONSTRAINT {FK_NAME} REFERENCES media_items (uuid)"
        )
    else:
        op.add_column("assets", sa.Column("media_item_id", sa.String(length=36), nullable=True))
        op.create_foreign_key(FK_NAME, "assets", "media_items", ["media_item_id"], ["uuid"])
    op.create_index(op.f("ix_assets_media_item_id"), "assets", ["media_item_id"], unique=False)
    op.create_index(
        "ix_jobs_asset_latest", "jobs", ["asset_uuid", "queued_at", "uuid", "status"], unique=False
    )
    backfill()


def downgrade() -> None:
    op.drop_index("ix_jobs_asset_latest", table_name="jobs")
    op.drop_index(op.f("ix_assets_media_item_id"), table_name="assets")
    if op.get_bind().dialect.name == "sqlite":
        _drop_link_sqlite()
    else:
        op.drop_constraint(FK_NAME, "assets", type_="foreignkey")
        op.drop_column("assets", "media_item_id")
    op.drop_index(op.f("ix_media_items_collection_uuid_safe_name"), table_name="media_items")
    op.drop_table("media_items")
