"""The sidecar rules (consumer.domain.sidecars): subtitles and their languages, which nfo and
artwork belong to a file, and reading Kodi/Jellyfin nfo files safely."""

from __future__ import annotations

import pytest

from consumer.domain.sidecars import (
    Subtitle,
    UnsafeNfoError,
    find_sidecars,
    parse_nfo,
    show_fields,
    subtitle_of,
)

MOVIE = "Movie (2001).mkv"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Movie (2001).srt", Subtitle("Movie (2001).srt", "srt")),
        ("Movie (2001).en.srt", Subtitle("Movie (2001).en.srt", "srt", "en")),
        (
            "Movie (2001).eng.forced.srt",
            Subtitle("Movie (2001).eng.forced.srt", "srt", "eng", forced=True),
        ),
        ("Movie (2001).pt-BR.srt", Subtitle("Movie (2001).pt-BR.srt", "srt", "pt-BR")),
        ("Movie (2001).pt_br.ass", Subtitle("Movie (2001).pt_br.ass", "ass", "pt-BR")),
        ("Movie (2001).zh-hant.srt", Subtitle("Movie (2001).zh-hant.srt", "srt", "zh-Hant")),
        (
            "Movie (2001).sdh.en.default.vtt",
            Subtitle("Movie (2001).sdh.en.default.vtt", "vtt", "en", sdh=True, default=True),
        ),
        ("Movie (2001).English.srt", Subtitle("Movie (2001).English.srt", "srt", "en")),
        ("Movie (2001).fr.cc.SRT", Subtitle("Movie (2001).fr.cc.SRT", "srt", "fr", sdh=True)),
        ("Movie (2001).subtitles.srt", Subtitle("Movie (2001).subtitles.srt", "srt")),
    ],
)
def test_subtitles_of_the_file(name: str, expected: Subtitle) -> None:
    assert subtitle_of(MOVIE, name) == expected


@pytest.mark.parametrize(
    "name",
    ["Movie (2001) Part 2.en.srt", "Other.en.srt", "Movie (2001).nfo", "Movie (2001).en.txt"],
)
def test_what_is_not_a_subtitle_of_the_file(name: str) -> None:
    assert subtitle_of(MOVIE, name) is None


def test_sidecars_of_a_movie_among_its_neighbours() -> None:
    found = find_sidecars(
        MOVIE,
        [
            MOVIE,
            "Movie (2001).en.srt",
            "Movie (2001).nfo",
            "movie.nfo",
            "Movie (2001)-fanart.jpg",
            "fanart.jpg",
            "folder.png",
            "Sequel (2003).en.srt",
            "notes.txt",
        ],
    )
    assert [s.file for s in found.subtitles] == ["Movie (2001).en.srt"]
    assert found.nfo == "Movie (2001).nfo"  # its own beats the folder's movie.nfo
    assert found.show_nfo is None
    # Its own fanart beats the folder's; folder.png is a poster.
    assert found.artwork == {"fanart": "Movie (2001)-fanart.jpg", "poster": "folder.png"}


def test_an_episode_beside_the_show_nfo_and_a_thumb() -> None:
    found = find_sidecars(
        "Show - S01E01.mkv", ["Show - S01E01-thumb.jpg", "tvshow.nfo", "Show - S01E02.nfo"]
    )
    assert found.nfo is None  # S01E02's nfo is not this file's
    assert found.show_nfo == "tvshow.nfo"
    assert found.artwork == {"thumb": "Show - S01E01-thumb.jpg"}


def test_the_folder_nfo_is_used_when_the_file_has_none() -> None:
    assert find_sidecars(MOVIE, ["Sequel (2003).nfo"]).nfo is None
    assert find_sidecars(MOVIE, ["movie.nfo"]).nfo == "movie.nfo"
    assert find_sidecars(MOVIE, ["Movie.NFO"]).nfo == "Movie.NFO"  # Kodi's name, any case


MOVIE_NFO = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<!-- written by Kodi -->
<movie>
    <title>Alien</title>
    <originaltitle>Alien</originaltitle>
    <year>1979</year>
    <uniqueid type="imdb" default="true">tt0078748</uniqueid>
    <uniqueid type="tmdb">348</uniqueid>
</movie>
"""


def test_a_kodi_movie_nfo() -> None:
    assert parse_nfo(MOVIE_NFO) == {
        "nfo_type": "movie",
        "title": "Alien",
        "original_title": "Alien",
        "year": 1979,
        "imdb_id": "tt0078748",
        "tmdb_id": "348",
    }


def test_legacy_id_tags_and_a_year_from_premiered() -> None:
    nfo = b"<movie><title>Heat</title><premiered>1995-12-15</premiered><id>tt0113277</id>"
    nfo += b"<tmdbid>949</tmdbid></movie>"
    assert parse_nfo(nfo) == {
        "nfo_type": "movie",
        "title": "Heat",
        "year": 1995,
        "imdb_id": "tt0113277",
        "tmdb_id": "949",
    }
    assert parse_nfo(b"<movie><imdbid>tt0113277</imdbid></movie>")["imdb_id"] == "tt0113277"


def test_a_multi_episode_nfo_names_the_show_and_every_episode() -> None:
    nfo = b"""<episodedetails><title>Pilot (1)</title><showtitle>The Show</showtitle>
      <season>1</season><episode>1</episode><aired>2005-01-02</aired>
      <uniqueid type="tvdb" default="true">307473</uniqueid></episodedetails>
    <episodedetails><title>Pilot (2)</title><season>1</season><episode>2</episode>
    </episodedetails>"""
    assert parse_nfo(nfo) == {
        "nfo_type": "episode",
        "title": "The Show",
        "episode_title": "Pilot (1)",
        "year": 2005,
        "season": 1,
        "episodes": [1, 2],
        "date": "2005-01-02",
        "tvdb_id": "307473",
    }


def test_a_show_nfo_gives_the_show_title_and_show_ids() -> None:
    show = parse_nfo(b'<tvshow><title>Lost</title><uniqueid type="tvdb">73739</uniqueid></tvshow>')
    assert show["nfo_type"] == "show"
    assert show_fields(show) == {"title": "Lost", "show_tvdb_id": "73739"}


def test_a_scraper_url_alone_or_after_the_xml() -> None:
    assert parse_nfo(b"https://www.imdb.com/title/tt0111161/\n") == {"imdb_id": "tt0111161"}
    mixed = parse_nfo(MOVIE_NFO + b"https://www.themoviedb.org/movie/348-alien\n")
    assert (mixed["title"], mixed["tmdb_id"], mixed["imdb_id"]) == ("Alien", "348", "tt0078748")


def test_other_encodings_are_read() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><movie><title>Amélie</title></movie>'
    assert parse_nfo(text.encode("utf-16"))["title"] == "Amélie"
    assert parse_nfo("<movie><title>Amélie</title></movie>".encode("latin-1"))["title"] == (
        "Amélie"
    )


@pytest.mark.parametrize(
    "data",
    [
        # billion laughs: entities expanding to entities
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><movie><title>&lol2;</title></movie>',
        # an external entity reading a local file
        b'<!DOCTYPE movie [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<movie><title>&xxe;</title></movie>",
        "<!doctype movie><movie><title>x</title></movie>".encode("utf-16"),
    ],
)
def test_document_types_and_entities_are_refused(data: bytes) -> None:
    with pytest.raises(UnsafeNfoError):
        parse_nfo(data)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"<movie><title>unclosed</movie>", "not well-formed"),
        (b"<album><title>x</title></album>", "unknown root element"),
        (b"just some release notes", "neither XML nor a scraper URL"),
        (b"<movie>" + b" " * (1 << 20) + b"</movie>", "larger than"),
    ],
)
def test_what_is_no_nfo_says_why(data: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_nfo(data)
