"""Media items: a movie (title + year) or a TV season (show + season number) of one collection.

An item is what an operator thinks in: "Firefly season 1", "Alien (1979)". Assets attach to
the item their editorial fields say they belong to (or, before enrichment, their folder
layout); an item may exist before any file does (a *wanted* item, created by the operator), and
files attach to it when they arrive because they are found by the same key.

Identity, per collection: the media type, the item's **safe name** (its name NFKC-normalised,
case-folded, every run of punctuation and spaces made one `-`: `The Office (US)` is
`the-office-us`), the season (TV) and the year. The seed's schema is unique on (safe name,
season); the year is added because films of one name differ by year (`Dune (1984)`,
`Dune (2021)`). A file that does not say its year finds the item of that name anyway when there
is only one; a file that says it finds a yearless item of that name (a wanted `Alien`) and
gives it its year. Collections of commercials and other non-programme material
(`media_type` `other`), audio-only collections and music tracks get no items.

Progress is derived, never stored: every live asset of an item is exactly one of new,
enriching, ready, approved or failed (see `asset_category`).
"""

from __future__ import annotations

import re
import unicodedata
import uuid as uuidlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, get_args

from consumer.domain.errors import OperationError

MediaType = Literal["movie", "tv"]
MEDIA_TYPES: tuple[str, ...] = get_args(MediaType)
MIN_YEAR, MAX_YEAR = 1870, 2200

# What "changed recently" means for the active view: an item touched within this time stays on
# the landing list even when everything in it is approved (so the operator sees what just
# happened). Documented in docs/media-items.md.
RECENT_CHANGE = timedelta(hours=24)

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# Music: a track is never a programme (the same extensions media_info treats as audio).
_AUDIO_EXTENSIONS = frozenset(
    {"aac", "aiff", "alac", "ape", "dsf", "flac", "m4a", "m4b", "mp2", "mp3", "oga", "ogg"}
    | {"opus", "wav", "wma", "wv"}
)


@lru_cache(maxsize=65536)  # a batch names the same show over and over
def safe_name(name: str) -> str:
    """`The Office (US)` -> `the-office-us`: comparable and filesystem-safe. A name made only of
    punctuation keeps its case-folded self, so it still has a key."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    slug = _NON_WORD.sub("-", folded).strip("-")
    return slug or folded.strip()


@dataclass(frozen=True, slots=True)
class ItemKey:
    """What an asset (or an operator) says an item is; `name` is how to show it, not identity."""

    media_type: MediaType
    safe_name: str
    season: int | None
    year: int | None
    name: str = field(compare=False)

    @property
    def identity(self) -> str:
        return item_identity(self.media_type, self.safe_name, self.season, self.year)


def item_identity(media_type: str, safe: str, season: int | None, year: int | None) -> str:
    """The unique key stored with an item (`tv:firefly:1:`, `movie:alien::1979`). Never NULL,
    unlike a season or year, so a UNIQUE constraint holds for movies too."""
    return f"{media_type}:{safe}:{'' if season is None else season}:{'' if year is None else year}"


@dataclass(slots=True)
class MediaItem:
    id: str
    collection_uuid: str
    media_type: MediaType
    name: str
    safe_name: str
    year: int | None
    season: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def identity(self) -> str:
        return item_identity(self.media_type, self.safe_name, self.season, self.year)

    @property
    def label(self) -> str:
        """`Alien (1979)`, `Firefly S01`."""
        text = self.name if self.year is None else f"{self.name} ({self.year})"
        return text if self.season is None else f"{text} S{self.season:02d}"


def new_item(
    collection_uuid: str, key: ItemKey, now: datetime, *, item_id: str | None = None
) -> MediaItem:
    return MediaItem(
        id=item_id or str(uuidlib.uuid4()),
        collection_uuid=collection_uuid,
        media_type=key.media_type,
        name=key.name,
        safe_name=key.safe_name,
        year=key.year,
        season=key.season,
        created_at=now,
        updated_at=now,
    )


# --- validation (what an operator may ask for) ----------------------------------------------
def requested_key(
    media_type: str, name: str, *, year: int | None = None, season: int | None = None
) -> ItemKey:
    """The key of an item an operator asks for, or an `OperationError` saying why not: a TV
    item is a season (it needs one), a movie has none, a year is a plausible one."""
    if media_type not in MEDIA_TYPES:
        raise OperationError(
            "invalid_media_item", case="media_type", value=media_type, known=list(MEDIA_TYPES)
        )
    clean = " ".join(name.split())
    if not clean:
        raise OperationError("invalid_media_item", case="name_missing")
    if media_type == "tv" and season is None:
        raise OperationError("invalid_media_item", case="season_required", name=clean)
    if media_type == "movie" and season is not None:
        raise OperationError(
            "invalid_media_item", case="season_for_movie", name=clean, season=season
        )
    if season is not None and season < 0:
        raise OperationError("invalid_media_item", case="bad_season", season=season)
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise OperationError(
            "invalid_media_item", case="bad_year", year=year, low=MIN_YEAR, high=MAX_YEAR
        )
    kind: MediaType = "tv" if media_type == "tv" else "movie"
    return ItemKey(kind, safe_name(clean), season, year, clean)


# --- which item an asset belongs to ---------------------------------------------------------
def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def key_of_asset(
    canonical_key: str,
    fields: Mapping[str, Any],
    *,
    collection_media_type: str | None = None,
    audio_only: bool = False,
) -> ItemKey | None:
    """The item an asset belongs to, from what is known of it: its `tech_metadata` (the folder
    layout: title, year, season) or, after enrichment, the merged editorial fields (title, year,
    type, season, episodes). None: no item (no title, not a programme, music)."""
    if audio_only or collection_media_type not in (None, "movie", "episode"):
        return None
    kind = fields.get("type")
    if kind not in (None, "movie", "episode"):
        return None  # an editorial enricher said `other` (a commercial, a bumper)
    if collection_media_type is None:
        extension = canonical_key.rpartition(".")[2].lower() if "." in canonical_key else ""
        if extension in _AUDIO_EXTENSIONS:
            return None
    title = fields.get("title")
    if not isinstance(title, str) or not title.strip():
        return None
    title = " ".join(title.split())
    year = _int(fields.get("year"))
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        year = None
    season = _int(fields.get("season"))
    if collection_media_type == "movie" or kind == "movie":
        return ItemKey("movie", safe_name(title), None, year, title)
    if season is not None:
        return ItemKey("tv", safe_name(title), season, year, title)
    if (
        collection_media_type == "episode"
        or kind == "episode"
        or fields.get("episode") is not None
        or fields.get("episodes")
    ):
        return None  # an episode without a season: no season item to put it in
    return ItemKey("movie", safe_name(title), None, year, title)


def resolve(key: ItemKey, items: Iterable[MediaItem]) -> MediaItem | None:
    """The existing item `key` attaches to, if any (the items of its collection with its safe
    name): the same year; else, for a key without a year, the only item of that name and season
    (several: the yearless one); for a key with a year, a yearless item (the caller gives it
    the year, `adopts`)."""
    same = [
        i
        for i in items
        if i.media_type == key.media_type
        and i.safe_name == key.safe_name
        and i.season == key.season
    ]
    for item in same:
        if item.year == key.year:
            return item
    if key.year is None:
        return same[0] if len(same) == 1 else None
    return next((i for i in same if i.year is None), None)


def adopts(item: MediaItem, key: ItemKey) -> bool:
    """Whether attaching `key` teaches a yearless item its year."""
    return item.year is None and key.year is not None


# --- progress ---------------------------------------------------------------------------------
AssetCategory = Literal["new", "enriching", "ready", "approved", "failed", "deleted"]


def asset_category(
    state: str, approved: bool, is_deleted: bool, job_status: str | None
) -> AssetCategory:
    """Where one asset stands on its road to air. `failed`: its latest job failed, or finished
    without making it ready (quality control refused it)."""
    if is_deleted or state == "retired":
        return "deleted"
    if approved:
        return "approved"
    if state == "ready":
        return "ready"
    if job_status == "failed" or (job_status == "completed" and state == "new"):
        return "failed"
    if state == "enriching":
        return "enriching"
    return "new"


@dataclass(frozen=True, slots=True)
class MediaProgress:
    """How far an item's files are: each live asset counted once; `deleted` (gone or retired)
    is beside `total`, not in it."""

    total: int = 0
    new: int = 0
    enriching: int = 0
    ready: int = 0
    approved: int = 0
    failed: int = 0
    deleted: int = 0

    @property
    def waiting_for_files(self) -> bool:
        return self.total == 0

    @property
    def fraction_done(self) -> float:
        return self.approved / self.total if self.total else 0.0

    @property
    def all_approved(self) -> bool:
        return self.total > 0 and self.approved == self.total

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "new": self.new,
            "enriching": self.enriching,
            "ready": self.ready,
            "approved": self.approved,
            "failed": self.failed,
            "deleted": self.deleted,
            "waiting_for_files": self.waiting_for_files,
            "fraction_done": round(self.fraction_done, 4),
        }


def progress_of(categories: Iterable[AssetCategory]) -> MediaProgress:
    counts = dict.fromkeys(("new", "enriching", "ready", "approved", "failed", "deleted"), 0)
    for category in categories:
        counts[category] += 1
    return MediaProgress(total=sum(counts.values()) - counts["deleted"], **counts)


def is_active(
    progress: MediaProgress,
    *,
    open_jobs: int,
    last_change: datetime | None,
    now: datetime,
    recent: timedelta = RECENT_CHANGE,
) -> bool:
    """On the landing list: anything not yet approved (waiting for files included), with a job
    pending, running or failed, or changed within `recent`."""
    if not progress.all_approved or open_jobs or progress.failed:
        return True
    return last_change is not None and last_change >= now - recent


def episode_gaps(numbers: Iterable[int]) -> list[int]:
    """The episode numbers missing from 1 up to the highest present (`[1, 2, 4]` -> `[3]`;
    `[3]` -> `[1, 2]`): a season whose first episodes are missing has gaps too. Episode 0 (a
    special) is never a gap."""
    present = {n for n in numbers if n >= 0}
    if not present:
        return []
    return [n for n in range(1, max(present) + 1) if n not in present]


def episode_order(episodes: Sequence[int], canonical_key: str) -> tuple[int, int, str]:
    """Sort key of an asset in a season: by its first episode, files without one last."""
    return (0, min(episodes), canonical_key) if episodes else (1, 0, canonical_key)


# --- what the catalog reports about items ----------------------------------------------------
@dataclass(frozen=True, slots=True)
class ItemTally:
    """One item with its progress, as one aggregate query over its assets counts it."""

    item: MediaItem
    collection_name: str
    progress: MediaProgress
    open_jobs: int  # live assets not yet ready whose latest job is pending or running
    last_change: datetime | None  # the latest change of the item or any of its assets


@dataclass(frozen=True, slots=True)
class ItemAssetRow:
    """An asset of an item with its latest job and latest quality check (for its current
    content: `qc_passed` None when none has run on it)."""

    asset_uuid: str
    canonical_key: str
    tech_metadata: dict[str, Any]
    state: str
    approved: bool
    is_deleted: bool
    updated_at: datetime
    job_id: str | None
    job_status: str | None
    qc_passed: bool | None
    qc_failures: list[str]
