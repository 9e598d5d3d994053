"""Key tombstones: when a key the catalog holds no asset for was last seen gone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Competing consumers apply one file's events in commit order, not publication order: a `deleted`
(or a move away) can be applied before the `created` it follows. With no asset to carry
`last_event_at`, the stale-event guard had nothing to compare the late `created` with, and it
cataloged a file that is gone. A tombstone keeps the time of the newest "gone" observation for
such a key; a present observation older than it is stale. One row per key (the newest wins);
rows written long ago are pruned by the writer. No triggers: the table is the same on both dialects.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_tombstones",
        sa.Column("collection_uuid", sa.String(length=36), nullable=False),
        sa.Column("canonical_key", sa.String(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_uuid"],
            ["collections.uuid"],
            name="fk_key_tombstones_collection_uuid_collections",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_uuid", "canonical_key", name="pk_key_tombstones"),
    )
    # Pruning deletes by age (when the row was written: a replayed journal's old events count
    # from their replay).
    op.create_index("ix_key_tombstones_recorded_at", "key_tombstones", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_key_tombstones_recorded_at", table_name="key_tombstones")
    op.drop_table("key_tombstones")
