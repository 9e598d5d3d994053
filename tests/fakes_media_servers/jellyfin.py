"""A fake Jellyfin server: JSON as Jellyfin 10.x writes it.

What it answers, as the real server does (the Jellyfin OpenAPI description was the reference):
`/Library/VirtualFolders` (`Name`, `CollectionType` movies/tvshows, `ItemId`, `Locations`) and
`/Items` with `ParentId`, `Recursive`, `IncludeItemTypes`, `Fields`, `StartIndex`, `Limit`,
`MinDateLastSaved`, `SearchTerm`, `ParentIndexNumber` (`Items`, `TotalRecordCount`,
`StartIndex`; `Path`, `ProviderIds`, `MediaSources`, `DateCreated`, `DateLastSaved` only when
asked for in `Fields`; `RunTimeTicks` in 100 ns units). The API key must come in
`Authorization: MediaBrowser Token="..."`, `X-Emby-Token` or `api_key`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes_media_servers.base import FakeServer

TOKEN = re.compile(r'Token="([^"]*)"')


def jf_time(epoch: float) -> str:
    """Jellyfin's own way: seven fractional digits and a Z."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


@dataclass
class JellyfinItem:
    name: str
    path: str
    kind: str = "Movie"  # Movie | Episode | Series
    size: int = 1000
    year: int | None = None
    ticks: int = 600_000_000
    created: float = 1_700_000_000.0
    saved: float = 1_700_000_000.0
    ids: dict[str, str] = field(default_factory=dict)  # Imdb, Tmdb, Tvdb
    item_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    series: JellyfinItem | None = None
    season: int | None = None
    episode: int | None = None

    def dto(self, fields: set[str]) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "Name": self.name,
            "ServerId": "fake-server",
            "Id": self.item_id,
            "Type": self.kind,
            "IsFolder": self.kind == "Series",
            "RunTimeTicks": self.ticks,
        }
        if self.year is not None:
            doc["ProductionYear"] = self.year
        if self.series is not None:
            doc.update(
                SeriesName=self.series.name,
                SeriesId=self.series.item_id,
                ParentIndexNumber=self.season,
                IndexNumber=self.episode,
            )
        if "Path" in fields:
            doc["Path"] = self.path
        if "ProviderIds" in fields:
            doc["ProviderIds"] = dict(self.ids)
        if "DateCreated" in fields:
            doc["DateCreated"] = jf_time(self.created)
        if "DateLastSaved" in fields:
            doc["DateLastSaved"] = jf_time(self.saved)
        if "MediaSources" in fields and self.kind != "Series":
            doc["MediaSources"] = [
                {
                    "Protocol": "File",
                    "Id": self.item_id,
                    "Path": self.path,
                    "Type": "Default",
                    "Container": self.path.rsplit(".", 1)[-1],
                    "Size": self.size,
                    "Name": self.name,
                    "RunTimeTicks": self.ticks,
                }
            ]
        return doc


@dataclass
class JellyfinLibrary:
    name: str
    collection_type: str  # movies | tvshows
    locations: list[str]
    items: list[JellyfinItem] = field(default_factory=list)
    item_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class FakeJellyfin(FakeServer):
    libraries: list[JellyfinLibrary] = field(default_factory=list)

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        match = TOKEN.search(header)
        given = (
            (match.group(1) if match else None)
            or request.headers.get("X-Emby-Token")
            or request.query.get("api_key")
        )
        return given == self.token

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/Library/VirtualFolders", self.virtual_folders),
            web.get("/Items", self.items),
        ]

    def library(self, name: str, collection_type: str, *locations: str) -> JellyfinLibrary:
        self.libraries.append(JellyfinLibrary(name, collection_type, list(locations)))
        return self.libraries[-1]

    async def virtual_folders(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "Name": lib.name,
                    "Locations": lib.locations,
                    "CollectionType": lib.collection_type,
                    "LibraryOptions": {"Enabled": True},
                    "ItemId": lib.item_id,
                    "RefreshStatus": "Idle",
                }
                for lib in self.libraries
            ]
        )

    def under(self, parent: str) -> list[JellyfinItem]:
        for lib in self.libraries:
            if lib.item_id == parent:
                series = {i.series.item_id: i.series for i in lib.items if i.series}
                return [*lib.items, *series.values()]
            for item in lib.items:
                if item.series is not None and item.series.item_id == parent:
                    return [i for i in lib.items if i.series is item.series]
        raise web.HTTPNotFound()

    async def items(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("Recursive", "").lower() != "true" or "ParentId" not in q:
            raise web.HTTPNotFound()  # not a request this fake (or the importer) should make
        found = self.under(q["ParentId"])
        types = set(filter(None, q.get("IncludeItemTypes", "").split(",")))
        if types:
            found = [i for i in found if i.kind in types]
        if "MinDateLastSaved" in q:
            since = datetime.fromisoformat(q["MinDateLastSaved"][:26] + "+00:00").timestamp()
            found = [i for i in found if i.saved >= since]
        if "SearchTerm" in q:
            term = q["SearchTerm"].lower()
            found = [i for i in found if term in i.name.lower()]
        if "ParentIndexNumber" in q:
            found = [i for i in found if i.season == int(q["ParentIndexNumber"])]
        fields = set(q.get("Fields", "").split(","))
        start = int(q.get("StartIndex", "0"))
        limit = int(q.get("Limit", str(len(found) or 1)))
        page = found[start : start + limit]
        return web.json_response(
            {
                "Items": [i.dto(fields) for i in page],
                "TotalRecordCount": len(found),
                "StartIndex": start,
            }
        )
