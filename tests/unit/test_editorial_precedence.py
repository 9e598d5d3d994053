"""Issue 13: lower priority runs first and, on an editorial conflict, the earlier enricher wins.
Here with what the two built-in editorial enrichers read: the file name and its nfo."""

from __future__ import annotations

from consumer.domain.enrichment import merge_editorial
from consumer.domain.names import describe
from consumer.domain.sidecars import parse_nfo

KEY = "Alien.1979.1080p.BluRay.x264-GRP.mkv"
NFO = (
    b"<movie><title>Alien: Director's Cut</title><year>1980</year>"
    b'<uniqueid type="imdb">tt0078748</uniqueid></movie>'
)


def test_the_nfo_wins_when_sidecars_run_first() -> None:
    from_name, from_nfo = describe(KEY), parse_nfo(NFO)
    assert from_name["title"] == "Alien" and from_nfo["title"] == "Alien: Director's Cut"
    merged = merge_editorial([("sidecars", from_nfo), ("filename", from_name)])
    assert (merged["title"], merged["year"]) == ("Alien: Director's Cut", 1980)
    # What the earlier one did not say, the later one fills in.
    assert merged["type"] == "movie" and merged["imdb_id"] == "tt0078748"


def test_the_file_name_wins_when_filename_runs_first() -> None:
    merged = merge_editorial([("filename", describe(KEY)), ("sidecars", parse_nfo(NFO))])
    assert (merged["title"], merged["year"]) == ("Alien", 1979)
    assert merged["imdb_id"] == "tt0078748"  # only the nfo knew it
