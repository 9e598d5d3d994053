"""The consumer worker's pure pieces: poison categories and batching, without a broker."""

from __future__ import annotations

import asyncio
import json

import pytest

from consumer.entrypoints.batching import Batcher
from shared.schemas.parse import PoisonError, parse_event

from .test_file_event import SEED_MESSAGE, with_


def category(body: bytes, limit: int = 65536) -> str:
    with pytest.raises(PoisonError) as caught:
        parse_event(body, limit)
    return caught.value.category


def test_a_valid_body_is_an_event() -> None:
    event = parse_event(json.dumps(SEED_MESSAGE).encode(), 65536)
    assert event.file_path == SEED_MESSAGE["file_path"]


def test_poison_says_why() -> None:
    assert category(b"x" * 11, limit=10) == "too_large"
    assert category(b"{not json") == "invalid_json"
    assert category(json.dumps(with_(schema_version=2)).encode()) == "unsupported_schema_version"
    assert category(json.dumps(with_(size=-1)).encode()) == "schema_violation"


def test_a_schema_violation_names_the_field() -> None:
    with pytest.raises(PoisonError) as caught:
        parse_event(json.dumps(with_(size=-1)).encode(), 65536)
    assert str(caught.value).startswith("schema_violation: size: ")


async def test_a_full_batch_is_handed_out_at_once() -> None:
    batcher: Batcher[int] = Batcher(size=3, window=3600.0, stop=asyncio.Event())
    for n in range(5):
        batcher.put(n)
    # A one-hour window: only the size can close these batches.
    assert await batcher.next_batch() == [0, 1, 2]


async def test_a_stop_closes_the_batch_and_then_the_batcher() -> None:
    stop = asyncio.Event()
    batcher: Batcher[int] = Batcher(size=10, window=3600.0, stop=stop)
    for n in range(3):
        batcher.put(n)
    stop.set()
    assert await batcher.next_batch() == [0, 1, 2]
    assert await batcher.next_batch() is None


async def test_a_batch_is_closed_by_its_window() -> None:
    batcher: Batcher[int] = Batcher(size=10, window=0.001, stop=asyncio.Event())
    batcher.put(1)
    assert await batcher.next_batch() == [1]
