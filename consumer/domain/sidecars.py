"""The files that travel with a media file, and what they say: the `sidecars` enricher's rules.

Pure: given the media file's name and the names beside it (and an `.nfo`'s bytes), decide

* **external subtitles** of this file: `<stem>.srt`, `<stem>.<tags>.srt`, where the tags name a
  language (`en`, `eng`, `pt-BR`, `zh-Hant`) and flags (`forced`, `sdh` / `cc` / `hi`,
  `default`) in any order: `Movie.eng.forced.srt`, `Movie.pt-BR.sdh.srt`;
* which **`.nfo`** describes it: `<stem>.nfo` first, then `movie.nfo` (Kodi's per-folder name);
  `tvshow.nfo` (the show's, in the show folder) only adds the show's ids and title;
* **artwork** present: `poster`, `folder`, `cover` (poster), `fanart`, `backdrop`, `background`
  (fanart), and Kodi's per-file `<stem>-poster.jpg`, `<stem>-fanart.jpg`, `<stem>-thumb.jpg`.

An `.nfo` is Kodi/Jellyfin XML (`<movie>`, `<episodedetails>`, `<tvshow>`), parsed with the
standard library after refusing any `<!DOCTYPE` or `<!ENTITY` (the entity-expansion attacks need
one; a real nfo never has one). Kodi also accepts an nfo that is, or ends with, a scraper URL
(`https://www.imdb.com/title/tt0111161/`): the ids in such URLs are read too.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SUBTITLE_EXTENSIONS = frozenset({"srt", "ass", "ssa", "vtt", "sub", "idx", "sup", "smi", "ttml"})
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp", "tbn"})
POSTER_STEMS = ("poster", "folder", "cover")
FANART_STEMS = ("fanart", "backdrop", "background")
MAX_NFO_BYTES = 1 << 20  # an nfo is a few KiB; anything bigger is not one

_FORCED = frozenset({"forced", "foreign"})
_SDH = frozenset({"sdh", "cc", "hi"})
_DEFAULT = frozenset({"default"})
# ISO 639-1 / 639-2 codes, with a region or script (`pt-BR`, `zh-Hant`, `es-419`).
_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_]([a-z]{4}|[a-z]{2}|\d{3}))?$", re.IGNORECASE)
_NOT_LANGUAGES = frozenset({"sub", "subs", "und", "ssa", "ass", "srt", "vtt", "full", "sdh"})
# Names written out instead of a code (`Movie.English.srt`), the common ones.
LANGUAGE_NAMES = {
    "english": "en",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "swedish": "sv",
    "norwegian": "no",
    "danish": "da",
    "finnish": "fi",
    "polish": "pl",
    "russian": "ru",
    "japanese": "ja",
    "chinese": "zh",
    "korean": "ko",
    "arabic": "ar",
    "hebrew": "he",
    "greek": "el",
    "turkish": "tr",
}

NFO_ROOTS = {"movie": "movie", "episodedetails": "episode", "tvshow": "show"}
_IMDB = re.compile(r"\btt\d{5,10}\b")
_URL_IDS = {
    "imdb": re.compile(r"imdb\.com/title/(tt\d{5,10})"),
    "tmdb": re.compile(r"themoviedb\.org/(?:movie|tv)/(\d+)"),
    "tvdb": re.compile(r"thetvdb\.com/.*?[?&/](?:id=|series/)(\d+)"),
}
_YEAR = re.compile(r"^(1[89]\d\d|20\d\d)")
_ROOT_END = re.compile(r"</(movie|episodedetails|tvshow)\s*>", re.IGNORECASE)


class UnsafeNfoError(ValueError):
    """An nfo with a document type or entity declarations: refused, never parsed."""


def split_name(name: str) -> tuple[str, str]:
    """(stem, extension lowercased): `Movie.en.srt` → (`Movie.en`, `srt`)."""
    stem, dot, ext = name.rpartition(".")
    return (stem, ext.lower()) if dot and stem else (name, "")


def media_stem(name: str) -> str:
    return split_name(name)[0]


def _language(tag: str) -> str | None:
    """`en` → `en`, `PT_br` → `pt-BR`, `zh-hant` → `zh-Hant`, `English` → `en`; None for what
    is no language."""
    if tag.lower() in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[tag.lower()]
    match = _LANGUAGE.match(tag)
    if match is None or tag.lower() in _NOT_LANGUAGES:
        return None
    language, sub = match.group(1).lower(), match.group(2)
    if sub is None:
        return language
    if len(sub) == 4:
        return f"{language}-{sub.title()}"
    return f"{language}-{sub.upper()}"


@dataclass(frozen=True, slots=True)
class Subtitle:
    file: str
    format: str
    language: str | None = None
    forced: bool = False
    sdh: bool = False
    default: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "language": self.language,
            "forced": self.forced,
            "sdh": self.sdh,
            "default": self.default,
        }


def subtitle_of(media_name: str, name: str) -> Subtitle | None:
    """`name` read as an external subtitle of `media_name`, or None if it is not one."""
    stem, ext = split_name(name)
    if ext not in SUBTITLE_EXTENSIONS:
        return None
    base = media_stem(media_name)
    if stem == base:
        tags: list[str] = []
    elif stem.startswith(base + "."):
        tags = [t for t in stem[len(base) + 1 :].split(".") if t]
    else:
        return None
    language = None
    forced = sdh = default = False
    for tag in tags:
        lowered = tag.lower()
        if lowered in _FORCED:
            forced = True
        elif lowered in _SDH:
            sdh = True
        elif lowered in _DEFAULT:
            default = True
        elif language is None:
            language = _language(tag)
    return Subtitle(name, ext, language, forced, sdh, default)


@dataclass(frozen=True, slots=True)
class Sidecars:
    """The sidecar files of one media file, found among the names beside it."""

    subtitles: list[Subtitle] = field(default_factory=list)
    nfo: str | None = None  # the nfo describing this file itself
    show_nfo: str | None = None  # tvshow.nfo, when beside it
    artwork: dict[str, str] = field(default_factory=dict)  # poster/fanart/thumb -> file name


def _artwork_kind(media_base: str, name: str) -> str | None:
    stem, ext = split_name(name)
    if ext not in IMAGE_EXTENSIONS:
        return None
    lowered = stem.lower()
    if lowered.startswith(media_base.lower() + "-"):
        lowered = lowered[len(media_base) + 1 :]
        if lowered == "thumb":
            return "thumb"
    if lowered in POSTER_STEMS:
        return "poster"
    if lowered in FANART_STEMS:
        return "fanart"
    return None


def find_sidecars(media_name: str, names: Iterable[str]) -> Sidecars:
    """The sidecars of `media_name` among `names` (file names, not paths; any order)."""
    ordered = sorted(set(names) - {media_name})
    base = media_stem(media_name)
    subtitles = [s for n in ordered if (s := subtitle_of(media_name, n)) is not None]
    by_lower = {n.lower(): n for n in ordered}
    own_nfo = next((n for n in ordered if split_name(n) == (base, "nfo")), None)
    nfo = own_nfo or by_lower.get("movie.nfo")
    artwork: dict[str, str] = {}
    # The file's own artwork (`<stem>-poster.jpg`) beats the folder's (`poster.jpg`).
    for name in sorted(ordered, key=lambda n: not n.lower().startswith(base.lower() + "-")):
        kind = _artwork_kind(base, name)
        if kind is not None:
            artwork.setdefault(kind, name)
    return Sidecars(subtitles, nfo, by_lower.get("tvshow.nfo"), artwork)


# --- .nfo ------------------------------------------------------------------------------------
def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _text(root: ET.Element, tag: str) -> str | None:
    node = root.find(tag)
    text = (node.text or "").strip() if node is not None else ""
    return text or None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def _ids(root: ET.Element) -> dict[str, str]:
    ids: dict[str, str] = {}
    for node in root.findall("uniqueid"):
        kind = (node.get("type") or "").strip().lower()
        value = (node.text or "").strip()
        if kind in ("imdb", "tmdb", "tvdb") and value and kind not in ids:
            ids[kind] = value
    for kind in ("imdb", "tmdb", "tvdb"):
        tagged = _text(root, f"{kind}id") or _text(root, f"{kind}_id")
        if tagged and kind not in ids:
            ids[kind] = tagged
    legacy = _text(root, "id")  # Kodi's old `<id>`: an imdb id for films
    if legacy and _IMDB.fullmatch(legacy) and "imdb" not in ids:
        ids["imdb"] = legacy
    return ids


def _url_ids(text: str) -> dict[str, str]:
    return {kind: m.group(1) for kind, rx in _URL_IDS.items() if (m := rx.search(text))}


def _xml_part(text: str) -> str | None:
    """The XML document of an nfo, without a scraper URL that may follow it."""
    start = text.find("<")
    if start < 0:
        return None
    ends = list(_ROOT_END.finditer(text, start))
    return text[start : ends[-1].end()] if ends else text[start:]


def parse_nfo(data: bytes) -> dict[str, Any]:
    """The editorial fields of a Kodi/Jellyfin nfo: `nfo_type` (movie, episode or show), title,
    year, ids; for an episode also the show's title, the season, episodes and air date.

    Raises `UnsafeNfoError` for a document type or entity declaration, and `ValueError` for
    what is neither XML nor a scraper URL.
    """
    if len(data) > MAX_NFO_BYTES:
        raise ValueError(f"larger than {MAX_NFO_BYTES} bytes")
    text = _decode(data)
    lowered = text.lower()
    if "<!doctype" in lowered or "<!entity" in lowered:
        raise UnsafeNfoError("declares a document type or entities; refused")
    from_urls = _url_ids(text)
    xml = _xml_part(text)
    if xml is None:
        if not from_urls:
            raise ValueError("neither XML nor a scraper URL")
        return {f"{kind}_id": value for kind, value in from_urls.items()}
    # The declaration may name an encoding the text no longer has (it was decoded above).
    xml = re.sub(r"^<\?xml[^>]*\?>", "", xml.lstrip())
    try:
        # Kodi writes one <episodedetails> per episode of a multi-episode file, one after the
        # other: several root elements, so they are read inside a wrapper.
        documents = list(ET.fromstring(f"<nfo>{xml}</nfo>"))
    except ET.ParseError as exc:
        if from_urls:
            return {f"{kind}_id": value for kind, value in from_urls.items()}
        raise ValueError(f"not well-formed XML: {exc}") from exc
    if not documents:
        raise ValueError("no element in the XML")
    root = documents[0]
    nfo_type = NFO_ROOTS.get(root.tag.lower())
    if nfo_type is None:
        raise ValueError(f"unknown root element <{root.tag}>")
    ids = {**from_urls, **_ids(root)}
    year = _int(_text(root, "year"))
    aired = _text(root, "aired") or _text(root, "premiered")
    if year is None and aired and (match := _YEAR.match(aired)):
        year = int(match.group(1))
    fields: dict[str, Any] = {"nfo_type": nfo_type, "year": year}
    if nfo_type == "episode":
        # An episode's <title> is the episode's; the record's title is the show's.
        fields["title"] = _text(root, "showtitle")
        fields["episode_title"] = _text(root, "title")
        fields["season"] = _int(_text(root, "season"))
        episodes = [
            e
            for doc in documents
            if doc.tag == root.tag
            for node in doc.findall("episode")
            if (e := _int(node.text)) is not None
        ]
        fields["episodes"] = episodes or None
        fields["date"] = aired if aired and re.fullmatch(r"\d{4}-\d\d-\d\d", aired) else None
    else:
        fields["title"] = _text(root, "title")
        fields["original_title"] = _text(root, "originaltitle")
    for kind, value in ids.items():
        fields[f"{kind}_id"] = value
    return {k: v for k, v in fields.items() if v is not None}


def show_fields(show: dict[str, Any]) -> dict[str, Any]:
    """What a `tvshow.nfo` adds to an episode: the show's title and its ids as `show_*_id`."""
    fields: dict[str, Any] = {}
    if show.get("title"):
        fields["title"] = show["title"]
    for kind in ("imdb", "tmdb", "tvdb"):
        if show.get(f"{kind}_id"):
            fields[f"show_{kind}_id"] = show[f"{kind}_id"]
    return fields
