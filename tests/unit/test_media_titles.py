"""What a file's path says of its title (issue 17 item 10): the title folder at any depth under
the root, plain names read as written, music never titled by its folders, editions and episode
titles kept; and what `--title` matches."""

from __future__ import annotations

from typing import Any

import pytest

from consumer.domain import media_info
from consumer.domain.media_info import TitleQuery, parse

LIBRARY: list[tuple[str, dict[str, Any]]] = [
    # Films: the `Title (Year)` folder, wherever it sits.
    ("Movies/The Matrix (1999)/The Matrix (1999).mkv", {"title": "The Matrix", "year": 1999}),
    (
        "Movies/2001 - A Space Odyssey (1968)/2001 - A Space Odyssey (1968).mkv",
        {"title": "2001 - A Space Odyssey", "year": 1968},
    ),
    (
        "Movies/Kill Bill - Vol. 1 (2003)/Kill Bill - Vol. 1 (2003).mkv",
        {"title": "Kill Bill - Vol. 1", "year": 2003},
    ),
    (
        "Movies/Blade Runner (1982) {edition-Final Cut}/"
        "Blade Runner (1982) {edition-Final Cut}.mkv",
        {"title": "Blade Runner", "year": 1982, "edition": "Final Cut"},
    ),
    (
        "Movies/Avatar (2009)/Avatar (2009) {edition-Director's Cut}.mkv",
        {"title": "Avatar", "year": 2009, "edition": "Director's Cut"},
    ),
    (  # Jellyfin's versions: `Title (Year) - Label`
        "Movies/Avatar (2009)/Avatar (2009) - Extended Cut.mkv",
        {"title": "Avatar", "year": 2009, "edition": "Extended Cut"},
    ),
    (  # an extra beneath the film's folder is the film's
        "Films/Sci-Fi/Alien (1979) {imdb-tt0078748}/Featurettes/Making of.mkv",
        {"title": "Alien", "year": 1979},
    ),
    ("Alien (1979).mkv", {"title": "Alien", "year": 1979}),
    # Shows: the folder above the season folder, read as written.
    (
        "TV Shows/The Office (US)/Season 02/The Office (US) - S02E01 - The Dundies.mkv",
        {"title": "The Office (US)", "season": 2, "episode": 1, "episode_title": "The Dundies"},
    ),
    (
        "TV Shows/Firefly/Season 1/Firefly - S01E01.mkv",
        {"title": "Firefly", "season": 1, "episode": 1},
    ),
    (
        "TV/Doctor Who (2005)/Specials/Doctor Who - S00E01 - The Christmas Invasion [1080p].mkv",
        {
            "title": "Doctor Who",
            "season": 0,
            "episode": 1,
            "year": 2005,
            "episode_title": "The Christmas Invasion",
        },
    ),
    ("Show 001/Season 03/Show 001 - S03E004.mkv", {"title": "Show 001", "season": 3, "episode": 4}),
    (  # a release-named show folder is parsed
        "TV Shows/The.Expanse.S01-S03.1080p/Season 1/The.Expanse.S01E02.720p.HDTV.mkv",
        {"title": "The Expanse", "season": 1, "episode": 2},
    ),
    # No title folder: the file's own name.
    ("Some.Movie.2010.1080p.mkv", {"title": "Some Movie", "year": 2010}),
    ("Movies/Some.Movie.2010.1080p.mkv", {"title": "Some Movie", "year": 2010}),
    (
        "Firefly - S01E02 - The Train Job.mkv",
        {"title": "Firefly", "season": 1, "episode": 2, "episode_title": "The Train Job"},
    ),
    (
        "Downloads/The.Office.US.S02E01.720p.mkv",
        {"title": "The Office (US)", "season": 2, "episode": 1},
    ),
    ("Season 01/Firefly - S01E03.mkv", {"title": "Firefly", "season": 1, "episode": 3}),
    ("Home Videos/birthday party.mp4", {"title": "birthday party"}),
    # Music: the track's own name, never the artist's or the album's folder.
    ("Music/Artist/Album/01 - Song.flac", {"title": "Song"}),
    ("Music/Some Artist/Some Album/1-07 Another Song.mp3", {"title": "Another Song"}),
    ("Music/Artist/Album/Interlude.ogg", {"title": "Interlude"}),
]


@pytest.mark.parametrize(("key", "expected"), LIBRARY, ids=[k for k, _ in LIBRARY])
def test_the_title_is_the_title_folder_or_the_files_own_name(
    key: str, expected: dict[str, Any]
) -> None:
    assert parse(key).as_dict() == expected


def test_existing_metadata_keys_keep_their_order_and_meaning() -> None:
    """New keys come after the old ones: stored `tech_metadata` of old names is unchanged."""
    info = parse("The Show (2005)/Season 01/The Show - S01E02 - Pilot.mkv")
    assert list(info.as_dict()) == ["title", "season", "episode", "year", "episode_title"]
    assert parse("The Show (2005)/Season 01/The Show - S01E02.mkv").as_dict() == {
        "title": "The Show",
        "season": 1,
        "episode": 2,
        "year": 2005,
    }


def test_plain_names_never_pay_for_guessit() -> None:
    """A 20,000-file library of plain names is read with regular expressions only."""
    media_info._guess.cache_clear()
    for show in range(100):
        for episode in range(1, 21):
            parse(f"TV Shows/Show {show:03d}/Season 01/Show {show:03d} - S01E{episode:02d}.mkv")
            parse(f"Movies/Film {show:03d} (2001)/Film {show:03d} (2001) - Cut {episode}.mkv")
            parse(f"Music/Artist {show}/Album/{episode:02d} - Track {show}-{episode}.flac")
            parse(f"Clips/clip {show} {episode}.mp4")
    assert media_info._guess.cache_info().misses == 0


@pytest.mark.parametrize(
    ("wanted", "title", "year", "expected"),
    [
        ("The Matrix", "The Matrix", 1999, True),
        ("the matrix", "The Matrix", 1999, True),
        ("the matrix (1999)", "The Matrix", 1999, True),
        ("The Matrix (2003)", "The Matrix", 1999, False),
        ("The Matrix (1999)", "The Matrix", None, True),  # no year known: the title decides
        ("The Matrix Reloaded", "The Matrix", 1999, False),
        ("The Office (US)", "The Office (US)", None, True),
        ("the office (us)", "The Office (US)", None, True),
        ("The Office", "The Office (US)", None, False),
        ("Kill Bill Vol 1", "Kill Bill - Vol. 1", 2003, True),  # punctuation is not compared
        ("AMÉLIE", "Amélie", 2001, True),
        ("Movies", None, None, False),
    ],
)
def test_title_query_matches_case_insensitively_with_or_without_year(
    wanted: str, title: str | None, year: int | None, expected: bool
) -> None:
    assert TitleQuery.of(wanted).matches(title, year) is expected


@pytest.mark.parametrize(
    ("wanted", "name", "expected"),
    [
        ("Some Movie", "Some.Movie.2010.1080p.mkv", True),
        ("Some Movie (2010)", "Some.Movie.2010.1080p.mkv", True),
        ("The Office (US)", "The.Office.US.S02E01.mkv", True),
        ("The Matrix", "Some.Movie.2010.1080p.mkv", False),
        ("Song", "01 - Song.flac", True),
    ],
)
def test_a_name_without_the_titles_words_is_never_parsed(
    wanted: str, name: str, expected: bool
) -> None:
    query = TitleQuery.of(wanted)
    assert query.may_name(name) is expected
    if expected:  # the cheap test never rejects a name that holds the title
        assert query.matches_info(parse(name))
