"""Key tombstones: the newest "gone" time of keys that hold no asset (see migration 0010)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from consumer.adapters.db.repository import chunked
from consumer.adapters.db.tables import key_tombstones
from consumer.domain.decisions import Tombstone


class TombstoneRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def for_keys(self, collection_uuid: str, keys: Iterable[str]) -> dict[str, datetime]:
        """The tombstone time of each of `keys` that has one (one query per 500 keys)."""
        found: dict[str, datetime] = {}
        t = key_tombstones.c
        for chunk in chunked(list(dict.fromkeys(keys))):
            rows = await self._conn.execute(
                select(t.canonical_key, t.observed_at).where(
                    t.collection_uuid == collection_uuid, t.canonical_key.in_(chunk)
                )
            )
            found.update({r[0]: r[1] for r in rows})
        return found

    async def event_of(self, collection_uuid: str, key: str) -> str | None:
        """The id of the event that left `key`'s tombstone (its newest), if it has one."""
        t = key_tombstones.c
        row = (
            await self._conn.execute(
                select(t.event_id).where(
                    t.collection_uuid == collection_uuid, t.canonical_key == key
                )
            )
        ).first()
        return None if row is None else row[0]

    async def put_many(
        self, collection_uuid: str, stones: Sequence[Tombstone], now: datetime
    ) -> None:
        """Upsert, the newest time winning; in key order, so two writers lock rows alike."""
        if not stones:
            return
        newest: dict[str, Tombstone] = {}
        for stone in stones:
            held = newest.get(stone.canonical_key)
            if held is None or stone.observed_at > held.observed_at:
                newest[stone.canonical_key] = stone
        rows = [
            {
                "collection_uuid": collection_uuid,
                "canonical_key": key,
                "observed_at": newest[key].observed_at,
                "event_id": newest[key].event_id,
                "recorded_at": now,
            }
            for key in sorted(newest)
        ]
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        for chunk in chunked(rows):
            statement = dialect.insert(key_tombstones).values(list(chunk))
            statement = statement.on_conflict_do_update(
                index_elements=["collection_uuid", "canonical_key"],
                set_={
                    "observed_at": statement.excluded.observed_at,
                    "event_id": statement.excluded.event_id,
                    "recorded_at": statement.excluded.recorded_at,
                },
                where=statement.excluded.observed_at > key_tombstones.c.observed_at,
            )
            await self._conn.execute(statement)

    async def prune(self, before: datetime) -> int:
        """Forget tombstones written before `before` (longer ago than any redelivery)."""
        result = await self._conn.execute(
            delete(key_tombstones).where(key_tombstones.c.recorded_at < before)
        )
        return int(result.rowcount or 0)
