"""The catalog schema (SQLAlchemy Core). Alembic migrations create it; this is the reference the
repositories query and the migration tests compare against."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.types import BigInteger, TypeEngine

from consumer.adapters.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Sizes and nanosecond times: SQLite's INTEGER is 64 bits, PostgreSQL's is 32.
BIG_INTEGER: TypeEngine[int] = Integer().with_variant(BigInteger(), "postgresql")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ASSET_STATES = ("new", "enriching", "ready", "retired")
HASH_MODES = ("full", "stat")
RUN_STATUSES = ("running", "success", "error")
JOB_STAGES = ("enrich",)
JOB_STATUSES = ("pending", "in_progress", "completed", "failed")
APPROVAL_ACTIONS = ("approve", "revoke", "auto_revoke")
REVOCATION_REASONS = ("content_changed", "enrichers_changed", "file_deleted", "qc_failed")
MEDIA_ITEM_TYPES = ("movie", "tv")

sources = Table(
    "sources",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("external_id", String, nullable=True, unique=True),
    Column("name", String(collation="NOCASE"), nullable=False, unique=True),
    Column("type", String, nullable=False),
    Column("root_path", String, nullable=True),
    Column("path_mappings", JSON, nullable=False, server_default=text("'[]'")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Migration 0009: a media server's URL, timeout and where its secret comes from (never the
    # secret itself).
    Column("server", JSON, nullable=True),
)

collections = Table(
    "collections",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column(
        "source_uuid",
        String(36),
        ForeignKey("sources.uuid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("external_id", String, nullable=True, unique=True),
    Column("name", String(collation="NOCASE"), nullable=False),
    Column("root_path", String, nullable=False),
    Column("sync_enabled", Boolean, nullable=False, server_default=false()),
    Column("ingestible", Boolean, nullable=False, server_default=false()),
    Column("enrichers", JSON, nullable=False, server_default=text("'[]'")),
    Column("hash_mode", String, nullable=False, server_default=text("'full'")),
    Column("last_ingest_time", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Migration 0006: enrichment options.
    Column("auto_enrich", Boolean, nullable=False, server_default=true()),
    Column("media_type", String, nullable=True),  # forced: movie, episode or other
    Column("audio_only", Boolean, nullable=False, server_default=false()),
    # Migration 0009: what a media-server importer keeps between ingests.
    Column("importer_state", JSON, nullable=False, server_default=text("'{}'")),
    UniqueConstraint("source_uuid", "name"),
    CheckConstraint(f"hash_mode IN {HASH_MODES!r}", name="hash_mode"),
)

assets = Table(
    "assets",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column(
        "collection_uuid",
        String(36),
        ForeignKey("collections.uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("canonical_key", String, nullable=False),
    Column("path", String, nullable=False),
    Column("size", BIG_INTEGER, nullable=False),
    Column("mtime_ns", BIG_INTEGER, nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("xxh128", String(32), nullable=True),
    Column("content_signature", String, nullable=False),
    Column("enricher_checksum", String(64), nullable=False),
    Column("state", String, nullable=False, server_default=text("'new'")),
    Column("approved_for_broadcast", Boolean, nullable=False, server_default=false()),
    Column("is_deleted", Boolean, nullable=False, server_default=false()),
    Column("deleted_at", UTCDateTime, nullable=True),
    Column("tech_metadata", JSON, nullable=False, server_default=text("'{}'")),
    Column("neighbors", JSON, nullable=False, server_default=text("'[]'")),
    Column("last_event_at", UTCDateTime, nullable=True),
    Column("discovered_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Migration 0006: what enrichment found, promoted to columns people filter on.
    Column("duration", Float, nullable=True),
    Column("container", String, nullable=True),
    Column("video_codec", String, nullable=True),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("hdr", String, nullable=True),
    Column("audio_languages", JSON, nullable=True),
    Column("subtitle_languages", JSON, nullable=True),
    Column("qc_failed_rules", JSON, nullable=True),
    # Migration 0008: the media item (movie, TV season) the asset belongs to.
    Column(
        "media_item_id",
        String(36),
        ForeignKey("media_items.uuid"),
        nullable=True,
        index=True,
    ),
    UniqueConstraint("collection_uuid", "canonical_key"),
    CheckConstraint(f"state IN {ASSET_STATES!r}", name="state"),
    CheckConstraint(
        "NOT approved_for_broadcast OR state = 'ready'", name="approved_requires_ready"
    ),
    CheckConstraint("NOT (approved_for_broadcast AND is_deleted)", name="deleted_not_approved"),
    CheckConstraint("size >= 0", name="size_non_negative"),
    Index(None, "collection_uuid", "sha256", "is_deleted"),
    # Answers the rescan query from the index alone (migration 0002).
    Index(
        "ix_assets_rescan",
        "collection_uuid",
        "canonical_key",
        "size",
        "mtime_ns",
        "is_deleted",
        "enricher_checksum",
    ),
)

# Migration 0008: movies and TV seasons, per collection (seed 002's media_items). `item_key` is
# the identity (type, safe name, season, year) in one NOT NULL column, so UNIQUE holds for
# movies too (a NULL season would make every movie distinct).
media_items = Table(
    "media_items",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column(
        "collection_uuid",
        String(36),
        ForeignKey("collections.uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("media_type", String, nullable=False),
    Column("name", String, nullable=False),
    Column("safe_name", String, nullable=False),
    Column("season", Integer, nullable=True),
    Column("year", Integer, nullable=True),
    Column("item_key", String, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("collection_uuid", "item_key"),
    CheckConstraint(f"media_type IN {MEDIA_ITEM_TYPES!r}", name="media_type"),
    CheckConstraint("(media_type = 'tv') = (season IS NOT NULL)", name="season_for_tv"),
    # Attaching looks items up by name within a collection.
    Index(None, "collection_uuid", "safe_name"),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("kind", String, nullable=False),
    Column("source_uuid", String(36), nullable=True),
    Column("collection_uuid", String(36), nullable=True, index=True),
    Column("scope", JSON, nullable=False, server_default=text("'{}'")),
    Column("status", String, nullable=False),
    Column("dry_run", Boolean, nullable=False, server_default=false()),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("stats", JSON, nullable=False, server_default=text("'{}'")),
    Column("error", Text, nullable=True),
    CheckConstraint(f"status IN {RUN_STATUSES!r}", name="status"),
)

run_logs = Table(
    "run_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "run_uuid",
        String(36),
        ForeignKey("ingest_runs.uuid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("time", UTCDateTime, nullable=False),
    Column("level", String, nullable=False),
    Column("message", Text, nullable=False),
    Column("asset_uuid", String(36), nullable=True),
)

asset_history = Table(
    "asset_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Indexed by UNIQUE(asset_uuid, event_id) below (migration 0003 dropped its own index).
    Column(
        "asset_uuid",
        String(36),
        ForeignKey("assets.uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("run_uuid", String(36), nullable=True),
    Column("event_id", String(36), nullable=True),
    Column("decision", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("time", UTCDateTime, nullable=False),
    UniqueConstraint("asset_uuid", "event_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column(
        "asset_uuid",
        String(36),
        ForeignKey("assets.uuid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("stage", String, nullable=False, server_default=text("'enrich'")),
    Column("status", String, nullable=False, server_default=text("'pending'")),
    Column("attempt", Integer, nullable=False, server_default=text("1")),
    Column("worker_id", String, nullable=True),
    Column("pid", Integer, nullable=True),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("error", Text, nullable=True),
    # What the job was queued for: a result for other content is discarded.
    Column("content_signature", String, nullable=False),
    Column("enricher_checksum", String(64), nullable=False),
    CheckConstraint(f"stage IN {JOB_STAGES!r}".replace(",)", ")"), name="stage"),
    CheckConstraint(f"status IN {JOB_STATUSES!r}", name="status"),
    # Claiming: the oldest claimable jobs of a stage.
    Index("ix_jobs_claim", "stage", "status", "queued_at"),
    # An asset's latest job, for media item progress (migration 0008).
    Index("ix_jobs_asset_latest", "asset_uuid", "queued_at", "uuid", "status"),
)

job_logs = Table(
    "job_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "job_uuid",
        String(36),
        ForeignKey("jobs.uuid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("time", UTCDateTime, nullable=False),
    Column("level", String, nullable=False),
    Column("message", Text, nullable=False),
)

enrichment_results = Table(
    "enrichment_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "asset_uuid",
        String(36),
        ForeignKey("assets.uuid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("enricher_id", String, nullable=False),
    Column("enricher_version", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("fields", JSON, nullable=False, server_default=text("'{}'")),
    Column("reason", Text, nullable=True),
    Column("tool", String, nullable=True),
    Column("tool_version", String, nullable=True),
    Column("content_signature", String, nullable=False),
    Column("job_uuid", String(36), nullable=True),
    Column("time", UTCDateTime, nullable=False),
)

qc_results = Table(
    "qc_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "asset_uuid",
        String(36),
        ForeignKey("assets.uuid", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("job_uuid", String(36), nullable=True),
    Column("passed", Boolean, nullable=False),
    Column("failures", JSON, nullable=False, server_default=text("'[]'")),
    Column("warnings", JSON, nullable=False, server_default=text("'[]'")),
    Column("content_signature", String, nullable=False),
    Column("time", UTCDateTime, nullable=False),
)

# Migration 0007: the append-only trail of approvals (the database refuses UPDATE and DELETE).
# No foreign key to assets: the record outlives the asset it is about.
approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asset_uuid", String(36), nullable=False, index=True),
    Column("action", String, nullable=False),
    Column("actor", String, nullable=False),
    Column("time", UTCDateTime, nullable=False),
    Column("note", Text, nullable=True),
    Column("reason", String, nullable=True),  # automatic revocations only
    # What was approved or revoked: the content and the enrichment at that moment.
    Column("sha256", String(64), nullable=True),
    Column("content_signature", String, nullable=False),
    Column("enricher_checksum", String(64), nullable=False),
    Column("job_uuid", String(36), nullable=True),
    Column("enrichment", JSON, nullable=False, server_default=text("'{}'")),
    Column("enrichment_digest", String(64), nullable=True),
    CheckConstraint(f"action IN {APPROVAL_ACTIONS!r}", name="action"),
    CheckConstraint(f"reason IS NULL OR reason IN {REVOCATION_REASONS!r}", name="reason"),
    CheckConstraint(
        "(action = 'auto_revoke') = (reason IS NOT NULL)", name="reason_for_auto_revoke"
    ),
)

# A key with no asset that was last seen gone at `observed_at` (a deletion or a move away applied
# before the creation it follows): a present observation older than that is stale (0010).
key_tombstones = Table(
    "key_tombstones",
    metadata,
    Column(
        "collection_uuid",
        String(36),
        ForeignKey("collections.uuid", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("canonical_key", String, primary_key=True),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("event_id", String(64), nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False, index=True),  # pruned by this
)

__all__ = [
    "APPROVAL_ACTIONS",
    "ASSET_STATES",
    "HASH_MODES",
    "JOB_STAGES",
    "JOB_STATUSES",
    "MEDIA_ITEM_TYPES",
    "REVOCATION_REASONS",
    "approvals",
    "asset_history",
    "assets",
    "collections",
    "enrichment_results",
    "ingest_runs",
    "job_logs",
    "jobs",
    "key_tombstones",
    "media_items",
    "metadata",
    "qc_results",
    "run_logs",
    "sources",
]
