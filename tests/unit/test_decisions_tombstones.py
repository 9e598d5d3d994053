"""The stale-event guard for keys with no asset: a tombstone keeps when the file was seen gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from consumer.domain.assets import FileFacts, create_asset
from consumer.domain.decisions import (
    Action,
    Tombstone,
    decide,
    tombstone_for,
)
from consumer.domain.signatures import enricher_checksum

GONE = datetime(2026, 11, 22, 12, tzinfo=UTC)
BEFORE, AFTER = GONE - timedelta(seconds=1), GONE + timedelta(seconds=1)
NO_ENRICHERS = enricher_checksum([])


def obs(observed_at: datetime | None) -> FileFacts:
    return FileFacts(
        "Show/e01.mkv",
        "/m/Show/e01.mkv",
        size=100,
        mtime_ns=1000,
        sha256="a" * 64,
        xxh128=None,
        observed_at=observed_at,
    )


def test_a_creation_older_than_the_tombstone_is_stale() -> None:
    decision = decide(None, obs(BEFORE), NO_ENRICHERS, GONE)
    assert decision.action == Action.SKIP and decision.stale
    assert "already gone" in decision.reason


def test_a_creation_newer_than_the_tombstone_creates() -> None:
    assert decide(None, obs(AFTER), NO_ENRICHERS, GONE).action == Action.CREATE


def test_a_creation_at_the_tombstone_time_creates() -> None:
    # Same instant: a move's origin and destination share it; only strictly older is stale.
    assert decide(None, obs(GONE), NO_ENRICHERS, GONE).action == Action.CREATE


def test_without_a_time_the_tombstone_cannot_judge() -> None:
    assert decide(None, obs(None), NO_ENRICHERS, GONE).action == Action.CREATE
    assert decide(None, obs(BEFORE), NO_ENRICHERS, None).action == Action.CREATE


def test_an_existing_asset_is_judged_by_its_own_last_event() -> None:
    asset = create_asset("col", obs(AFTER), NO_ENRICHERS, AFTER)
    asset.last_event_at = BEFORE - timedelta(hours=1)
    # The tombstone is passed only for keys with no asset; an asset's last event decides.
    decision = decide(asset, replace(obs(BEFORE), sha256="b" * 64), NO_ENRICHERS, None)
    assert decision.action == Action.UPDATE


def test_a_gone_key_with_no_asset_leaves_a_tombstone() -> None:
    assert tombstone_for(None, "a.mkv", GONE, "ev-1") == Tombstone("a.mkv", GONE, "ev-1")


def test_a_gone_key_with_an_asset_or_without_a_time_leaves_none() -> None:
    asset = create_asset("col", obs(GONE), NO_ENRICHERS, GONE)
    assert tombstone_for(asset, "a.mkv", GONE, "ev-1") is None
    assert tombstone_for(None, "a.mkv", None, "ev-1") is None
