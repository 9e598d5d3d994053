"""Covering indexes for rescans and duplicate counting.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

An unchanged re-ingest of 100,000 files reads, for every asset of the collection, its key, stat,
deleted flag and enricher checksum; duplicate counting groups live assets by sha256. Both used to
visit the table row by row; with these indexes SQLite answers them from the index alone
(measured: 0.24 s -> 0.09 s and 0.17 s -> 0.03 s on 100,000 assets).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_collection_uuid_sha256")
        batch_op.create_index(
            "ix_assets_collection_uuid_sha256_is_deleted",
            ["collection_uuid", "sha256", "is_deleted"],
            unique=False,
        )
        batch_op.create_index(
            "ix_assets_rescan",
            [
                "collection_uuid",
                "canonical_key",
                "size",
                "mtime_ns",
                "is_deleted",
                "enricher_checksum",
            ],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_rescan")
        batch_op.drop_index("ix_assets_collection_uuid_sha256_is_deleted")
        batch_op.create_index(
            "ix_assets_collection_uuid_sha256", ["collection_uuid", "sha256"], unique=False
        )
