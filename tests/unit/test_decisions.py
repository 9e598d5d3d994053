"""Every row of seed 001's decision matrix (B-16/B-17/B-18, D-9..D-14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consumer.domain.assets import (
    Asset,
    FileFacts,
    create_asset,
    mark_deleted,
    refresh_stat,
    set_state,
    update_asset,
)
from consumer.domain.decisions import Action, MoveVerdict, decide, decide_gone, decide_move
from consumer.domain.lifecycle import AssetState
from consumer.domain.signatures import EnricherRef, enricher_checksum

NOW = datetime(2026, 11, 22, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
NO_ENRICHERS = enricher_checksum([])
WITH_FFPROBE = enricher_checksum([EnricherRef("ffprobe", 1)])
SHA_A, SHA_B = "a" * 64, "b" * 64


def obs(sha: str | None = SHA_A, size: int = 100, mtime_ns: int = 1000) -> FileFacts:
    return FileFacts(
        "Show/e01.mkv",
        "/m/Show/e01.mkv",
        size=size,
        mtime_ns=mtime_ns,
        sha256=sha,
        xxh128=None if sha is None else "c" * 32,
    )


def stored(sha: str | None = SHA_A, size: int = 100, mtime_ns: int = 1000) -> Asset:
    return create_asset("col", obs(sha, size, mtime_ns), NO_ENRICHERS, NOW)


def test_not_found_creates() -> None:
    decision = decide(None, obs(), NO_ENRICHERS)
    assert decision.action == Action.CREATE


def test_unchanged_content_and_enrichers_skips() -> None:
    decision = decide(stored(), obs(), NO_ENRICHERS)
    assert decision.action == Action.SKIP
    assert not decision.refresh_stat


def test_same_bytes_with_new_mtime_skips_and_refreshes_the_stat() -> None:
    decision = decide(stored(), obs(mtime_ns=2000), NO_ENRICHERS)
    assert decision.action == Action.SKIP
    assert decision.refresh_stat
    assert not decision.content_changed


def test_changed_content_updates() -> None:
    decision = decide(stored(), obs(sha=SHA_B, size=101, mtime_ns=2000), NO_ENRICHERS)
    assert decision.action == Action.UPDATE
    assert decision.content_changed and not decision.enricher_changed
    assert "sha256" in decision.reason


def test_changed_enrichers_alone_update() -> None:
    decision = decide(stored(), obs(), WITH_FFPROBE)
    assert decision.action == Action.UPDATE
    assert decision.enricher_changed and not decision.content_changed
    assert "enricher" in decision.reason


def test_both_changed_update_with_both_reasons() -> None:
    decision = decide(stored(), obs(sha=SHA_B, mtime_ns=5), WITH_FFPROBE)
    assert decision.action == Action.UPDATE
    assert decision.content_changed and decision.enricher_changed
    assert "content" in decision.reason and "enricher" in decision.reason


def test_stat_only_catalog_detects_change_by_stat() -> None:
    decision = decide(stored(sha=None), obs(sha=None, mtime_ns=2000), NO_ENRICHERS)
    assert decision.action == Action.UPDATE
    assert "size or mtime" in decision.reason
    assert decide(stored(sha=None), obs(sha=None), NO_ENRICHERS).action == Action.SKIP


def test_a_deleted_asset_comes_back_as_an_update() -> None:
    asset = stored()
    mark_deleted(asset, NOW)
    decision = decide(asset, obs(), NO_ENRICHERS)
    assert decision.action == Action.UPDATE
    assert decision.restored


@pytest.mark.parametrize("start", [AssetState.NEW, AssetState.ENRICHING, AssetState.READY])
def test_applying_an_update_never_leaves_ready(start: AssetState) -> None:
    asset = stored()
    if start != AssetState.NEW:
        set_state(asset, AssetState.ENRICHING, NOW)
    if start == AssetState.READY:
        set_state(asset, AssetState.READY, NOW)
        asset.approved_for_broadcast = True
    update_asset(asset, obs(sha=SHA_B), NO_ENRICHERS, LATER)
    assert asset.state == AssetState.NEW
    assert not asset.approved_for_broadcast
    assert asset.updated_at == LATER
    assert asset.sha256 == SHA_B


def test_refresh_stat_keeps_state_and_updated_at() -> None:
    asset = stored()
    set_state(asset, AssetState.ENRICHING, NOW)
    set_state(asset, AssetState.READY, NOW)
    before = asset.updated_at
    refresh_stat(asset, obs(mtime_ns=2000))
    assert asset.mtime_ns == 2000
    assert asset.state == AssetState.READY
    assert asset.updated_at == before


def test_a_different_hash_wins_over_an_equal_stat() -> None:
    """Rewritten within the mtime granularity, same size: the hash says it changed."""
    decision = decide(stored(), obs(sha=SHA_B), NO_ENRICHERS)
    assert decision.action == Action.UPDATE
    assert decision.content_changed


def test_unchanged_shortcut_agrees_with_decide() -> None:
    from consumer.domain.decisions import unchanged

    asset = stored()
    assert unchanged(asset.size, asset.mtime_ns, 100, 1000, is_deleted=False, enrichers_same=True)
    assert not unchanged(
        asset.size, asset.mtime_ns, 100, 1000, is_deleted=True, enrichers_same=True
    )
    assert not unchanged(
        asset.size, asset.mtime_ns, 100, 1000, is_deleted=False, enrichers_same=False
    )
    assert not unchanged(
        asset.size, asset.mtime_ns, 100, 1001, is_deleted=False, enrichers_same=True
    )
    assert decide(asset, obs(sha=None), NO_ENRICHERS).action == Action.SKIP


# --- decide_gone: a file no longer at its key --------------------------------------------------


def seen_at(when: datetime | None, sha: str | None = SHA_A, key: str = "Show/e01.mkv") -> Asset:
    """A cataloged asset whose last event was observed at `when`."""
    observation = obs(sha)
    observation.canonical_key = key
    observation.observed_at = when
    return create_asset("col", observation, NO_ENRICHERS, NOW)


def test_gone_of_a_file_never_cataloged_skips() -> None:
    decision = decide_gone(None, NOW, "file deleted")
    assert decision.action == Action.SKIP and not decision.stale
    assert "never cataloged" in decision.reason


def test_gone_older_than_the_last_event_is_stale() -> None:
    decision = decide_gone(seen_at(LATER), NOW, "file deleted")
    assert decision.action == Action.SKIP and decision.stale


def test_gone_of_an_already_deleted_asset_skips() -> None:
    asset = seen_at(NOW)
    mark_deleted(asset, NOW)
    decision = decide_gone(asset, LATER, "file deleted")
    assert decision.action == Action.SKIP and not decision.stale
    assert decision.reason == "already deleted"


def test_a_stale_gone_of_a_deleted_asset_counts_as_stale() -> None:
    asset = seen_at(LATER)
    mark_deleted(asset, LATER)
    assert decide_gone(asset, NOW, "file deleted").stale


@pytest.mark.parametrize(
    ("last_event_at", "observed_at"),
    [(NOW, LATER), (NOW, NOW), (None, NOW), (LATER, None)],
    ids=["newer", "same-instant", "asset-never-timed", "event-untimed"],
)
def test_gone_of_a_live_asset_deletes_with_the_given_reason(
    last_event_at: datetime | None, observed_at: datetime | None
) -> None:
    decision = decide_gone(seen_at(last_event_at), observed_at, "moved to /elsewhere")
    assert decision.action == Action.DELETE and not decision.stale
    assert decision.reason == "moved to /elsewhere"


# --- decide_move: a file moved inside one collection --------------------------------------------


def moved_obs(sha: str | None = SHA_A, observed_at: datetime | None = LATER) -> FileFacts:
    return FileFacts(
        "Show/Season 1/e01.mkv",
        "/m/Show/Season 1/e01.mkv",
        size=100,
        mtime_ns=1000,
        sha256=sha,
        xxh128=None if sha is None else "c" * 32,
        observed_at=observed_at,
    )


def test_a_clean_move_moves() -> None:
    assert decide_move(seen_at(NOW), None, moved_obs()) == MoveVerdict.MOVE


@pytest.mark.parametrize(
    ("stored_sha", "observed_sha"),
    [(None, SHA_A), (SHA_A, None), (None, None)],
    ids=["origin-unhashed", "move-unhashed", "neither-hashed"],
)
def test_a_move_with_one_side_unhashed_is_clean(
    stored_sha: str | None, observed_sha: str | None
) -> None:
    verdict = decide_move(seen_at(NOW, stored_sha), None, moved_obs(observed_sha))
    assert verdict == MoveVerdict.MOVE


def test_a_move_older_than_the_origins_last_event_is_stale() -> None:
    assert decide_move(seen_at(LATER), None, moved_obs(observed_at=NOW)) == MoveVerdict.STALE


def test_a_move_from_an_unknown_origin_splits() -> None:
    assert decide_move(None, None, moved_obs()) == MoveVerdict.SPLIT


def test_a_move_from_a_deleted_origin_splits() -> None:
    origin = seen_at(NOW)
    mark_deleted(origin, NOW)
    assert decide_move(origin, None, moved_obs()) == MoveVerdict.SPLIT


def test_a_move_onto_an_occupied_key_splits() -> None:
    occupant = seen_at(NOW, SHA_B, key="Show/Season 1/e01.mkv")
    assert decide_move(seen_at(NOW), occupant, moved_obs()) == MoveVerdict.SPLIT


def test_a_move_onto_a_soft_deleted_asset_splits() -> None:
    occupant = seen_at(NOW, SHA_A, key="Show/Season 1/e01.mkv")
    mark_deleted(occupant, NOW)
    assert decide_move(seen_at(NOW), occupant, moved_obs()) == MoveVerdict.SPLIT


def test_a_move_with_other_content_splits() -> None:
    assert decide_move(seen_at(NOW, SHA_A), None, moved_obs(SHA_B)) == MoveVerdict.SPLIT


def test_a_split_is_not_reported_stale() -> None:
    """Not a clean move: the split's own decisions (gone, present) judge staleness per key."""
    verdict = decide_move(seen_at(LATER, SHA_A), None, moved_obs(SHA_B, observed_at=NOW))
    assert verdict == MoveVerdict.SPLIT
