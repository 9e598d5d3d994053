"""Sources and collections in the catalog database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from consumer.adapters.db.tables import assets, collections, sources
from consumer.domain.catalog import Collection, PathMapping, ServerConfig, Source
from consumer.domain.signatures import EnricherRef


def source_from_row(row: Row[Any]) -> Source:
    m = row._mapping
    return Source(
        uuid=m["uuid"],
        name=m["name"],
        type=m["type"],
        root_path=m["root_path"],
        path_mappings=[PathMapping.from_mapping(p) for p in (m["path_mappings"] or [])],
        external_id=m["external_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        server=ServerConfig.from_mapping(m["server"]) if m["server"] else None,
    )


def collection_from_row(row: Row[Any]) -> Collection:
    m = row._mapping
    return Collection(
        uuid=m["uuid"],
        source_uuid=m["source_uuid"],
        name=m["name"],
        root_path=m["root_path"],
        sync_enabled=bool(m["sync_enabled"]),
        ingestible=bool(m["ingestible"]),
        enrichers=[EnricherRef.from_mapping(e) for e in (m["enrichers"] or [])],
        hash_mode=m["hash_mode"],
        external_id=m["external_id"],
        last_ingest_time=m["last_ingest_time"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        auto_enrich=bool(m["auto_enrich"]),
        media_type=m["media_type"],
        audio_only=bool(m["audio_only"]),
        importer_state=dict(m["importer_state"] or {}),
    )


def _source_row(source: Source) -> dict[str, Any]:
    return {
        "uuid": source.uuid,
        "name": source.name,
        "type": source.type,
        "root_path": source.root_path,
        "path_mappings": [p.as_dict() for p in source.path_mappings],
        "external_id": source.external_id,
        "created_at": source.created_at,
        "updated_at": source.updated_at,
        "server": source.server.as_dict() if source.server else None,
    }


def _collection_row(collection: Collection) -> dict[str, Any]:
    return {
        "uuid": collection.uuid,
        "source_uuid": collection.source_uuid,
        "name": collection.name,
        "root_path": collection.root_path,
        "sync_enabled": collection.sync_enabled,
        "ingestible": collection.ingestible,
        "enrichers": [e.as_dict() for e in collection.enrichers],
        "hash_mode": collection.hash_mode,
        "external_id": collection.external_id,
        "last_ingest_time": collection.last_ingest_time,
        "created_at": collection.created_at,
        "updated_at": collection.updated_at,
        "auto_enrich": collection.auto_enrich,
        "media_type": collection.media_type,
        "audio_only": collection.audio_only,
        "importer_state": collection.importer_state,
    }


class SourceRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def all(self) -> list[Source]:
        rows = await self._conn.execute(select(sources).order_by(func.lower(sources.c.name)))
        return [source_from_row(r) for r in rows]

    async def get(self, source_uuid: str) -> Source | None:
        row = (
            await self._conn.execute(select(sources).where(sources.c.uuid == source_uuid))
        ).first()
        return None if row is None else source_from_row(row)

    async def find(self, selector: str) -> list[Source]:
        """Sources matching a UUID, an external id, or a name (case-insensitive), in that order."""
        for condition in (
            sources.c.uuid == selector,
            sources.c.external_id == selector,
            func.lower(sources.c.name) == selector.lower(),
        ):
            rows = (await self._conn.execute(select(sources).where(condition))).all()
            if rows:
                return [source_from_row(r) for r in rows]
        return []

    async def add(self, source: Source) -> None:
        await self._conn.execute(sources.insert().values(_source_row(source)))

    async def update(self, source: Source) -> None:
        row = _source_row(source)
        row.pop("created_at")
        await self._conn.execute(update(sources).where(sources.c.uuid == source.uuid).values(row))

    async def remove(self, source_uuid: str) -> None:
        await self._conn.execute(delete(sources).where(sources.c.uuid == source_uuid))


class CollectionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def all(self, source_uuid: str | None = None) -> list[Collection]:
        query = select(collections).order_by(func.lower(collections.c.name), collections.c.uuid)
        if source_uuid is not None:
            query = query.where(collections.c.source_uuid == source_uuid)
        return [collection_from_row(r) for r in await self._conn.execute(query)]

    async def get(self, collection_uuid: str) -> Collection | None:
        row = (
            await self._conn.execute(
                select(collections).where(collections.c.uuid == collection_uuid)
            )
        ).first()
        return None if row is None else collection_from_row(row)

    async def find(self, selector: str) -> list[Collection]:
        """Collections matching a UUID, an external id, or a name (case-insensitive)."""
        for condition in (
            collections.c.uuid == selector,
            collections.c.external_id == selector,
            func.lower(collections.c.name) == selector.lower(),
        ):
            rows = (await self._conn.execute(select(collections).where(condition))).all()
            if rows:
                return [collection_from_row(r) for r in rows]
        return []

    async def add(self, collection: Collection) -> None:
        await self._conn.execute(collections.insert().values(_collection_row(collection)))

    async def update(self, collection: Collection) -> None:
        row = _collection_row(collection)
        row.pop("created_at")
        await self._conn.execute(
            update(collections).where(collections.c.uuid == collection.uuid).values(row)
        )

    async def set_last_ingest_time(self, collection_uuid: str, when: datetime) -> None:
        await self._conn.execute(
            update(collections)
            .where(collections.c.uuid == collection_uuid)
            .values(last_ingest_time=when)
        )

    async def remove(self, collection_uuid: str) -> None:
        await self._conn.execute(delete(collections).where(collections.c.uuid == collection_uuid))

    async def asset_counts(self) -> dict[str, int]:
        rows = await self._conn.execute(
            select(assets.c.collection_uuid, func.count())
            .where(assets.c.is_deleted.is_(False))
            .group_by(assets.c.collection_uuid)
        )
        return {r[0]: int(r[1]) for r in rows}
