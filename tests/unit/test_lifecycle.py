"""The lifecycle state machine (seed 001 milestone 4: never created ready; updates leave ready)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumer.domain.assets import (
    Asset,
    FileFacts,
    approve,
    create_asset,
    mark_deleted,
    set_state,
    update_asset,
)
from consumer.domain.lifecycle import (
    INITIAL_STATES,
    TRANSITIONS,
    AssetState,
    IllegalTransitionError,
    can_transition,
    check_initial,
    state_after_update,
    transition,
)
from consumer.domain.signatures import enricher_checksum

NOW = datetime(2026, 11, 22, tzinfo=UTC)
CHECKSUM = enricher_checksum([])


def file_facts(sha: str = "a" * 64, mtime_ns: int = 1) -> FileFacts:
    return FileFacts("k.mkv", "/m/k.mkv", size=3, mtime_ns=mtime_ns, sha256=sha, xxh128="c" * 32)


def ready_and_approved() -> Asset:
    asset = create_asset("col", file_facts(), CHECKSUM, NOW)
    set_state(asset, AssetState.ENRICHING, NOW)
    set_state(asset, AssetState.READY, NOW)
    approve(asset, NOW)
    return asset


def test_no_initial_state_is_ready() -> None:
    assert AssetState.READY not in INITIAL_STATES
    with pytest.raises(IllegalTransitionError):
        check_initial(AssetState.READY)


def test_nothing_transitions_into_ready_except_from_enriching() -> None:
    sources = [s for s, targets in TRANSITIONS.items() if AssetState.READY in targets]
    assert sources == [AssetState.ENRICHING]


@given(st.sampled_from(list(AssetState)), st.sampled_from(list(AssetState)))
def test_transition_agrees_with_the_table(current: AssetState, target: AssetState) -> None:
    if can_transition(current, target):
        assert transition(current, target) == target
    else:
        with pytest.raises(IllegalTransitionError):
            transition(current, target)


def test_retired_is_terminal() -> None:
    for target in AssetState:
        if target != AssetState.RETIRED:
            assert not can_transition(AssetState.RETIRED, target)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (AssetState.NEW, AssetState.NEW),
        (AssetState.ENRICHING, AssetState.NEW),
        (AssetState.READY, AssetState.NEW),
        (AssetState.RETIRED, AssetState.RETIRED),
    ],
)
def test_state_after_update(before: AssetState, after: AssetState) -> None:
    assert state_after_update(before) == after


def test_created_asset_is_new_and_unapproved() -> None:
    asset = create_asset("col", file_facts(), CHECKSUM, NOW)
    assert asset.state == AssetState.NEW
    assert asset.approved_for_broadcast is False


def test_updating_a_ready_approved_asset_leaves_it_new_and_unapproved() -> None:
    asset = ready_and_approved()
    assert (asset.state, asset.approved_for_broadcast) == (AssetState.READY, True)
    update_asset(asset, file_facts(sha="b" * 64), CHECKSUM, NOW)
    assert asset.state == AssetState.NEW
    assert asset.approved_for_broadcast is False


def test_only_ready_assets_can_be_approved() -> None:
    asset = create_asset("col", file_facts(), CHECKSUM, NOW)
    with pytest.raises(IllegalTransitionError):
        approve(asset, NOW)


def test_deleting_withdraws_approval() -> None:
    asset = ready_and_approved()
    mark_deleted(asset, NOW)
    assert asset.is_deleted
    assert asset.approved_for_broadcast is False


def test_leaving_ready_withdraws_approval() -> None:
    asset = ready_and_approved()
    set_state(asset, AssetState.RETIRED, NOW)
    assert asset.approved_for_broadcast is False
