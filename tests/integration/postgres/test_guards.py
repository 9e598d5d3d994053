"""The catalog's guards, written for PostgreSQL in the same migrations as SQLite's: whatever a
person with `psql` tries, nothing is created ready, ready needs a passing QC record, approved
needs ready and an approval record, and the approvals trail is append-only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from consumer.adapters.db import migrate
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.db.tables import metadata
from consumer.domain.assets import FileFacts, create_asset
from consumer.domain.catalog import Collection, Source
from consumer.domain.signatures import EnricherRef, enricher_checksum

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHECKSUM = enricher_checksum([EnricherRef("ffprobe", 1)])


async def seed(db: CatalogDatabase) -> str:
    async with db.unit_of_work() as uow:
        await uow.sources.add(
            Source("src", "Local", "filesystem", "/m", created_at=NOW, updated_at=NOW)
        )
        await uow.collections.add(
            Collection("col", "src", "TV", "/m/tv", enrichers=[EnricherRef("ffprobe", 1)],
                       created_at=NOW, updated_at=NOW)
        )  # fmt: skip
        facts = FileFacts("a.mkv", "/m/tv/a.mkv", 3_000_000_000, 1_764_590_400_123_456_789,
                          sha256="a" * 64, observed_at=NOW)  # fmt: skip
        asset = create_asset("col", facts, CHECKSUM, NOW)
        await uow.assets.add(asset)
        await uow.commit()
    return asset.uuid


@pytest.fixture
def psql(catalog_url: str) -> Iterator[psycopg.Connection[Any]]:
    libpq = make_url(catalog_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        yield conn


def refused(conn: psycopg.Connection[Any], sql: str, match: str) -> None:
    with pytest.raises(psycopg.errors.IntegrityError, match=match):
        conn.execute(sql)


async def test_big_sizes_and_nanosecond_mtimes_fit(catalog: CatalogDatabase) -> None:
    uuid = await seed(catalog)
    async with catalog.unit_of_work(read_only=True) as uow:
        asset = await uow.assets.get_by_uuid(uuid)
    assert asset is not None
    assert (asset.size, asset.mtime_ns) == (3_000_000_000, 1_764_590_400_123_456_789)


async def test_nothing_is_created_ready(catalog: CatalogDatabase, psql: Any) -> None:
    await seed(catalog)
    refused(
        psql,
        "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns, "
        "content_signature, enricher_checksum, state, discovered_at, created_at, updated_at) "
        "VALUES ('x', 'col', 'b.mkv', '/m/tv/b.mkv', 1, 1, 's', 'c', 'ready', now(), now(), now())",
        "cannot be created in state ready",
    )


async def test_lifecycle_moves_and_ready_needs_a_passing_qc(
    catalog: CatalogDatabase, psql: Any
) -> None:
    uuid = await seed(catalog)
    refused(psql, f"UPDATE assets SET state = 'ready' WHERE uuid = '{uuid}'", "illegal")
    psql.execute(f"UPDATE assets SET state = 'enriching' WHERE uuid = '{uuid}'")
    refused(
        psql,
        f"UPDATE assets SET state = 'ready' WHERE uuid = '{uuid}'",
        "cannot be ready without a passing quality check",
    )
    psql.execute(
        "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
        f"SELECT uuid, false, content_signature, now() FROM assets WHERE uuid = '{uuid}'"
    )
    refused(psql, f"UPDATE assets SET state = 'ready' WHERE uuid = '{uuid}'", "quality check")
    psql.execute(
        "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
        f"SELECT uuid, true, content_signature, now() FROM assets WHERE uuid = '{uuid}'"
    )
    psql.execute(f"UPDATE assets SET state = 'ready' WHERE uuid = '{uuid}'")
    refused(
        psql,
        f"UPDATE assets SET content_signature = 'other' WHERE uuid = '{uuid}'",
        "cannot stay ready",
    )
    refused(psql, f"UPDATE assets SET state = 'enriching' WHERE uuid = '{uuid}'", "illegal")


async def test_approval_needs_ready_and_a_record_and_the_trail_is_append_only(
    catalog: CatalogDatabase, psql: Any
) -> None:
    uuid = await seed(catalog)
    psql.execute(
        "INSERT INTO approvals (asset_uuid, action, actor, time, content_signature, "
        "enricher_checksum) SELECT uuid, 'approve', 'early', now(), content_signature, "
        f"enricher_checksum FROM assets WHERE uuid = '{uuid}'"
    )
    with pytest.raises(psycopg.errors.CheckViolation, match="approved_requires_ready"):
        psql.execute(f"UPDATE assets SET approved_for_broadcast = true WHERE uuid = '{uuid}'")
    psql.execute(
        "INSERT INTO approvals (asset_uuid, action, actor, time, content_signature, "
        "enricher_checksum) SELECT uuid, 'revoke', 'early', now(), content_signature, "
        f"enricher_checksum FROM assets WHERE uuid = '{uuid}'"
    )
    psql.execute(f"UPDATE assets SET state = 'enriching' WHERE uuid = '{uuid}'")
    psql.execute(
        "INSERT INTO qc_results (asset_uuid, passed, content_signature, time) "
        f"SELECT uuid, true, content_signature, now() FROM assets WHERE uuid = '{uuid}'"
    )
    psql.execute(f"UPDATE assets SET state = 'ready' WHERE uuid = '{uuid}'")
    refused(
        psql,
        f"UPDATE assets SET approved_for_broadcast = true WHERE uuid = '{uuid}'",
        "without an approval record",
    )
    psql.execute(
        "INSERT INTO approvals (asset_uuid, action, actor, time, content_signature, "
        "enricher_checksum) SELECT uuid, 'approve', 'alice', now(), content_signature, "
        f"enricher_checksum FROM assets WHERE uuid = '{uuid}'"
    )
    psql.execute(f"UPDATE assets SET approved_for_broadcast = true WHERE uuid = '{uuid}'")
    refused(psql, "UPDATE approvals SET actor = 'mallory'", "append-only")
    refused(psql, "DELETE FROM approvals", "append-only")
    refused(psql, "TRUNCATE approvals", "append-only")
    assert psql.execute("SELECT actor FROM approvals ORDER BY id").fetchall() == [
        ("early",),
        ("early",),
        ("alice",),
    ]


async def test_names_compare_case_blind_as_on_sqlite(catalog: CatalogDatabase, psql: Any) -> None:
    await seed(catalog)
    with pytest.raises(psycopg.errors.UniqueViolation):
        psql.execute(
            "INSERT INTO sources (uuid, name, type, created_at, updated_at) "
            "VALUES ('s2', 'LOCAL', 'filesystem', now(), now())"
        )


async def test_migrated_schema_matches_the_table_definitions(engine: AsyncEngine) -> None:
    await migrate.ensure_schema(engine)

    def diff(sync_conn: Any) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(sync_conn), metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_migrations_downgrade_to_nothing_and_upgrade_again(engine: AsyncEngine) -> None:
    await migrate.ensure_schema(engine)
    await migrate.downgrade(engine)
    assert await migrate.current_revision(engine) is None
    assert await migrate.table_names(engine) == ["alembic_version"]
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.HEAD_REVISION
