"""The one neighbour rule (`shared.neighbors`), pure over a directory listing."""

from __future__ import annotations

from shared.neighbors import MAX_NEIGHBORS, find_neighbors, is_folder_metadata

SEASON = [
    "Show - S01E01.mkv",
    "Show - S01E01.en.srt",
    "Show - S01E01.nfo",
    "Show - S01E01-thumb.jpg",
    *(f"Show - S01E{n:02d}.mkv" for n in range(2, 14)),
    "Show - S01E02.en.srt",
    "Show - S01E02.nfo",
    "poster.jpg",
    "fanart.jpg",
    "folder.jpg",
    "banner.jpg",
    "clearlogo.png",
    "season01-poster.jpg",
    "tvshow.nfo",
    "Shows and notes.txt",
]


def test_an_episode_gets_its_own_files_then_the_folders_then_prefix_matches() -> None:
    assert find_neighbors("Show - S01E01.mkv", SEASON) == [
        # its companions: same stem, anything after a separator
        "Show - S01E01-thumb.jpg",
        "Show - S01E01.en.srt",
        "Show - S01E01.nfo",
        # the folder's artwork and metadata
        "banner.jpg",
        "clearlogo.png",
        "fanart.jpg",
        "folder.jpg",
        "poster.jpg",
        "season01-poster.jpg",
        "tvshow.nfo",
    ]


def test_other_episodes_and_their_files_are_never_neighbours() -> None:
    found = find_neighbors("Show - S01E03.mkv", SEASON, limit=50)
    assert not [n for n in found if n.endswith(".mkv")]
    assert "Show - S01E02.en.srt" not in found
    assert "Show - S01E02.nfo" not in found
    assert found[-1] == "Shows and notes.txt"  # a prefix match, last


def test_the_quick_start_episode() -> None:
    siblings = ["Tears of Steel - S01E01.mkv", "Tears of Steel - S01E01.en.srt"]
    assert find_neighbors("Tears of Steel - S01E01.mkv", siblings) == [
        "Tears of Steel - S01E01.en.srt"
    ]


def test_a_film_with_its_sidecars() -> None:
    siblings = ["Alien (1979).mkv", "Alien (1979).srt", "Alien (1979)-fanart.jpg", "movie.nfo"]
    assert find_neighbors("Alien (1979).mkv", siblings) == [
        "Alien (1979)-fanart.jpg",
        "Alien (1979).srt",
        "movie.nfo",
    ]


def test_music_tracks_are_not_each_others_neighbours() -> None:
    siblings = [f"{n:02d} - Song {n}.flac" for n in range(1, 20)]
    siblings += ["cover.jpg", "Tracklist.TXT", "01 - Song 1.lrc", "info.json"]
    assert find_neighbors("01 - Song 1.flac", siblings) == [
        "01 - Song 1.lrc",
        "Tracklist.TXT",
        "cover.jpg",
        "info.json",
    ]


def test_at_most_ten_and_never_itself() -> None:
    siblings = ["a.mkv", *(f"a.{n:02d}.srt" for n in range(30))]
    found = find_neighbors("a.mkv", siblings)
    assert len(found) == MAX_NEIGHBORS
    assert "a.mkv" not in found
    assert found == sorted(found)


def test_prefix_rule_needs_a_stem_longer_than_three() -> None:
    assert find_neighbors("abc.mkv", ["abcd.txt", "abc.srt"]) == ["abc.srt"]
    assert find_neighbors("abcd.mkv", ["abcx.txt", "abd.txt"]) == ["abcx.txt"]


def test_configured_media_extensions_decide_what_is_an_asset() -> None:
    siblings = ["clip.mkv", "clip.srt", "clipper.srt"]
    assert find_neighbors("clip.mkv", siblings, media_extensions=["srt"]) == []
    assert find_neighbors("clip.mkv", siblings, media_extensions=["mkv"]) == [
        "clip.srt",
        "clipper.srt",
    ]


def test_a_subtitle_reported_by_the_watcher_still_gets_its_stem() -> None:
    siblings = ["movie.mkv", "movie.srt", "movie.nfo"]
    assert find_neighbors("movie.srt", siblings) == ["movie.nfo"]


def test_folder_metadata() -> None:
    for name in ("poster.jpg", "Fanart.PNG", "season-specials-poster.jpg", "tvshow.nfo", "README"):
        assert is_folder_metadata(name), name
    for name in ("poster.txt", "seasonal.mkv", "notes.txt"):
        assert not is_folder_metadata(name), name
