"""Enrichment: jobs and their logs, enricher and QC results, promoted technical columns, the
collection's enrichment options, and the database guard on `ready`.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-23

Every new column is nullable or has a default, so a catalog at the previous head keeps its
sources, collections and assets unchanged. The guard is written per dialect in `GUARDS` (frozen
here, like 0001's triggers): a migration must keep producing the same schema whatever the
application code becomes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_STAGES = "('enrich')"
JOB_STATUSES = "('pending', 'in_progress', 'completed', 'failed')"

# An asset becomes ready only with a passing QC record for its current content. PostgreSQL: a
# trigger's WHEN clause cannot hold a subquery, so the check is a plpgsql function of its own
# (dropped with its trigger: `FUNCTIONS` names what each dialect creates besides triggers).
GUARDS: dict[str, dict[str, str]] = {
    "sqlite": {
        "trg_assets_ready_needs_qc": """
CREATE TRIGGER trg_assets_ready_needs_qc
BEFORE UPDATE OF state ON assets
WHEN NEW.state = 'ready' AND OLD.state <> 'ready' AND NOT EXISTS (
    SELECT 1 FROM qc_results
    WHERE qc_results.asset_uuid = NEW.uuid
      AND qc_results.passed
      AND qc_results.content_signature = NEW.content_signature
)
BEGIN
    SELECT RAISE(ABORT, 'an asset cannot be ready without a passing quality check');
END""",
    },
    "postgresql": {
        "apollonia_ready_needs_qc": """
CREATE FUNCTION apollonia_ready_needs_qc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM qc_results
        WHERE qc_results.asset_uuid = NEW.uuid
          AND qc_results.passed
          AND qc_results.content_signature = NEW.content_signature
    ) THEN
        RAISE EXCEPTION 'an asset cannot be ready without a passing quality check'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$""",
        "trg_assets_ready_needs_qc": """
CREATE TRIGGER trg_assets_ready_needs_qc
BEFORE UPDATE OF state ON assets
FOR EACH ROW WHEN (NEW.state = 'ready' AND OLD.state <> 'ready')
EXECUTE FUNCTION apollonia_ready_needs_qc()""",
    },
}

# What `downgrade` drops, per dialect: (kind, name, table).
DROPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "sqlite": (("TRIGGER", "trg_assets_ready_needs_qc", ""),),
    "postgresql": (
        ("TRIGGER", "trg_assets_ready_needs_qc", "assets"),
        ("FUNCTION", "apollonia_ready_needs_qc()", ""),
    ),
}


def asset_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("container", sa.String(), nullable=True),
        sa.Column("video_codec", sa.String(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("hdr", sa.String(), nullable=True),
        sa.Column("audio_languages", sa.JSON(), nullable=True),
        sa.Column("subtitle_languages", sa.JSON(), nullable=True),
        sa.Column("qc_failed_rules", sa.JSON(), nullable=True),
    )


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("asset_uuid", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(), server_default=sa.text("'enrich'"), nullable=False),
        sa.Column("status", sa.String(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempt", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("worker_id", sa.String(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("content_signature", sa.String(), nullable=False),
        sa.Column("enricher_checksum", sa.String(length=64), nullable=False),
        sa.CheckConstraint(f"stage IN {JOB_STAGES}", name=op.f("ck_jobs_stage")),
        sa.CheckConstraint(f"status IN {JOB_STATUSES}", name=op.f("ck_jobs_status")),
        sa.ForeignKeyConstraint(
            ["asset_uuid"],
            ["assets.uuid"],
            name=op.f("fk_jobs_asset_uuid_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_claim", ["stage", "status", "queued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_asset_uuid"), ["asset_uuid"], unique=False)

    op.create_table(
        "job_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_uuid", sa.String(length=36), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_uuid"],
            ["jobs.uuid"],
            name=op.f("fk_job_logs_job_uuid_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_logs")),
    )
    with op.batch_alter_table("job_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_logs_job_uuid"), ["job_uuid"], unique=False)

    op.create_table(
        "enrichment_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_uuid", sa.String(length=36), nullable=False),
        sa.Column("enricher_id", sa.String(), nullable=False),
        sa.Column("enricher_version", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("tool", sa.String(), nullable=True),
        sa.Column("tool_version", sa.String(), nullable=True),
        sa.Column("content_signature", sa.String(), nullable=False),
        sa.Column("job_uuid", sa.String(length=36), nullable=True),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_uuid"],
            ["assets.uuid"],
            name=op.f("fk_enrichment_results_asset_uuid_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrichment_results")),
    )
    with op.batch_alter_table("enrichment_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrichment_results_asset_uuid"), ["asset_uuid"], unique=False
        )

    op.create_table(
        "qc_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_uuid", sa.String(length=36), nullable=False),
        sa.Column("job_uuid", sa.String(length=36), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("warnings", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("content_signature", sa.String(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_uuid"],
            ["assets.uuid"],
            name=op.f("fk_qc_results_asset_uuid_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_results")),
    )
    with op.batch_alter_table("qc_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qc_results_asset_uuid"), ["asset_uuid"], unique=False)

    # ADD COLUMN, not a batch rebuild: the assets table keeps its rows and 0001's triggers.
    for column in asset_columns():
        op.add_column("assets", column)
    op.add_column(
        "collections",
        sa.Column("auto_enrich", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column("collections", sa.Column("media_type", sa.String(), nullable=True))
    op.add_column(
        "collections",
        sa.Column("audio_only", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    for ddl in GUARDS.get(op.get_bind().dialect.name, {}).values():
        op.execute(ddl)


def downgrade() -> None:
    for kind, name, table in DROPS.get(op.get_bind().dialect.name, ()):
        op.execute(f"DROP {kind} IF EXISTS {name}" + (f" ON {table}" if table else ""))
    for name in ("audio_only", "media_type", "auto_enrich"):
        op.drop_column("collections", name)
    for column in reversed(asset_columns()):
        op.drop_column("assets", column.name)
    op.drop_table("qc_results")
    op.drop_table("enrichment_results")
    op.drop_table("job_logs")
    op.drop_table("jobs")
