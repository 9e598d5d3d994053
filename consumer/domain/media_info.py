"""Title, season and episode of a file, from its path relative to the collection root.

A collection may be one show, one film shelf, or a whole library (`Movies/`, `TV Shows/`,
`Music/` beneath one root), so the title is never "the top-level folder". It is the file's
**title folder**, wherever that sits under the root: the shallowest folder of the path that is

* named like a film, `Title (Year)` with optional `{imdb-…}`, `{tmdb-…}`, `[tmdbid-…]` or
  `{edition-…}` tags (Plex's and Jellyfin's canonical form), or
* a show's folder: the folder directly above a season folder (`Season 02`, `Specials`).

A file with no title folder (loose at the root, in `Movies/`, or a track under `Artist/Album/`)
takes its title from its own name: an episode's from the text before `SxxEyy`, a music track's
from its name without the track number (the artist and album folders are not its title), any
other file's from its whole name. Folders above the title folder (`Movies`, `TV Shows`) never
give a title.

A name is read as written when it is a plain name (`The Office (US)`, `2001 - A Space Odyssey
(1968)`, `Kill Bill - Vol. 1 (2003)`), as those servers read it. Only release names (dots between
words, underscores, bare years, `1080p`, codecs) are parsed with guessit, which strips them. guessit
costs ~5 ms a call: one call per file of a flat folder of plain names would make a 20,000-file
first ingest take minutes, so each name is read once per process (cached), the folders of a path
once per folder, and guessit only for the names that need it.

Season and episode come from the standard patterns (`S01E02`, `1x02`, `Season 01`, `Specials` =
season 0); guessit is the fallback for a release name or an episode file without them. The
edition (`{edition-Final Cut}`, or Jellyfin's `Title (Year) - Director's Cut.mkv`) and the
episode title (`Show - S01E01 - Pilot.mkv`) are kept when the name carries them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consumer.domain.assets import FileFacts

_SXXEYY = re.compile(r"(?i)(?<![a-z0-9])s(\d{1,4})[ ._-]?e(\d{1,4})(?:[ ._-]?-?e?(\d{1,4}))?")
_NXNN = re.compile(r"(?i)(?<![a-z0-9])(\d{1,2})x(\d{2,3})(?![a-z0-9])")
_SEASON_DIR = re.compile(r"(?i)^(?:season|series|saison|staffel|s)[ ._-]*(\d{1,4})$")
_SPECIALS_DIR = re.compile(r"(?i)^(?:specials?|season[ ._-]*0+)$")
_EPISODE_WORD = re.compile(r"(?i)(?<![a-z0-9])(?:episode|ep|e)[ ._-]*(\d{1,4})(?![0-9])")
_TRAILING_TAGS = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")
_TRAILING_SQUARE = re.compile(r"\s*\[[^\]]*\]\s*$")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# `Title (Year)`, an optional Jellyfin version label (` - Director's Cut`), and the id/edition
# tags Plex and Jellyfin allow after it.
_CANONICAL = re.compile(
    r"^(?P<title>[^\[\]{}_]*?\w[^\[\]{}_]*?) \((?P<year>1[89]\d\d|20\d\d)\)"
    r"(?: - (?P<label>[^\[\]{}()]*\w[^\[\]{}()]*?))?"
    r"(?P<tags>(?:\s*[\[{][a-z]+-[^\]}]+[\]}])*)\s*$"
)
_DOTTED = re.compile(r"[^\W\d_]\.[^\W\d_]{2}")  # `The.Expanse`, `Mr.Robot`; not `Vol. 1`, `E.T.`
_TAG = re.compile(r"\s*[\[{](?P<kind>[a-z]+)-(?P<value>[^\]}]+)[\]}]")
# What marks a release name rather than a title: words joined by dots (`The.Expanse`, not
# `Vol. 1` or `E.T.`), underscores, a square bracket that is not an id tag, a bare year, an
# episode pattern, a resolution or a codec/source tag.
_RELEASE_MARKS = re.compile(
    r"(?i)[^\W\d_]\.[^\W\d_]{2}|_|\[(?![a-z]+-)"
    r"|(?<![\w(])(?:19|20)\d\d(?![\w)])"
    r"|(?<![a-z0-9])s\d{1,4}[ .-]?e\d{1,4}|(?<![a-z0-9])\d{1,2}x\d{2,3}(?![a-z0-9])"
    r"|\b(?:\d{3,4}[pi]|[xh]\.?26[45]|hevc|xvid|web-?(?:dl|rip)|blu-?ray|[bh]d-?rip|dvd-?rip"
    r"|hdtv|remux|proper|repack)\b"
)
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,5})$")
_TRACK_NUMBER = re.compile(r"^(?:\d{1,2}-)?\d{1,3}(?:\s*[-.]\s*|\s+)(?=\S)")
_SEPARATORS = " .-_"
# Music: a track's title is its own name, never its folders' (artist, album).
AUDIO_EXTENSIONS = frozenset(
    {"aac", "aiff", "alac", "ape", "dsf", "flac", "m4a", "m4b", "mp2", "mp3", "oga", "ogg"}
    | {"opus", "wav", "wma", "wv"}
)


@dataclass(frozen=True, slots=True)
class MediaInfo:
    title: str | None
    season: int | None
    episode: int | None
    year: int | None = None
    episode_title: str | None = None
    edition: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("title", self.title),
                ("season", self.season),
                ("episode", self.episode),
                ("year", self.year),
                ("episode_title", self.episode_title),
                ("edition", self.edition),
            )
            if v is not None
        }


@dataclass(frozen=True, slots=True)
class NameReading:
    """What one folder or file name says (a title folder's, or a loose file's own)."""

    title: str | None
    year: int | None = None
    edition: str | None = None
    season: int | None = None  # only from guessit, for release names
    episode: int | None = None


def normalize_title(text: str) -> str:
    """Comparable form of a title: NFKC, case-folded, punctuation and spacing collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


def strip_tags(name: str) -> str:
    """`Show [1080p] (x264)` -> `Show`: trailing bracketed tags removed."""
    previous = None
    while previous != name:
        previous, name = name, _TRAILING_TAGS.sub("", name)
    return name.strip()


def _tags(text: str) -> tuple[str, str | None]:
    """`Fargo {tmdb-60622} {edition-Final Cut}` -> (`Fargo`, `Final Cut`): id tags dropped."""
    edition = None
    for match in _TAG.finditer(text):
        if match.group("kind") == "edition":
            edition = match.group("value").strip()
    return _TAG.sub("", text).strip(), edition


def _canonical(stem: str) -> NameReading | None:
    match = _CANONICAL.match(stem)
    if match is None:
        return None
    title = match.group("title").strip()
    label = match.group("label")
    if _SXXEYY.search(stem) or _NXNN.search(stem) or _DOTTED.search(title):
        return None  # `Show S01E02 (2001)`, `Mr.Robot (2015)`: not a film's folder name
    _, edition = _tags(match.group("tags"))
    if edition is None and label:
        edition = label.strip()
    return NameReading(title, int(match.group("year")), edition)


def canonical_name(name: str) -> tuple[str, int] | None:
    """(title, year) of a folder or file name in Plex's `Title (Year)` form, else None."""
    reading = _canonical(_EXTENSION.sub("", name))
    if reading is None or reading.title is None or reading.year is None:
        return None
    return reading.title, reading.year


@lru_cache(maxsize=65536)
def read_name(name: str) -> NameReading:
    """The title a folder name or file stem gives: as written if it is a plain name or in
    `Title (Year)` form, else guessit's (cached: each name is read once per process)."""
    reading = _canonical(name)
    if reading is not None:
        return reading
    if not _RELEASE_MARKS.search(name):
        title, edition = _tags(name)
        title = title.strip(_SEPARATORS)
        return NameReading(title or None, edition=edition)
    return _guess(name)


@lru_cache(maxsize=65536)
def _guess(name: str) -> NameReading:
    from guessit import guessit  # noqa: PLC0415 - lazy: loading its rules takes ~0.1 s

    info = guessit(name)
    title = info.get("title")
    country = info.get("country")
    if title and country is not None and getattr(country, "alpha2", None):
        title = f"{title} ({country.alpha2})"  # `The.Office.US` is `The Office (US)`
    season = info.get("season")
    episode = info.get("episode")
    year = info.get("year")
    edition = info.get("edition")
    return NameReading(
        str(title) if title else (strip_tags(name).strip(_SEPARATORS) or None),
        year if isinstance(year, int) else None,
        edition if isinstance(edition, str) else None,
        season if isinstance(season, int) else None,
        episode
        if isinstance(episode, int)
        else (episode[0] if isinstance(episode, list) and episode else None),
    )


def title_of_name(name: str) -> str | None:
    """The title a folder name (or a file name, extension and all) gives on its own."""
    return read_name(_EXTENSION.sub("", name)).title


def season_of_dir(name: str) -> int | None:
    if _SPECIALS_DIR.match(name):
        return 0
    match = _SEASON_DIR.match(name.strip())
    return int(match.group(1)) if match else None


def _episode_match(stem: str) -> re.Match[str] | None:
    return _SXXEYY.search(stem) or _NXNN.search(stem)


def episode_numbers(filename: str) -> tuple[int | None, list[int]]:
    """(season, episodes) from a file name's standard pattern; `S01E01-E02` gives [1, 2]."""
    return _numbers(filename, _episode_match(filename))


def _numbers(filename: str, match: re.Match[str] | None) -> tuple[int | None, list[int]]:
    if match is not None and match.re is _SXXEYY:
        first = int(match.group(2))
        last = int(match.group(3)) if match.group(3) else first
        episodes = list(range(first, last + 1)) if 0 <= last - first < 50 else [first]
        return int(match.group(1)), episodes
    if match is not None:
        return int(match.group(1)), [int(match.group(2))]
    word = _EPISODE_WORD.search(filename)
    if word:
        return None, [int(word.group(1))]
    return None, []


def _episode_title(stem: str, match: re.Match[str]) -> str | None:
    """`Show - S01E01 - Pilot [1080p]` -> `Pilot`; release tails (`.720p.HDTV`) are not titles."""
    rest = stem[match.end() :]
    if not rest.startswith(" - "):
        return None
    previous = None
    while previous != rest:
        previous, rest = rest, _TRAILING_SQUARE.sub("", rest)
    return rest[3:].strip() or None


def is_film_name(name: str) -> bool:
    """Whether a folder is named like a film (`Title (Year)`, tags allowed): a title folder."""
    return _canonical(name) is not None


def is_title_folder(folders: list[str], index: int) -> bool:
    """Whether `folders[index]` is the title folder of a path through `folders`: named like a
    film, or directly above a season folder."""
    if index + 1 < len(folders) and season_of_dir(folders[index + 1]) is not None:
        return True
    return is_film_name(folders[index])


@lru_cache(maxsize=16384)
def _folder_context(folder_path: str) -> tuple[NameReading | None, int | None]:
    """(title folder's reading, season) a file's folders give it; all files of a folder share
    them."""
    folders = folder_path.split("/")
    season = None
    for folder in reversed(folders):
        season = season_of_dir(folder)
        if season is not None:
            break
    for index, folder in enumerate(folders):
        if is_title_folder(folders, index):
            return read_name(folder), season
    return None, season


def _own_reading(stem: str, extension: str) -> NameReading:
    """The title a file with no title folder takes from its own name."""
    if extension in AUDIO_EXTENSIONS:
        track = _TRACK_NUMBER.sub("", stem).strip()
        return NameReading(_tags(track)[0] or None)
    match = _episode_match(stem)
    if match is not None and match.start() > 0:
        show = stem[: match.start()].rstrip(_SEPARATORS)
        if show:
            return read_name(show)  # shared by every episode of the show: read once
    return read_name(stem)


def parse(relative_key: str) -> MediaInfo:
    """Media info for a canonical key (`TV Shows/Title/Season 01/file.mkv`)."""
    folder_path, _, filename = relative_key.rpartition("/")
    ext_match = _EXTENSION.search(filename)
    stem = filename[: ext_match.start()] if ext_match else filename
    extension = ext_match.group(1).lower() if ext_match else ""
    audio = extension in AUDIO_EXTENSIONS
    match = _episode_match(stem)
    season, episodes = _numbers(stem, match)
    folder_title, folder_season = _folder_context(folder_path) if folder_path else (None, None)
    if season is None:
        season = folder_season
    own_edition = None
    if folder_title is not None:
        reading = folder_title
        if "{edition-" in stem or ") - " in stem:  # its own edition: `{edition-…}`, ` - Label`
            own = _canonical(stem)
            own_edition = own.edition if own is not None else _tags(stem)[1]
    else:
        reading = _own_reading(stem, extension)
        if season is None:
            season = reading.season
        if not episodes and reading.episode is not None:
            episodes = [reading.episode]
    if season is not None and not episodes and folder_path and not audio:
        guessed = _guess(filename).episode
        if guessed is not None:
            episodes = [guessed]
    return MediaInfo(
        title=reading.title,
        season=season,
        episode=episodes[0] if episodes else None,
        year=reading.year,
        episode_title=_episode_title(stem, match) if match is not None else None,
        edition=own_edition or reading.edition,
    )


@dataclass(frozen=True, slots=True)
class TitleQuery:
    """What `--title` asks for: a title, compared case-insensitively, with or without its year
    (`the matrix (1999)` finds The Matrix of 1999; `the matrix` finds it of any year)."""

    wanted: str
    title: str  # normalized, without the year
    year: int | None
    tokens: frozenset[str]

    @classmethod
    def of(cls, wanted: str) -> TitleQuery:
        reading = _canonical(wanted.strip())
        if reading is not None and reading.title is not None:
            title, year = normalize_title(reading.title), reading.year
        else:
            title, year = normalize_title(wanted), None
        return cls(wanted, title, year, frozenset(title.split()))

    def matches(self, title: str | None, year: int | None = None) -> bool:
        if title is None or normalize_title(title) != self.title:
            return False
        return self.year is None or year is None or year == self.year

    def matches_info(self, info: MediaInfo) -> bool:
        return self.matches(info.title, info.year)

    def matches_folder(self, name: str) -> bool:
        reading = read_name(name)
        return self.matches(reading.title, reading.year)

    def may_name(self, filename: str) -> bool:
        """Cheap test before parsing a file's own name: a title read from a name is made of its
        words, so a name lacking one of the wanted words cannot hold the title."""
        return self.tokens <= set(normalize_title(filename).split())


def media_metadata(obs: FileFacts) -> dict[str, Any]:
    """What an asset's `tech_metadata` records of its name (title, season, episode, year,
    episode title, edition)."""
    return parse(obs.canonical_key).as_dict()
