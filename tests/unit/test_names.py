"""What the `filename` enricher reads in a canonical key (consumer.domain.names): tags, several
episodes, air dates, editions, and a collection's forced type winning over guessit."""

from __future__ import annotations

from datetime import date

import pytest

from consumer.domain.names import air_date, clean_stem, describe, episode_list, id_tags


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("Show.S01E01E02.720p.mkv", (1, [1, 2])),
        ("Show - S01E01-E03.mkv", (1, [1, 2, 3])),
        ("Show.S01E01-03.mkv", (1, [1, 2, 3])),
        ("Show S02E05 E06 E07.mkv", (2, [5, 6, 7])),
        ("Show - 1x01-1x02.mkv", (1, [1, 2])),
        ("Show.S01E01.2160p.mkv", (1, [1])),
        ("Show.S01E01-2160p.mkv", (1, [1])),  # a resolution is no episode range
        ("Show - S03E04 - Title.mkv", (3, [4])),
        ("Show - 2x05.mkv", (2, [5])),
        ("Show - Episode 7.mkv", (None, [7])),
        ("Movie (2001).mkv", (None, [])),
    ],
)
def test_episode_lists(filename: str, expected: tuple[int | None, list[int]]) -> None:
    assert episode_list(filename) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Show 2024-03-15.mkv", date(2024, 3, 15)),
        ("The.Daily.Show.2024.03.15.720p.mkv", date(2024, 3, 15)),
        ("Show 2023-02-30 2023-03-01.mkv", date(2023, 3, 1)),  # no 30 February
        ("Movie (2001).mkv", None),
        ("Show 2024-13-01.mkv", None),
    ],
)
def test_air_dates(name: str, expected: date | None) -> None:
    assert air_date(name) == expected


def test_id_tags_of_plex_and_jellyfin_and_bad_values_ignored() -> None:
    assert id_tags("Alien (1979) {imdb-tt0078748} {tmdb-348}") == {
        "imdb": "tt0078748",
        "tmdb": "348",
    }
    assert id_tags("Lost (2004) [tvdbid-73739] [imdbid-tt0411008]") == {
        "tvdb": "73739",
        "imdb": "tt0411008",
    }
    assert id_tags("Film {imdb-notanid} {tmdb-12a}") == {}


def test_a_clean_stem_drops_extension_tags_and_separators() -> None:
    assert clean_stem("Coke_Spot.1999 {tmdb-1}.mp4") == "Coke Spot 1999"
    assert clean_stem("Station ID  - Night.mov") == "Station ID - Night"


def test_a_plex_movie_with_edition_and_folder_ids() -> None:
    key = "Alien (1979) {imdb-tt0078748}/Alien (1979) {edition-Director's Cut}.mkv"
    assert describe(key) == {
        "title": "Alien",
        "year": 1979,
        "type": "movie",
        "edition": "Director's Cut",
        "imdb_id": "tt0078748",
    }


def test_a_movie_at_the_root_with_a_jellyfin_id() -> None:
    assert describe("Avatar (2009) [tmdbid-19995].mkv") == {
        "title": "Avatar",
        "year": 2009,
        "type": "movie",
        "tmdb_id": "19995",
    }


def test_a_release_name_gives_guessits_edition() -> None:
    fields = describe("Movie.2010.Extended.1080p.BluRay.x264-GRP.mkv")
    assert (fields["title"], fields["year"], fields["type"]) == ("Movie", 2010, "movie")
    assert fields["edition"] == "Extended"


def test_a_multi_episode_file_keeps_every_episode_and_the_show_ids() -> None:
    key = "The Show (2005) {tvdb-81189}/Season 01/The Show - S01E01-E03 {imdb-tt0606035}.mkv"
    assert describe(key) == {
        "title": "The Show",
        "year": 2005,
        "type": "episode",
        "season": 1,
        "episodes": [1, 2, 3],
        "imdb_id": "tt0606035",  # the file's own tag: this episode
        "show_tvdb_id": "81189",  # the folder's: the show
    }


def test_a_daily_show_has_a_date_and_no_season() -> None:
    assert describe("Show 2024-03-15.mkv") == {
        "title": "Show",
        "type": "episode",
        "date": "2024-03-15",
    }
    nested = describe("The Daily Show/The.Daily.Show.2024.03.15.mkv")
    assert (nested["title"], nested["date"], nested["type"]) == (
        "The Daily Show",
        "2024-03-15",
        "episode",
    )


def test_a_season_folder_alone_makes_an_episode() -> None:
    fields = describe("Some Show/Season 3/Some Show - Episode 7.mkv")
    assert (fields["type"], fields["season"], fields["episodes"]) == ("episode", 3, [7])


def test_guessit_misreads_a_commercial_that_other_corrects() -> None:
    guessed = describe("Coke Ad 1999 1x2.mp4")
    assert guessed["type"] == "episode" and guessed["season"] == 1  # what guessit makes of it
    forced = describe("Coke Ad 1999 1x2.mp4", "other")
    assert forced == {"type": "other", "title": "Coke Ad 1999 1x2"}


def test_other_keeps_the_title_whatever_the_folders_say() -> None:
    assert describe("Bumpers/Season 2/Bumper S02E03.mov", "other") == {
        "type": "other",
        "title": "Bumper S02E03",
    }


def test_a_forced_movie_gets_no_season_episode_or_date() -> None:
    fields = describe("Show.S01E01.2024-03-15.mkv", "movie")
    assert fields["type"] == "movie"
    assert not {"season", "episodes", "date"} & set(fields)


def test_a_forced_episode_stays_an_episode_without_numbers() -> None:
    fields = describe("Some Special (2010).mkv", "episode")
    assert fields["type"] == "episode" and fields["title"] == "Some Special"
