"""Media items, the pure rules: safe names, which item an asset belongs to, finding an item by
its key (a wanted one too), progress, activity and the gaps of a season."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consumer.domain.assets import FileFacts
from consumer.domain.errors import OperationError
from consumer.domain.media_info import media_metadata, parse
from consumer.domain.media_items import (
    ItemKey,
    MediaItem,
    MediaProgress,
    adopts,
    asset_category,
    episode_gaps,
    is_active,
    key_of_asset,
    new_item,
    progress_of,
    requested_key,
    resolve,
    safe_name,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Firefly", "firefly"),
        ("The Office (US)", "the-office-us"),
        ("Schindler's List", "schindler-s-list"),
        ("  Kill Bill - Vol. 1 ", "kill-bill-vol-1"),
        ("Amélie", "amélie"),
        ("\uff26\uff29\uff32\uff25\uff26\uff2c\uff39", "firefly"),  # full-width: NFKC
        ("!!!", "!!!"),  # nothing but punctuation still has a key
    ],
)
def test_safe_names(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def path_key(canonical_key: str, **collection: object) -> ItemKey | None:
    return key_of_asset(canonical_key, parse(canonical_key).as_dict(), **collection)  # type: ignore[arg-type]


def test_an_episode_belongs_to_its_season() -> None:
    key = path_key("TV Shows/Firefly/Season 01/Firefly - S01E02.mkv")
    assert key == ItemKey("tv", "firefly", 1, None, "Firefly")
    assert key is not None and key.name == "Firefly" and key.identity == "tv:firefly:1:"


def test_a_film_belongs_to_its_title_and_year() -> None:
    key = path_key("Movies/Alien (1979)/Alien (1979).mkv")
    assert key == ItemKey("movie", "alien", None, 1979, "Alien")
    assert key is not None and key.identity == "movie:alien::1979"
    assert path_key("Dune.2021.1080p.BluRay.x264.mkv") == ItemKey("movie", "dune", None, 2021, "")


def test_the_name_is_not_identity() -> None:
    assert ItemKey("tv", "firefly", 1, None, "Firefly") == ItemKey("tv", "firefly", 1, None, "x")


def test_no_item_for_music_commercials_or_audio_only_collections() -> None:
    assert path_key("Music/Artist/Album/01 - Song.flac") is None
    assert path_key("Ads/Coke 1999.mkv", collection_media_type="other") is None
    assert path_key("Radio/Show (2001)/show.mkv", audio_only=True) is None
    # An editorial enricher that says `other` takes the file out of any item.
    assert key_of_asset("x.mkv", {"title": "Ident", "type": "other"}) is None


def test_a_forced_type_wins_over_the_layout() -> None:
    fields = media_metadata_for("Alien (1979)/Season 01/Alien - S01E01.mkv")
    assert key_of_asset("k.mkv", fields, collection_media_type="movie") == ItemKey(
        "movie", "alien", None, 1979, "Alien"
    )
    assert key_of_asset("k.mkv", {"title": "Alien"}, collection_media_type="episode") is None


def media_metadata_for(key: str) -> dict[str, object]:
    return media_metadata(FileFacts(key, "/x/" + key, 1, 1))


def test_an_episode_without_a_season_has_no_item() -> None:
    assert key_of_asset("Show - E05.mkv", {"title": "Show", "episode": 5}) is None
    assert key_of_asset("x.mkv", {"title": "Show", "type": "episode"}) is None


def test_editorial_fields_name_the_item() -> None:
    fields = {"title": "Alien: Director's Cut", "year": 1980, "type": "movie"}
    assert key_of_asset("Alien.1979.mkv", fields) == ItemKey(
        "movie", "alien-director-s-cut", None, 1980, "Alien: Director's Cut"
    )
    episode = {"title": "Lost", "type": "episode", "season": 1, "episodes": [1, 2]}
    assert key_of_asset("x.mkv", episode) == ItemKey("tv", "lost", 1, None, "Lost")


def item(kind: str, name: str, *, season: int | None = None, year: int | None = None) -> MediaItem:
    key = ItemKey("tv" if kind == "tv" else "movie", safe_name(name), season, year, name)
    return new_item("col", key, NOW)


def test_resolve_prefers_the_same_year() -> None:
    old, new = item("movie", "Dune", year=1984), item("movie", "Dune", year=2021)
    assert resolve(ItemKey("movie", "dune", None, 2021, "Dune"), [old, new]) is new
    assert resolve(ItemKey("movie", "dune", None, 1984, "Dune"), [old, new]) is old
    assert resolve(ItemKey("movie", "dune", None, 2000, "Dune"), [old, new]) is None


def test_a_file_without_a_year_finds_the_only_item_of_its_name() -> None:
    alien = item("movie", "Alien", year=1979)
    assert resolve(ItemKey("movie", "alien", None, None, "Alien"), [alien]) is alien
    two = [item("movie", "Dune", year=1984), item("movie", "Dune", year=2021)]
    assert resolve(ItemKey("movie", "dune", None, None, "Dune"), two) is None


def test_a_wanted_yearless_item_is_found_and_learns_its_year() -> None:
    wanted = item("movie", "Alien")
    key = ItemKey("movie", "alien", None, 1979, "Alien")
    assert resolve(key, [wanted]) is wanted and adopts(wanted, key)
    assert not adopts(item("movie", "Alien", year=1979), key)


def test_a_season_is_its_own_item() -> None:
    s1, s2 = item("tv", "Firefly", season=1), item("tv", "Firefly", season=2)
    assert resolve(ItemKey("tv", "firefly", 2, None, "Firefly"), [s1, s2]) is s2
    assert resolve(ItemKey("tv", "firefly", 3, None, "Firefly"), [s1, s2]) is None
    assert resolve(ItemKey("movie", "firefly", None, None, "Firefly"), [s1, s2]) is None


@pytest.mark.parametrize(
    ("state", "approved", "deleted", "job", "expected"),
    [
        ("new", False, False, None, "new"),
        ("new", False, False, "pending", "new"),
        ("enriching", False, False, "in_progress", "enriching"),
        ("ready", False, False, "completed", "ready"),
        ("ready", True, False, "completed", "approved"),
        ("new", False, False, "failed", "failed"),
        ("new", False, False, "completed", "failed"),  # quality control refused it
        ("ready", False, True, "completed", "deleted"),
        ("retired", False, False, None, "deleted"),
    ],
)
def test_asset_categories(
    state: str, approved: bool, deleted: bool, job: str | None, expected: str
) -> None:
    assert asset_category(state, approved, deleted, job) == expected


def test_progress_counts_every_live_asset_once() -> None:
    progress = progress_of(["new", "ready", "approved", "approved", "failed", "deleted"])
    assert progress == MediaProgress(
        total=5, new=1, ready=1, approved=2, failed=1, deleted=1, enriching=0
    )
    assert progress.fraction_done == pytest.approx(0.4)
    assert not progress.waiting_for_files
    empty = progress_of(["deleted"])
    assert empty.waiting_for_files and empty.fraction_done == 0.0


def test_activity() -> None:
    done = MediaProgress(total=2, approved=2)
    old = NOW - timedelta(days=3)
    assert not is_active(done, open_jobs=0, last_change=old, now=NOW)
    assert is_active(done, open_jobs=0, last_change=NOW - timedelta(hours=1), now=NOW)
    assert is_active(done, open_jobs=1, last_change=old, now=NOW)
    assert is_active(
        MediaProgress(total=2, approved=1, ready=1), open_jobs=0, last_change=old, now=NOW
    )
    assert is_active(MediaProgress(), open_jobs=0, last_change=old, now=NOW)  # waiting for files
    assert not is_active(
        done, open_jobs=0, last_change=NOW - timedelta(hours=1), now=NOW, recent=timedelta(0)
    )


@pytest.mark.parametrize(
    ("numbers", "gaps"),
    [
        ([1, 2, 4], [3]),
        ([3], [1, 2]),
        ([], []),
        ([0, 1, 2], []),
        ([2, 2, 5], [1, 3, 4]),
    ],
)
def test_episode_gaps(numbers: list[int], gaps: list[int]) -> None:
    assert episode_gaps(numbers) == gaps


@pytest.mark.parametrize(
    ("kwargs", "case"),
    [
        ({"media_type": "show", "name": "X"}, "media_type"),
        ({"media_type": "tv", "name": "  "}, "name_missing"),
        ({"media_type": "tv", "name": "Firefly"}, "season_required"),
        ({"media_type": "movie", "name": "Alien", "season": 1}, "season_for_movie"),
        ({"media_type": "tv", "name": "Firefly", "season": -1}, "bad_season"),
        ({"media_type": "movie", "name": "Alien", "year": 79}, "bad_year"),
    ],
)
def test_what_an_operator_may_not_ask_for(kwargs: dict[str, object], case: str) -> None:
    with pytest.raises(OperationError) as raised:
        requested_key(**kwargs)  # type: ignore[arg-type]
    assert (raised.value.error_code, raised.value.case) == ("invalid_media_item", case)


def test_what_an_operator_asks_for() -> None:
    assert requested_key("tv", " Firefly ", season=1) == ItemKey("tv", "firefly", 1, None, "")
    key = requested_key("movie", "Alien", year=1979)
    assert key.name == "Alien" and key.year == 1979
