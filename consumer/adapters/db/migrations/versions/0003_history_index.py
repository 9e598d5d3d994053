"""Drop asset_history's redundant index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

UNIQUE(asset_uuid, event_id) already indexes asset_uuid as its first column, so the separate
index on asset_uuid only cost a write per history row (one per applied event).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("asset_history", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_history_asset_uuid")


def downgrade() -> None:
    with op.batch_alter_table("asset_history", schema=None) as batch_op:
        batch_op.create_index("ix_asset_history_asset_uuid", ["asset_uuid"], unique=False)
