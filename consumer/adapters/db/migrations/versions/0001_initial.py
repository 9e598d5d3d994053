"""initial catalog schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22

The catalog: sources, collections, assets, ingest runs and their logs, asset history. The
lifecycle triggers are defined here, frozen, rather than imported: a migration must keep
producing the same schema whatever the application code becomes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The guards, per dialect (each frozen here).
TRIGGERS: dict[str, str] = {
    # Nothing is ever created ready: whatever code (or person with a sqlite3 shell) inserts.
    "trg_assets_never_created_ready": """
CREATE TRIGGER trg_assets_never_created_ready
BEFORE INSERT ON assets
WHEN NEW.state = 'ready'
BEGIN
    SELECT RAISE(ABORT, 'an asset cannot be created in state ready');
END""",
    # Only the lifecycle's legal moves; retired is terminal.
    "trg_assets_legal_transition": """
CREATE TRIGGER trg_assets_legal_transition
BEFORE UPDATE OF state ON assets
WHEN NEW.state <> OLD.state AND NOT (
       (OLD.state = 'new' AND NEW.state IN ('enriching', 'retired'))
    OR (OLD.state = 'enriching' AND NEW.state IN ('ready', 'new', 'retired'))
    OR (OLD.state = 'ready' AND NEW.state IN ('new', 'retired'))
)
BEGIN
    SELECT RAISE(ABORT, 'illegal asset state transition');
END""",
    # An asset whose content or enrichers changed was not reviewed in that form: never ready.
    "trg_assets_update_leaves_ready": """
CREATE TRIGGER trg_assets_update_leaves_ready
BEFORE UPDATE ON assets
WHEN NEW.state = 'ready' AND (
       NEW.content_signature IS NOT OLD.content_signature
    OR NEW.enricher_checksum IS NOT OLD.enricher_checksum
)
BEGIN
    SELECT RAISE(ABORT, 'an updated asset cannot stay ready');
END""",
}

# PostgreSQL: one function that refuses with the message its trigger passes, and the same three
# conditions as trigger WHEN clauses (`IS NOT` is `IS DISTINCT FROM` there). The SQLSTATE is an
# integrity violation, so the driver raises IntegrityError, as SQLite's RAISE(ABORT) does.
PG_REFUSE = """
CREATE FUNCTION apollonia_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END
$$"""

PG_TRIGGERS: dict[str, str] = {
    "trg_assets_never_created_ready": """
CREATE TRIGGER trg_assets_never_created_ready
BEFORE INSERT ON assets
FOR EACH ROW WHEN (NEW.state = 'ready')
EXECUTE FUNCTION apollonia_refuse('an asset cannot be created in state ready')""",
    "trg_assets_legal_transition": """
CREATE TRIGGER trg_assets_legal_transition
BEFORE UPDATE OF state ON assets
FOR EACH ROW WHEN (NEW.state <> OLD.state AND NOT (
       (OLD.state = 'new' AND NEW.state IN ('enriching', 'retired'))
    OR (OLD.state = 'enriching' AND NEW.state IN ('ready', 'new', 'retired'))
    OR (OLD.state = 'ready' AND NEW.state IN ('new', 'retired'))
))
EXECUTE FUNCTION apollonia_refuse('illegal asset state transition')""",
    "trg_assets_update_leaves_ready": """
CREATE TRIGGER trg_assets_update_leaves_ready
BEFORE UPDATE ON assets
FOR EACH ROW WHEN (NEW.state = 'ready' AND (
       NEW.content_signature IS DISTINCT FROM OLD.content_signature
    OR NEW.enricher_checksum IS DISTINCT FROM OLD.enricher_checksum
))
EXECUTE FUNCTION apollonia_refuse('an updated asset cannot stay ready')""",
}

# SQLite's NOCASE (names compare case-blind, so `Films` and `films` are one name) as an ICU
# collation: case-insensitive, accent-sensitive. Created before the tables that use it.
PG_NOCASE = """
CREATE COLLATION IF NOT EXISTS "NOCASE"
    (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"""


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _big() -> sa.types.TypeEngine[int]:
    """Sizes and nanosecond times: SQLite's INTEGER is 64 bits, PostgreSQL's is 32."""
    return sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    if _postgres():
        op.execute(PG_NOCASE)
    op.create_table(
        "ingest_runs",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source_uuid", sa.String(length=36), nullable=True),
        sa.Column("collection_uuid", sa.String(length=36), nullable=True),
        sa.Column("scope", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("stats", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'success', 'error')", name=op.f("ck_ingest_runs_status")
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_ingest_runs")),
    )
    with op.batch_alter_table("ingest_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_runs_collection_uuid"), ["collection_uuid"], unique=False
        )

    op.create_table(
        "sources",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("name", sa.String(collation="NOCASE"), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("root_path", sa.String(), nullable=True),
        sa.Column("path_mappings", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_sources")),
        sa.UniqueConstraint("external_id", name=op.f("uq_sources_external_id")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "collections",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("source_uuid", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("name", sa.String(collation="NOCASE"), nullable=False),
        sa.Column("root_path", sa.String(), nullable=False),
        sa.Column("sync_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("ingestible", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("enrichers", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("hash_mode", sa.String(), server_default=sa.text("'full'"), nullable=False),
        sa.Column("last_ingest_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("hash_mode IN ('full', 'stat')", name=op.f("ck_collections_hash_mode")),
        sa.ForeignKeyConstraint(
            ["source_uuid"],
            ["sources.uuid"],
            name=op.f("fk_collections_source_uuid_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_collections")),
        sa.UniqueConstraint("external_id", name=op.f("uq_collections_external_id")),
        sa.UniqueConstraint("source_uuid", "name", name=op.f("uq_collections_source_uuid_name")),
    )
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collections_source_uuid"), ["source_uuid"], unique=False
        )

    op.create_table(
        "run_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_uuid", sa.String(length=36), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("asset_uuid", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_uuid"],
            ["ingest_runs.uuid"],
            name=op.f("fk_run_logs_run_uuid_ingest_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_logs")),
    )
    with op.batch_alter_table("run_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_logs_run_uuid"), ["run_uuid"], unique=False)

    op.create_table(
        "assets",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("collection_uuid", sa.String(length=36), nullable=False),
        sa.Column("canonical_key", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("size", _big(), nullable=False),
        sa.Column("mtime_ns", _big(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("xxh128", sa.String(length=32), nullable=True),
        sa.Column("content_signature", sa.String(), nullable=False),
        sa.Column("enricher_checksum", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(), server_default=sa.text("'new'"), nullable=False),
        sa.Column(
            "approved_for_broadcast", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("tech_metadata", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("neighbors", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("last_event_at", sa.DateTime(), nullable=True),
        sa.Column("discovered_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "NOT approved_for_broadcast OR state = 'ready'",
            name=op.f("ck_assets_approved_requires_ready"),
        ),
        sa.CheckConstraint(
            "state IN ('new', 'enriching', 'ready', 'retired')", name=op.f("ck_assets_state")
        ),
        sa.CheckConstraint(
            "NOT (approved_for_broadcast AND is_deleted)",
            name=op.f("ck_assets_deleted_not_approved"),
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_assets_size_non_negative")),
        sa.ForeignKeyConstraint(
            ["collection_uuid"],
            ["collections.uuid"],
            name=op.f("fk_assets_collection_uuid_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_assets")),
        sa.UniqueConstraint(
            "collection_uuid", "canonical_key", name=op.f("uq_assets_collection_uuid_canonical_key")
        ),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assets_collection_uuid_sha256"),
            ["collection_uuid", "sha256"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_assets_collection_uuid_xxh128"),
            ["collection_uuid", "xxh128"],
            unique=False,
        )

    op.create_table(
        "asset_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_uuid", sa.String(length=36), nullable=False),
        sa.Column("run_uuid", sa.String(length=36), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_uuid"],
            ["assets.uuid"],
            name=op.f("fk_asset_history_asset_uuid_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_history")),
        sa.UniqueConstraint(
            "asset_uuid", "event_id", name=op.f("uq_asset_history_asset_uuid_event_id")
        ),
    )
    with op.batch_alter_table("asset_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_history_asset_uuid"), ["asset_uuid"], unique=False
        )
    if _postgres():
        op.execute(PG_REFUSE)
        for ddl in PG_TRIGGERS.values():
            op.execute(ddl)
    else:
        for ddl in TRIGGERS.values():
            op.execute(ddl)


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON assets" if _postgres() else ""))
    with op.batch_alter_table("asset_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_history_asset_uuid"))

    op.drop_table("asset_history")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assets_collection_uuid_xxh128"))
        batch_op.drop_index(batch_op.f("ix_assets_collection_uuid_sha256"))

    op.drop_table("assets")
    with op.batch_alter_table("run_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_logs_run_uuid"))

    op.drop_table("run_logs")
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collections_source_uuid"))

    op.drop_table("collections")
    op.drop_table("sources")
    with op.batch_alter_table("ingest_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_runs_collection_uuid"))

    op.drop_table("ingest_runs")
    if _postgres():
        op.execute("DROP FUNCTION IF EXISTS apollonia_refuse()")
        op.execute('DROP COLLATION IF EXISTS "NOCASE"')
