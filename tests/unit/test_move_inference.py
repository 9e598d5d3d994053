"""The move-inference rule (consumer.domain.move_inference), pure: which soft-deleted asset, if
any, a file observed at a key the catalog does not hold was moved from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from consumer.domain.assets import FileFacts
from consumer.domain.move_inference import (
    DEFAULT_MOVE_WINDOW,
    infer_move,
    inferred_move_reason,
)
from tests.unit.builders import T0

NOW = T0 + timedelta(minutes=1)
SHA = "a" * 64


@dataclass
class Gone:
    uuid: str
    canonical_key: str = "old.mkv"
    sha256: str | None = SHA
    is_deleted: bool = True
    deleted_at: datetime | None = NOW - timedelta(seconds=5)
    last_event_at: datetime | None = T0


def obs(*, sha256: str | None = SHA, at: datetime = T0 + timedelta(seconds=1)) -> FileFacts:
    return FileFacts("new.mkv", "/m/new.mkv", 10, 1, sha256=sha256, observed_at=at)


def test_a_recently_deleted_asset_with_the_same_sha256_is_the_origin() -> None:
    gone = Gone("x")
    assert infer_move(obs(), [gone], now=NOW, window=DEFAULT_MOVE_WINDOW) is gone


def test_the_most_recently_deleted_candidate_wins() -> None:
    older = Gone("older", "a.mkv", deleted_at=NOW - timedelta(minutes=2))
    newer = Gone("newer", "b.mkv", deleted_at=NOW - timedelta(seconds=1))
    assert infer_move(obs(), [newer, older], now=NOW, window=DEFAULT_MOVE_WINDOW) is newer
    assert infer_move(obs(), [older, newer], now=NOW, window=DEFAULT_MOVE_WINDOW) is newer


def test_no_origin_without_the_same_content_or_a_hash() -> None:
    gone = Gone("x")
    assert infer_move(obs(sha256="b" * 64), [gone], now=NOW, window=DEFAULT_MOVE_WINDOW) is None
    assert infer_move(obs(sha256=None), [gone], now=NOW, window=DEFAULT_MOVE_WINDOW) is None
    unhashed = Gone("y", sha256=None)
    assert infer_move(obs(), [unhashed], now=NOW, window=DEFAULT_MOVE_WINDOW) is None


def test_live_assets_are_duplicates_never_origins() -> None:
    live = Gone("live", is_deleted=False, deleted_at=None)
    assert infer_move(obs(), [live], now=NOW, window=DEFAULT_MOVE_WINDOW) is None


def test_outside_the_window_by_either_clock_or_with_the_window_off_nothing_is_inferred() -> None:
    window = timedelta(minutes=10)
    applied_long_ago = Gone("x", deleted_at=NOW - timedelta(minutes=11))
    assert infer_move(obs(), [applied_long_ago], now=NOW, window=window) is None
    observed_long_after = obs(at=T0 + timedelta(minutes=11))
    assert infer_move(observed_long_after, [Gone("y")], now=NOW, window=window) is None
    assert infer_move(obs(), [Gone("z")], now=NOW, window=timedelta(0)) is None


def test_the_stale_guard_holds_an_observation_older_than_the_deletion_is_no_move() -> None:
    gone = Gone("x", last_event_at=T0 + timedelta(seconds=2))
    assert infer_move(obs(), [gone], now=NOW, window=DEFAULT_MOVE_WINDOW) is None


def test_the_same_key_is_the_file_returning_not_a_move() -> None:
    gone = Gone("x", canonical_key="new.mkv")
    assert infer_move(obs(), [gone], now=NOW, window=DEFAULT_MOVE_WINDOW) is None


def test_the_reason_names_the_old_key_and_the_deletion() -> None:
    reason = inferred_move_reason("a/old.mkv", T0)
    assert reason == "moved (inferred): deleted at a/old.mkv 2026-03-01T12:00:00Z, same sha256"
