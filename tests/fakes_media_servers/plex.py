"""A fake Plex Media Server: `MediaContainer` XML as PMS writes it.

What it answers, as the real server does (python-plexapi and the PMS API documentation were the
reference): `/library/sections` (`Directory` per library with `Location` children),
`/library/sections/{id}/all?type=1|4` (movies, or every episode of a TV library; `Video` with
`Media`/`Part`, and `Guid` children only with `includeGuids=1`; paging by
`X-Plex-Container-Start`/`-Size` as query parameters or headers, with `totalSize`; the filter
`updatedAt>>=EPOCH`), `/library/sections/{id}/search?type=1|2&query=`, `/library/metadata/{key}`
with `/children` and `/allLeaves`. The token must come in `X-Plex-Token` (header or query).
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes_media_servers.base import FakeServer

_keys = itertools.count(1000)


def next_key() -> str:
    return str(next(_keys))


@dataclass
class PlexVideo:
    guid: str
    title: str
    file: str
    size: int = 1000
    year: int | None = None
    duration_ms: int = 60_000
    added_at: int = 1_700_000_000
    updated_at: int = 1_700_000_000
    ids: dict[str, str] = field(default_factory=dict)  # imdb, tmdb, tvdb
    rating_key: str = field(default_factory=next_key)
    # episodes
    show: PlexShow | None = None
    season: int | None = None
    episode: int | None = None

    @property
    def kind(self) -> str:
        return "episode" if self.show is not None else "movie"


@dataclass
class PlexShow:
    title: str
    guid: str
    year: int | None = None
    rating_key: str = field(default_factory=next_key)
    season_keys: dict[int, str] = field(default_factory=dict)

    def season_key(self, number: int) -> str:
        return self.season_keys.setdefault(number, next_key())


@dataclass
class PlexSection:
    key: str
    kind: str  # movie | show
    title: str
    locations: list[str]
    items: list[PlexVideo] = field(default_factory=list)


@dataclass
class FakePlex(FakeServer):
    sections: dict[str, PlexSection] = field(default_factory=dict)
    page_sizes: list[int] = field(default_factory=list)  # the window of each /all request

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get("X-Plex-Token") or request.query.get("X-Plex-Token")
        return given == self.token

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/library/sections", self.sections_list),
            web.get("/library/sections/{id}/all", self.all_items),
            web.get("/library/sections/{id}/search", self.search),
            web.get("/library/metadata/{key}", self.metadata),
            web.get("/library/metadata/{key}/children", self.children),
            web.get("/library/metadata/{key}/allLeaves", self.all_leaves),
        ]

    # --- the library model ---------------------------------------------------------------------
    def section(self, key: str, kind: str, title: str, *locations: str) -> PlexSection:
        self.sections[key] = PlexSection(key, kind, title, list(locations))
        return self.sections[key]

    def shows(self, section: PlexSection) -> list[PlexShow]:
        seen: dict[str, PlexShow] = {}
        for item in section.items:
            if item.show is not None:
                seen.setdefault(item.show.rating_key, item.show)
        return list(seen.values())

    def find(self, key: str) -> tuple[PlexSection, PlexVideo | PlexShow | None]:
        for section in self.sections.values():
            for item in section.items:
                if item.rating_key == key:
                    return section, item
            for show in self.shows(section):
                if show.rating_key == key:
                    return section, show
        raise web.HTTPNotFound()

    # --- XML ---------------------------------------------------------------------------------
    @staticmethod
    def container(children: list[ET.Element], **attrs: Any) -> web.Response:
        root = ET.Element("MediaContainer", {k: str(v) for k, v in attrs.items()})
        root.set("size", str(len(children)))
        root.extend(children)
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)
        return web.Response(body=body, content_type="text/xml", charset="utf-8")

    @staticmethod
    def video(item: PlexVideo, section: PlexSection, guids: bool) -> ET.Element:
        attrs = {
            "ratingKey": item.rating_key,
            "key": f"/library/metadata/{item.rating_key}",
            "guid": item.guid,
            "type": item.kind,
            "title": item.title,
            "librarySectionID": section.key,
            "librarySectionTitle": section.title,
            "duration": str(item.duration_ms),
            "addedAt": str(item.added_at),
            "updatedAt": str(item.updated_at),
        }
        if item.year is not None:
            attrs["year"] = str(item.year)
        if item.show is not None:
            attrs.update(
                grandparentTitle=item.show.title,
                grandparentGuid=item.show.guid,
                grandparentRatingKey=item.show.rating_key,
                parentRatingKey=item.show.season_key(item.season or 0),
                parentIndex=str(item.season),
                index=str(item.episode),
                parentTitle=f"Season {item.season}",
            )
        element = ET.Element("Video", attrs)
        media = ET.SubElement(
            element,
            "Media",
            {
                "id": str(int(item.rating_key) * 10),
                "duration": str(item.duration_ms),
                "container": item.file.rsplit(".", 1)[-1],
                "videoCodec": "h264",
            },
        )
        ET.SubElement(
            media,
            "Part",
            {
                "id": str(int(item.rating_key) * 100),
                "key": f"/library/parts/{int(item.rating_key) * 100}/file.mkv",
                "duration": str(item.duration_ms),
                "file": item.file,
                "size": str(item.size),
                "container": item.file.rsplit(".", 1)[-1],
            },
        )
        if guids:
            for scheme, value in item.ids.items():
                ET.SubElement(element, "Guid", {"id": f"{scheme}://{value}"})
        return element

    @staticmethod
    def show_directory(show: PlexShow, section: PlexSection) -> ET.Element:
        attrs = {
            "ratingKey": show.rating_key,
            "key": f"/library/metadata/{show.rating_key}/children",
            "guid": show.guid,
            "type": "show",
            "title": show.title,
            "librarySectionID": section.key,
        }
        if show.year is not None:
            attrs["year"] = str(show.year)
        return ET.Element("Directory", attrs)

    def window(self, request: web.Request, total: int) -> tuple[int, int]:
        start = request.query.get("X-Plex-Container-Start") or request.headers.get(
            "X-Plex-Container-Start"
        )
        size = request.query.get("X-Plex-Container-Size") or request.headers.get(
            "X-Plex-Container-Size"
        )
        return int(start or 0), int(size or total)

    def paged(self, request: web.Request, elements: list[ET.Element], **attrs: Any) -> web.Response:
        start, size = self.window(request, len(elements))
        self.page_sizes.append(size)
        page = elements[start : start + size]
        return self.container(page, totalSize=len(elements), offset=start, **attrs)

    # --- handlers ----------------------------------------------------------------------------
    async def sections_list(self, request: web.Request) -> web.Response:
        dirs = []
        for section in self.sections.values():
            directory = ET.Element(
                "Directory",
                {
                    "key": section.key,
                    "type": section.kind,
                    "title": section.title,
                    "agent": "tv.plex.agents.movie"
                    if section.kind == "movie"
                    else "tv.plex.agents.series",
                    "scanner": "Plex Movie" if section.kind == "movie" else "Plex TV Series",
                    "language": "en-US",
                    "uuid": f"uuid-{section.key}",
                    "updatedAt": "1700000000",
                    "createdAt": "1690000000",
                },
            )
            for number, path in enumerate(section.locations, 1):
                ET.SubElement(directory, "Location", {"id": str(number), "path": path})
            dirs.append(directory)
        return self.container(dirs, allowSync="0", title1="Plex Library")

    async def all_items(self, request: web.Request) -> web.Response:
        section = self.sections.get(request.match_info["id"])
        if section is None:
            raise web.HTTPNotFound()
        wanted = {"1": "movie", "4": "episode", "2": "show"}.get(request.query.get("type", ""))
        if wanted is None:
            wanted = "movie" if section.kind == "movie" else "show"
        guids = request.query.get("includeGuids") == "1"
        since = request.query.get("updatedAt>>")
        if wanted == "show":
            elements = [self.show_directory(s, section) for s in self.shows(section)]
        else:
            elements = [
                self.video(item, section, guids)
                for item in section.items
                if item.kind == wanted and (since is None or item.updated_at >= int(since))
            ]
        return self.paged(request, elements, librarySectionID=section.key)

    async def search(self, request: web.Request) -> web.Response:
        section = self.sections.get(request.match_info["id"])
        if section is None:
            raise web.HTTPNotFound()
        query = request.query.get("query", "").lower()
        guids = request.query.get("includeGuids") == "1"
        if request.query.get("type") == "2":
            found = [
                self.show_directory(s, section)
                for s in self.shows(section)
                if query in s.title.lower()
            ]
        else:
            found = [
                self.video(i, section, guids)
                for i in section.items
                if i.kind == "movie" and query in i.title.lower()
            ]
        return self.container(found)

    async def metadata(self, request: web.Request) -> web.Response:
        section, item = self.find(request.match_info["key"])
        if isinstance(item, PlexVideo):
            return self.container(
                [self.video(item, section, request.query.get("includeGuids") == "1")]
            )
        assert isinstance(item, PlexShow)
        return self.container([self.show_directory(item, section)])

    async def children(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        guids = request.query.get("includeGuids") == "1"
        for section in self.sections.values():
            for show in self.shows(section):
                episodes = [i for i in section.items if i.show is show]
                if show.rating_key == key:
                    seasons = sorted({i.season or 0 for i in episodes})
                    dirs = [
                        ET.Element(
                            "Directory",
                            {
                                "ratingKey": show.season_key(n),
                                "type": "season",
                                "index": str(n),
                                "title": f"Season {n}",
                                "parentRatingKey": show.rating_key,
                                "key": f"/library/metadata/{show.season_key(n)}/children",
                            },
                        )
                        for n in seasons
                    ]
                    return self.container(dirs)
                for number, season_key in show.season_keys.items():
                    if season_key == key:
                        chosen = [
                            self.video(i, section, guids) for i in episodes if i.season == number
                        ]
                        return self.paged(request, chosen)
        raise web.HTTPNotFound()

    async def all_leaves(self, request: web.Request) -> web.Response:
        section, show = self.find(request.match_info["key"])
        if not isinstance(show, PlexShow):
            raise web.HTTPNotFound()
        guids = request.query.get("includeGuids") == "1"
        episodes = [self.video(i, section, guids) for i in section.items if i.show is show]
        return self.paged(request, episodes)
