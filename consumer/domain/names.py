"""What a file's name says it is: the editorial fields the `filename` enricher records.

Built on `media_info` (title, year and season from the folders, `Title (Year)` read as written,
guessit for release names) and adding what an editorial record needs beyond that:

* the **tags** Plex and Jellyfin allow in a name: `{imdb-tt0078748}`, `{tmdb-348}`,
  `{tvdb-81189}` (Plex) and `[imdbid-…]`, `[tmdbid-…]`, `[tvdbid-…]` (Jellyfin), and
  `{edition-Director's Cut}`. On an episode, tags on its folders name the *show*, so they become
  `show_imdb_id`, `show_tmdb_id`, `show_tvdb_id`; tags on the file name the file itself;
* **multi-episode** files keep every episode: `S01E01E02`, `S01E01-E03` (a range), `S01E01-03`,
  `1x01-1x02`;
* the **air date** of a daily show: `Show 2024-03-15.mkv`, `Show.2024.03.15.mkv`;
* the **edition** guessit reads in a release name (`Movie.2010.Extended.mkv`).

A collection may force the type (`EnrichmentInput.media_type`), and what the operator said is
never overridden by a guess: `movie` gets no season, episodes or date; `other` (commercials,
bumpers, idents) and any type other than `movie` or `episode` gets only the title, the file's
stem cleaned, since guessit reads `Coke Ad 1999 1x2` as an episode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from consumer.domain.media_info import canonical_name, episode_numbers, parse

MOVIE, EPISODE, OTHER = "movie", "episode", "other"
ID_KINDS = ("imdb", "tmdb", "tvdb")

# `{imdb-tt0078748}` (Plex) or `[imdbid-tt0078748]` (Jellyfin); the value is checked per kind.
_ID_TAG = re.compile(r"(?i)[\[{](imdb|tmdb|tvdb)(?:id)?-([^\]}]+)[\]}]")
_ID_VALUE = {"imdb": re.compile(r"^tt\d{5,10}$"), "tmdb": re.compile(r"^\d{1,10}$")}
_ID_VALUE["tvdb"] = _ID_VALUE["tmdb"]
_EDITION_TAG = re.compile(r"(?i)\{edition-([^}]+)\}")
_ANY_TAG = re.compile(r"\s*[\[{][a-z]+-[^\]}]*[\]}]", re.IGNORECASE)

_SXXEYY = re.compile(r"(?i)(?<![a-z0-9])s(\d{1,4})[ ._-]?e(\d{1,4})(?![0-9])")
_MORE_E = re.compile(r"(?i)[ ._]*([-&+])?[ ._]*e(\d{1,4})(?![0-9])")
_RANGE_END = re.compile(r"(?i)-(\d{1,4})(?![0-9a-z])")
_NXNN = re.compile(r"(?i)(?<![a-z0-9])(\d{1,2})x(\d{2,3})(?![0-9])")
_MORE_X = re.compile(r"(?i)[ ._]*([-&+])?[ ._]*(?:\d{1,2})?x(\d{2,3})(?![0-9])")
MAX_RANGE = 50  # `S01E01-E99` is a range; `S01E01-2160p` is not one

_AIR_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d\d)([-. _])(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)"
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_SEPARATORS = re.compile(r"[._\s]+")


def id_tags(name: str) -> dict[str, str]:
    """`{"imdb": "tt0078748", ...}` from a name's id tags; malformed values are ignored."""
    found: dict[str, str] = {}
    for raw_kind, raw_value in _ID_TAG.findall(name):
        kind, value = raw_kind.lower(), raw_value.strip()
        if kind not in found and _ID_VALUE[kind].match(value):
            found[kind] = value
    return found


def edition_tag(name: str) -> str | None:
    match = _EDITION_TAG.search(name)
    if match is None:
        return None
    return match.group(1).strip() or None


def _extend(episodes: list[int], separator: str | None, number: int) -> None:
    last = episodes[-1]
    if separator == "-" and 0 < number - last < MAX_RANGE:
        episodes.extend(range(last + 1, number + 1))
    elif number not in episodes:
        episodes.append(number)


def episode_list(filename: str) -> tuple[int | None, list[int]]:
    """(season, every episode) of a file name: `S01E01E02` → (1, [1, 2]), `S01E01-E03` and
    `S01E01-03` → (1, [1, 2, 3]), `1x01-1x02` → (1, [1, 2]); else what `media_info` reads."""
    for first, more in ((_SXXEYY, _MORE_E), (_NXNN, _MORE_X)):
        match = first.search(filename)
        if match is None:
            continue
        episodes = [int(match.group(2))]
        pos = match.end()
        while (step := more.match(filename, pos)) is not None:
            _extend(episodes, step.group(1), int(step.group(2)))
            pos = step.end()
        if len(episodes) == 1 and first is _SXXEYY:
            end = _RANGE_END.match(filename, pos)
            if end is not None:
                _extend(episodes, "-", int(end.group(1)))
        return int(match.group(1)), episodes
    return episode_numbers(filename)


def air_date(name: str) -> date | None:
    """The date of a daily show's episode: `2024-03-15`, `2024.03.15` or `2024 03 15`."""
    for match in _AIR_DATE.finditer(name):
        try:
            return date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        except ValueError:  # 2023-02-30
            continue
    return None


def clean_stem(filename: str) -> str:
    """`Coke_Spot.1999 {tmdb-1}.mp4` → `Coke Spot 1999`: no extension, tags or separators."""
    stem = _ANY_TAG.sub("", _EXTENSION.sub("", filename))
    return _SEPARATORS.sub(" ", stem).strip() or filename


@dataclass(frozen=True, slots=True)
class _Guess:
    """What guessit reads in a file name that `media_info` does not keep."""

    year: int | None
    edition: str | None
    episodes: tuple[int, ...]
    aired: date | None


@lru_cache(maxsize=16384)
def _guess_file(filename: str) -> _Guess:
    from guessit import guessit  # noqa: PLC0415 - lazy: loading its rules takes ~0.1 s

    info = guessit(filename)
    year, edition, episode, aired = (info.get(k) for k in ("year", "edition", "episode", "date"))
    if isinstance(edition, list):
        edition = " ".join(str(e) for e in edition)
    if isinstance(episode, int):
        episodes: tuple[int, ...] = (episode,)
    elif isinstance(episode, list):
        episodes = tuple(e for e in episode if isinstance(e, int))
    else:
        episodes = ()
    return _Guess(
        year=year if isinstance(year, int) else None,
        edition=str(edition) if edition else None,
        episodes=episodes,
        aired=aired if isinstance(aired, date) else None,
    )


def describe(canonical_key: str, forced_type: str | None = None) -> dict[str, Any]:
    """The editorial fields of a file from its canonical key (`Title (Year)/Season 01/x.mkv`),
    with the collection's forced type if it has one. Fields nothing says are left out."""
    folder_path, _, filename = canonical_key.rpartition("/")
    folders = folder_path.split("/") if folder_path else []
    if forced_type is not None and forced_type not in (MOVIE, EPISODE):
        return {"type": forced_type, "title": clean_stem(filename)}

    info = parse(canonical_key)
    guess = _guess_file(filename)
    season, episodes = episode_list(filename)
    if season is None:
        season = info.season
    if not episodes:
        episodes = [info.episode] if info.episode is not None else list(guess.episodes)
    aired = air_date(filename) or guess.aired
    if forced_type is not None:
        kind = forced_type
    else:
        kind = EPISODE if season is not None or episodes or aired is not None else MOVIE
    if kind == MOVIE:
        season, episodes, aired = None, [], None

    canonical = canonical_name(filename)
    year = info.year or (canonical[1] if canonical else None) or guess.year
    fields: dict[str, Any] = {
        "title": info.title,
        "year": year,
        "type": kind,
        "season": season,
        "episodes": episodes or None,
        "date": aired.isoformat() if aired else None,
        "edition": edition_tag(filename)
        or next((e for f in reversed(folders) if (e := edition_tag(f))), None)
        or (guess.edition if kind == MOVIE else None),
    }
    folder_ids: dict[str, str] = {}
    for folder in folders:  # the innermost folder's tag wins
        folder_ids.update(id_tags(folder))
    file_ids = id_tags(filename)
    for kind_of_id in ID_KINDS:
        if kind == EPISODE:
            fields[f"{kind_of_id}_id"] = file_ids.get(kind_of_id)
            fields[f"show_{kind_of_id}_id"] = folder_ids.get(kind_of_id)
        else:
            fields[f"{kind_of_id}_id"] = file_ids.get(kind_of_id) or folder_ids.get(kind_of_id)
    return {k: v for k, v in fields.items() if v is not None}
