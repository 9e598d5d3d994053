"""Media servers: where a Plex or Jellyfin source is and where its secret comes from, and what a
media-server importer keeps per collection between ingests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

`sources.server` holds the server's URL, its request timeout and a *reference* to the secret
(`{"from": "file", "path": ...}` or `{"from": "env", "variable": ...}`), never the token itself:
the catalog is a file that gets copied into backups and support bundles. `collections.
importer_state` holds what the importer needs from one ingest to the next (the library id on the
server, its kind, the high-water mark of the server's change times for incremental ingests).
Both are nullable or defaulted, so a catalog at the previous head keeps every row as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): the tables keep their triggers untouched.
    op.add_column("sources", sa.Column("server", sa.JSON(), nullable=True))
    op.add_column(
        "collections",
        sa.Column("importer_state", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a rebuilt `sources` table would cascade its deletion to
    # every collection.
    op.drop_column("collections", "importer_state")
    op.drop_column("sources", "server")
