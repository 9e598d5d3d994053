"""Attaching assets to their media items inside the caller's unit of work.

Called by the one apply path (`apply.py`, for every asset it creates, updates or moves) and by
enrichment (when the editorial fields say otherwise than the folders did). Items are created on
demand, in the same transaction, and in bulk: one SELECT of the names a batch mentions, one
INSERT of the missing items, one UPDATE for the yearless items a file taught their year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consumer.domain.assets import Asset
from consumer.domain.catalog import Collection
from consumer.domain.media_items import (
    ItemKey,
    MediaItem,
    adopts,
    key_of_asset,
    new_item,
    resolve,
)
from consumer.service_layer.unit_of_work import UnitOfWork


@dataclass(slots=True)
class Resolved:
    """Item per key of one batch, and what the batch had to write."""

    items: dict[ItemKey, MediaItem]
    created: list[MediaItem]
    adopted: list[MediaItem]


async def get_or_create(
    uow: UnitOfWork,
    collection: Collection,
    keys: Sequence[ItemKey],
    now: datetime,
    *,
    write: bool = True,
) -> Resolved:
    """The item of every key (found by the attaching rules, or created): one read, and at most
    one insert and one update, for the whole batch."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return Resolved({}, [], [])
    known = await uow.media.by_names(collection.uuid, {k.safe_name for k in unique})
    out: dict[ItemKey, MediaItem] = {}
    created: list[MediaItem] = []
    adopted: dict[str, MediaItem] = {}
    # Keys with a year first: a wanted yearless item learns its year before a yearless file
    # of the same batch looks for it.
    for key in sorted(unique, key=lambda k: k.year is None):
        item = resolve(key, known)
        if item is None:
            item = new_item(collection.uuid, key, now)
            known.append(item)
            created.append(item)
        elif adopts(item, key):
            item.year = key.year
            item.updated_at = now
            if item not in created:
                adopted[item.id] = item
        out[key] = item
    if write:
        await uow.media.add_many(created)
        await uow.media.update_many(list(adopted.values()))
    return Resolved(out, created, list(adopted.values()))


async def attach_keys(
    uow: UnitOfWork,
    collection: Collection,
    wanted: Mapping[str, ItemKey | None],
    now: datetime,
) -> dict[str, str | None]:
    """asset uuid -> the item id it belongs to (None: no item), creating items as needed."""
    resolved = await get_or_create(
        uow, collection, [k for k in wanted.values() if k is not None], now
    )
    return {
        uuid: (resolved.items[key].id if key is not None else None) for uuid, key in wanted.items()
    }


async def reattach(
    uow: UnitOfWork,
    collection: Collection,
    asset: Asset,
    editorial: Mapping[str, Any],
    now: datetime,
) -> None:
    """After enrichment: the asset to the item its editorial fields name (an nfo may say
    otherwise than the folders). Fields that name no item leave it where it is, unless they
    say it is no programme at all (`type: other`): then it leaves its item."""
    if not editorial:
        return
    key = key_of_asset(
        asset.canonical_key,
        editorial,
        collection_media_type=collection.media_type,
        audio_only=collection.audio_only,
    )
    if key is None:
        if editorial.get("type") not in (None, "movie", "episode"):
            asset.media_item_id = None
        return
    resolved = await get_or_create(uow, collection, [key], now)
    asset.media_item_id = resolved.items[key].id
