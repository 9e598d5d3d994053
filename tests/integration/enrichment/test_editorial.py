"""The editorial enrichers on real folders: `sidecars` reading what lies beside a media file,
`filename` reading its key, and the two merged in priority order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from consumer.adapters.enrichers.filename import FilenameEnricher
from consumer.adapters.enrichers.registry import discover
from consumer.adapters.enrichers.sidecars import FolderCache, FolderNames, SidecarsEnricher
from consumer.domain.enrichment import (
    Enriched,
    Enricher,
    EnrichmentFailed,
    EnrichmentInput,
    merge_editorial,
)

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

NFO = b"""<?xml version="1.0" encoding="UTF-8"?>
<movie><title>Alien</title><year>1979</year>
<uniqueid type="imdb" default="true">tt0078748</uniqueid><uniqueid type="tmdb">348</uniqueid>
</movie>"""


def write(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def item(path: Path, root: Path, *, neighbors: tuple[str, ...] = ()) -> EnrichmentInput:
    return EnrichmentInput(
        "asset", str(path), path.relative_to(root).as_posix(), neighbors=neighbors
    )


async def sidecars(path: Path, root: Path, **kwargs: tuple[str, ...]) -> Enriched:
    result = await SidecarsEnricher().enrich(item(path, root, **kwargs))
    assert isinstance(result, Enriched), result
    return result


async def test_a_movie_folder_with_subtitles_nfo_and_artwork(tmp_path: Path) -> None:
    folder = tmp_path / "Alien (1979)"
    write(
        folder,
        {
            "Alien (1979).mkv": b"video",
            "Alien (1979).en.srt": b"1\n",
            "Alien (1979).eng.forced.srt": b"1\n",
            "Alien (1979).pt-BR.sdh.srt": b"1\n",
            "Alien (1979).nfo": NFO,
            "poster.jpg": b"jpg",
            "Alien (1979)-fanart.jpg": b"jpg",
            "Aliens (1986).en.srt": b"another film's",
        },
    )
    (folder / "Subs").mkdir()  # a folder is no sidecar
    result = await sidecars(folder / "Alien (1979).mkv", tmp_path)
    fields = result.fields
    assert (fields["title"], fields["year"], fields["imdb_id"], fields["tmdb_id"]) == (
        "Alien",
        1979,
        "tt0078748",
        "348",
    )
    assert fields["nfo"] == "Alien (1979).nfo"
    assert [(s["language"], s["forced"], s["sdh"]) for s in fields["subtitles"]] == [
        ("en", False, False),
        ("eng", True, False),
        ("pt-BR", False, True),
    ]
    assert (fields["poster"], fields["fanart"]) == ("poster.jpg", "Alien (1979)-fanart.jpg")
    assert "sidecar_problems" not in fields


async def test_an_episode_gets_the_show_nfo_from_the_show_folder(tmp_path: Path) -> None:
    show = tmp_path / "Lost (2004)"
    write(
        show,
        {
            "tvshow.nfo": b'<tvshow><title>Lost</title><uniqueid type="tvdb">73739</uniqueid>'
            b"</tvshow>",
            "Season 01/Lost - S01E01.mkv": b"video",
            "Season 01/Lost - S01E01.nfo": b"<episodedetails><title>Pilot</title>"
            b'<season>1</season><episode>1</episode><uniqueid type="tvdb">127131</uniqueid>'
            b"</episodedetails>",
        },
    )
    fields = (await sidecars(show / "Season 01/Lost - S01E01.mkv", tmp_path)).fields
    assert fields["title"] == "Lost"  # the episode nfo has no showtitle: the show's nfo says
    assert fields["episode_title"] == "Pilot"
    assert (fields["season"], fields["episodes"]) == (1, [1])
    assert (fields["tvdb_id"], fields["show_tvdb_id"]) == ("127131", "73739")


async def test_a_hostile_or_broken_nfo_is_a_problem_recorded_not_a_failure(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "Film.mkv": b"video",
            "Film.nfo": b'<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<movie><title>&x;</title></movie>",
            "Other.mkv": b"video",
            "Other.nfo": b"<movie><title>unclosed</movie>",
        },
    )
    film = (await sidecars(tmp_path / "Film.mkv", tmp_path)).fields
    assert "title" not in film
    assert film["sidecar_problems"] == ["Film.nfo: declares a document type or entities; refused"]
    other = (await sidecars(tmp_path / "Other.mkv", tmp_path)).fields
    assert "not well-formed XML" in other["sidecar_problems"][0]


async def test_neighbours_are_read_as_given_when_the_folder_cannot_be(tmp_path: Path) -> None:
    """The neighbours as the ingestor recorded them (absolute paths, or bare names) still name
    the sidecars when the folder itself cannot be listed right now."""
    gone = tmp_path / "unmounted"
    neighbors = (f"{gone}/Show - S01E01.en.srt", "Show - S01E01.fr.srt", "fanart.jpg")
    fields = (await sidecars(gone / "Show - S01E01.mkv", tmp_path, neighbors=neighbors)).fields
    assert [s["language"] for s in fields["subtitles"]] == ["en", "fr"]
    assert fields["fanart"] == "fanart.jpg"


async def test_an_unreadable_folder_without_neighbours_fails_with_the_reason(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "unmounted" / "Film.mkv"
    result = await SidecarsEnricher().enrich(item(missing, tmp_path))
    assert isinstance(result, EnrichmentFailed)
    assert "unmounted cannot be read" in result.reason


async def test_nothing_beside_the_file_is_a_success_with_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"Bumper.mov": b"video", "Ident.mov": b"video"})
    assert (await sidecars(tmp_path / "Bumper.mov", tmp_path)).fields == {}


def test_a_settled_folder_is_listed_once_and_a_change_is_seen(tmp_path: Path) -> None:
    write(tmp_path, {f"Spot {n:04}.mov": b"v" for n in range(200)})
    old = 1_000_000_000
    os.utime(tmp_path, (old, old))
    cache = FolderCache()
    enricher = SidecarsEnricher(cache)
    for n in range(200):
        result = enricher.read(item(tmp_path / f"Spot {n:04}.mov", tmp_path))
        assert isinstance(result, Enriched) and result.fields == {}
    assert cache.listings == 1
    (tmp_path / "Spot 0007.en.srt").write_bytes(b"1\n")  # the folder's mtime moves on
    result = enricher.read(item(tmp_path / "Spot 0007.mov", tmp_path))
    assert isinstance(result, Enriched)
    assert [s["file"] for s in result.fields["subtitles"]] == ["Spot 0007.en.srt"]
    assert cache.listings == 2


async def test_filename_reads_the_key_and_honours_a_forced_type() -> None:
    enricher = FilenameEnricher()
    assert enricher.available().ok
    key = "Coke Ad 1999 1x2.mp4"
    guessed = await enricher.enrich(EnrichmentInput("a", f"/media/ads/{key}", key))
    assert isinstance(guessed, Enriched) and guessed.tool == "guessit" and guessed.tool_version
    assert guessed.fields["type"] == "episode"
    forced = await enricher.enrich(
        EnrichmentInput("a", f"/media/ads/{key}", key, media_type="other")
    )
    assert isinstance(forced, Enriched)
    assert forced.fields == {"type": "other", "title": "Coke Ad 1999 1x2"}


@pytest.mark.parametrize(
    ("order", "title"), [(("sidecars", "filename"), "Alien"), (("filename", "sidecars"), "Alien 2")]
)
async def test_the_earlier_editorial_enricher_wins(
    tmp_path: Path, order: tuple[str, str], title: str
) -> None:
    """Run in priority order, each seeing what the earlier produced; the earlier one wins."""
    write(tmp_path, {"Alien 2 (1979).mkv": b"video", "Alien 2 (1979).nfo": NFO})
    path = tmp_path / "Alien 2 (1979).mkv"
    enrichers: dict[str, Enricher] = {
        "sidecars": SidecarsEnricher(),
        "filename": FilenameEnricher(),
    }
    produced: list[tuple[str, dict[str, object]]] = []
    for enricher_id in order:
        so_far = merge_editorial(produced)
        result = await enrichers[enricher_id].enrich(
            EnrichmentInput("a", str(path), path.name, so_far=so_far)
        )
        assert isinstance(result, Enriched)
        produced.append((enricher_id, result.fields))
    merged = merge_editorial(produced)
    assert merged["title"] == title
    assert merged["imdb_id"] == "tt0078748" and merged["type"] == "movie"


def test_the_editorial_built_ins_are_registered() -> None:
    found, broken = discover()
    assert broken == []
    assert {found["filename"].kind, found["sidecars"].kind} == {"editorial"}


async def test_a_readable_folder_beats_stale_neighbours(tmp_path: Path) -> None:
    write(tmp_path, {"Film.mkv": b"video", "Film.de.srt": b"1\n"})
    stale = (str(tmp_path / "Film.en.srt"),)  # recorded at ingest, deleted since
    fields = (await sidecars(tmp_path / "Film.mkv", tmp_path, neighbors=stale)).fields
    assert [s["file"] for s in fields["subtitles"]] == ["Film.de.srt"]


async def test_a_fifo_named_like_an_nfo_does_not_hang_the_enricher(tmp_path: Path) -> None:
    write(tmp_path, {"Film.mkv": b"video"})
    os.mkfifo(tmp_path / "Film.nfo")
    result = SidecarsEnricher().read(item(tmp_path / "Film.mkv", tmp_path, neighbors=("Film.nfo",)))
    assert isinstance(result, Enriched)
    assert result.fields == {}  # a FIFO is not listed as a file, so it is not even opened
    # Named only by the neighbours (the folder not listable), it is opened and refused.
    result = SidecarsEnricher(Unlistable()).read(
        item(tmp_path / "Film.mkv", tmp_path, neighbors=("Film.nfo",))
    )
    assert isinstance(result, Enriched)
    assert result.fields["sidecar_problems"] == ["Film.nfo: not a regular file"]


class Unlistable(FolderCache):
    """A folder that can be entered but not listed (permissions `-wx`, as root cannot see)."""

    def names(self, directory: str) -> FolderNames:
        raise PermissionError(13, "Permission denied")
