"""Approvals: the append-only trail of every approve, revoke and automatic revocation, and the
database guards around it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

A new table only: every source, collection, asset, job and result is kept as it is. The trail
has no foreign key to `assets` on purpose: it outlives the asset (a removed collection cascades
its assets away, and the record of who approved what must not go with them; a cascade would be
refused by the append-only trigger anyway).

The guards are written per dialect in `GUARDS` (frozen here, like 0001's and 0006's): for
PostgreSQL, plpgsql functions raising an exception, BEFORE UPDATE / DELETE / TRUNCATE triggers on
`approvals`, BEFORE UPDATE OF approved_for_broadcast on `assets`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = "('approve', 'revoke', 'auto_revoke')"
REASONS = "('content_changed', 'enrichers_changed', 'file_deleted', 'qc_failed')"

GUARDS: dict[str, dict[str, str]] = {
    "sqlite": {
        # The trail is append-only: whatever code (or person with a sqlite3 shell) tries.
        "trg_approvals_no_update": """
CREATE TRIGGER trg_approvals_no_update
BEFORE UPDATE ON approvals
BEGIN
    SELECT RAISE(ABORT, 'approvals are append-only: a decision cannot be changed');
END""",
        "trg_approvals_no_delete": """
CREATE TRIGGER trg_approvals_no_delete
BEFORE DELETE ON approvals
BEGIN
    SELECT RAISE(ABORT, 'approvals are append-only: a decision cannot be deleted');
END""",
        # Approval is set only together with its record: the asset's latest trail row must be an
        # `approve` of exactly this content, written first in the same transaction.
        "trg_assets_approval_needs_record": """
CREATE TRIGGER trg_assets_approval_needs_record
BEFORE UPDATE OF approved_for_broadcast ON assets
WHEN NEW.approved_for_broadcast AND NOT OLD.approved_for_broadcast AND NOT EXISTS (
    SELECT 1 FROM approvals
    WHERE approvals.id = (SELECT max(id) FROM approvals WHERE asset_uuid = NEW.uuid)
      AND approvals.action = 'approve'
      AND approvals.content_signature = NEW.content_signature
)
BEGIN
    SELECT RAISE(ABORT, 'an asset cannot be approved without an approval record');
END""",
    },
    "postgresql": {
        # 0001's apollonia_refuse() raises its argument. TRUNCATE skips row triggers in
        # PostgreSQL, so the trail refuses it too.
        "trg_approvals_no_update": """
CREATE TRIGGER trg_approvals_no_update
BEFORE UPDATE ON approvals
FOR EACH ROW
EXECUTE FUNCTION apollonia_refuse('approvals are append-only: a decision cannot be changed')""",
        "trg_approvals_no_delete": """
CREATE TRIGGER trg_approvals_no_delete
BEFORE DELETE ON approvals
FOR EACH ROW
EXECUTE FUNCTION apollonia_refuse('approvals are append-only: a decision cannot be deleted')""",
        "trg_approvals_no_truncate": """
CREATE TRIGGER trg_approvals_no_truncate
BEFORE TRUNCATE ON approvals
FOR EACH STATEMENT
EXECUTE FUNCTION apollonia_refuse('approvals are append-only: a decision cannot be deleted')""",
        "apollonia_approval_needs_record": """
CREATE FUNCTION apollonia_approval_needs_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM approvals
        WHERE approvals.id = (SELECT max(id) FROM approvals WHERE asset_uuid = NEW.uuid)
          AND approvals.action = 'approve'
          AND approvals.content_signature = NEW.content_signature
    ) THEN
        RAISE EXCEPTION 'an asset cannot be approved without an approval record'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$""",
        "trg_assets_approval_needs_record": """
CREATE TRIGGER trg_assets_approval_needs_record
BEFORE UPDATE OF approved_for_broadcast ON assets
FOR EACH ROW WHEN (NEW.approved_for_broadcast AND NOT OLD.approved_for_broadcast)
EXECUTE FUNCTION apollonia_approval_needs_record()""",
    },
}

# What `downgrade` drops, per dialect: (kind, name, table).
DROPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "sqlite": tuple(("TRIGGER", name, "") for name in GUARDS["sqlite"]),
    "postgresql": (
        ("TRIGGER", "trg_assets_approval_needs_record", "assets"),
        ("FUNCTION", "apollonia_approval_needs_record()", ""),
        ("TRIGGER", "trg_approvals_no_truncate", "approvals"),
        ("TRIGGER", "trg_approvals_no_delete", "approvals"),
        ("TRIGGER", "trg_approvals_no_update", "approvals"),
    ),
}


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_uuid", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("content_signature", sa.String(), nullable=False),
        sa.Column("enricher_checksum", sa.String(length=64), nullable=False),
        sa.Column("job_uuid", sa.String(length=36), nullable=True),
        sa.Column("enrichment", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("enrichment_digest", sa.String(length=64), nullable=True),
        sa.CheckConstraint(f"action IN {ACTIONS}", name=op.f("ck_approvals_action")),
        sa.CheckConstraint(
            f"reason IS NULL OR reason IN {REASONS}", name=op.f("ck_approvals_reason")
        ),
        sa.CheckConstraint(
            "(action = 'auto_revoke') = (reason IS NOT NULL)",
            name=op.f("ck_approvals_reason_for_auto_revoke"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approvals_asset_uuid"), ["asset_uuid"], unique=False)
    for ddl in GUARDS.get(op.get_bind().dialect.name, {}).values():
        op.execute(ddl)


def downgrade() -> None:
    for kind, name, table in DROPS.get(op.get_bind().dialect.name, ()):
        op.execute(f"DROP {kind} IF EXISTS {name}" + (f" ON {table}" if table else ""))
    op.drop_table("approvals")
