"""Title, season and episode from a path (issue 3 item 2: parsed from the path relative to the
root, guessit for the names that need it)."""

from __future__ import annotations

import pytest

from consumer.domain.media_info import MediaInfo, canonical_name, parse, title_of_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("The Godfather (1972)", ("The Godfather", 1972)),
        ("Fargo (2014) {tmdb-60622}", ("Fargo", 2014)),
        ("Avatar (2009) {edition-Extended Cut}", ("Avatar", 2009)),
        ("Amélie (2001) [tmdbid-194]", ("Amélie", 2001)),
        ("Movie (2001).mkv", ("Movie", 2001)),
        # Issue 17 item 10: a title's own dots and dashes are the title's, as Plex reads them.
        ("Mr. Robot (2015)", ("Mr. Robot", 2015)),
        ("Star Wars Episode IV - A New Hope (1977)", ("Star Wars Episode IV - A New Hope", 1977)),
        # guessit would cut these to "Back to the Future" and "Harry Potter and the Deathly
        # Hallows": the folder says which film it is.
        ("Back to the Future Part III (1990)", ("Back to the Future Part III", 1990)),
        (
            "Harry Potter and the Deathly Hallows Part 2 (2011)",
            (
                "Harry Potter and the Deathly Hallows Part 2",
                2011,
            ),
        ),
    ],
)
def test_plex_canonical_names_are_read_as_written(name: str, expected: tuple[str, int]) -> None:
    assert canonical_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "Mr.Robot (2015)",  # words joined by dots: a release-style name
        "The.Expanse.2015.1080p.BluRay.x264-GROUP",
        "Show S01E02 (2001)",  # an episode pattern of its own
        "The Office (US)",  # no year
        "Breaking Bad",
        " (2001)",  # no title at all
        "Movie (1492)",  # not a film year
    ],
)
def test_other_names_are_left_to_guessit(name: str) -> None:
    assert canonical_name(name) is None


def test_guessit_still_parses_release_names() -> None:
    assert title_of_name("The.Expanse.S01E02.720p.HDTV.x264-KILLERS.mkv") == "The Expanse"
    assert title_of_name("The Office (US)") == "The Office (US)"  # issue 17 item 10
    assert parse("Mr.Robot.S02E03.1080p.WEB.mkv") == MediaInfo("Mr Robot", 2, 3)


def test_a_movie_folder_gives_title_and_year() -> None:
    assert parse("Back to the Future Part III (1990)/Back to the Future Part III (1990).mkv") == (
        MediaInfo("Back to the Future Part III", None, None, 1990)
    )


def test_a_show_folder_gives_title_year_season_and_episode() -> None:
    assert parse("The Show (2005)/Season 01/The Show - S01E02 - Pilot.mkv") == MediaInfo(
        "The Show",
        1,
        2,
        2005,
        episode_title="Pilot",  # issue 17 item 10: episode titles kept
    )
    assert parse("Doctor Who (2005)/Specials/Doctor Who - S00E01.mkv") == MediaInfo(
        "Doctor Who", 0, 1, 2005
    )
    assert parse("Some Show/Season 3/Some Show - Episode 7.mkv") == MediaInfo("Some Show", 3, 7)
