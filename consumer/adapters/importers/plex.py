"""The Plex importer: a Plex Media Server's movie and TV libraries, through its HTTP API.

Requests (all GET, the token in the `X-Plex-Token` header, XML answers):

- `/library/sections`: the libraries (`Directory` elements, `type` movie or show, `Location`
  children with the server's folders);
- `/library/sections/{id}/all?type=1|4&includeGuids=1`: a library's movies (type 1) or all its
  episodes in one flat listing (type 4), page by page with `X-Plex-Container-Start` /
  `X-Plex-Container-Size` (sent both as query parameters and as headers; the answer's
  `totalSize` says when to stop), only what changed with `updatedAt>>=MARK`;
- `/library/sections/{id}/search?type=1|2&query=TITLE` (or `/hubs/search` on servers without
  it) and `/library/metadata/{ratingKey}/children` (a show's seasons, a season's episodes) or
  `/allLeaves` (every episode of a show) for `--title/--season/--episode`.

Identity: a `ratingKey` changes when a file is replaced, so it is only a locator; the item's
`guid` (`plex://movie/…`, or a legacy agent's `com.plexapp.agents.imdb://…`) is its key, and an
item Plex could not match (`local://…`) is keyed by its file's path on the server. Every answer
is parsed as it came: nothing is fetched again per item behind the caller's back.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from typing import Any

from consumer.adapters.importers.http import NotOnServerError, ServerClient, read_secret
from consumer.adapters.importers.media_server import (
    MediaServerImporter,
    RawItem,
    as_float,
    as_int,
)
from consumer.domain.importing import IngestScope, Library

PAGE_SIZE = 200
MOVIE, SHOW, SEASON, EPISODE = 1, 2, 3, 4
KINDS = {"movie": "movie", "show": "show"}


class PlexImporter(MediaServerImporter):
    source_type = "plex"
    server_name = "Plex"

    def _client(self) -> ServerClient:
        source = self.bound
        assert source.server is not None
        return ServerClient(
            server=self.server_name,
            source=source.name,
            base_url=source.server.url,
            headers={
                "X-Plex-Token": read_secret(source),
                "Accept": "application/xml",
                "X-Plex-Product": "Apollonia",
                "X-Plex-Client-Identifier": f"apollonia-{source.uuid}",
            },
            timeout=source.server.timeout,
        )

    def _xml(
        self,
        client: ServerClient,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> ET.Element:
        answer = client.get(path, params, headers)
        try:
            root = ET.fromstring(answer.body)
        except ET.ParseError as exc:
            raise client.bad_answer(answer.status, f"not a Plex answer ({exc})") from None
        if root.tag != "MediaContainer":
            raise client.bad_answer(answer.status, f"not a Plex answer (<{root.tag}>)")
        return root

    # --- libraries --------------------------------------------------------------------------
    def libraries(self) -> list[Library]:
        client = self._client()
        root = self._xml(client, "/library/sections")
        found = []
        for directory in root.iter("Directory"):
            kind = KINDS.get(directory.get("type", ""))
            key = directory.get("key")
            if kind is None or not key:
                continue  # music, photos: not ours
            found.append(
                Library(
                    library_id=key,
                    name=directory.get("title") or key,
                    kind="movie" if kind == "movie" else "show",
                    root=client.url(f"/library/sections/{key}"),
                    locations=tuple(
                        p for loc in directory.iter("Location") if (p := loc.get("path"))
                    ),
                )
            )
        return found

    # --- listing ----------------------------------------------------------------------------
    def _items(self, library_id: str, kind: str, since: str | None) -> Iterator[RawItem]:
        client = self._client()
        item_type = EPISODE if kind == "show" else MOVIE
        params = [("type", str(item_type)), ("includeGuids", "1")]
        if since is not None:
            params.append(("updatedAt>>", since))  # Plex's filter syntax: updatedAt>>=MARK
        mark = as_int(since)
        for video in self._paged(client, f"/library/sections/{library_id}/all", params):
            raw = self._raw(video)
            # A server that ignores the filter still lists only what changed, as far as we see.
            if mark is not None and raw.changed_at is not None and raw.changed_at <= mark:
                continue
            yield raw

    def _paged(
        self, client: ServerClient, path: str, params: Sequence[tuple[str, str]]
    ) -> Iterator[ET.Element]:
        start = 0
        seen: set[str] = set()
        while True:
            window = {
                "X-Plex-Container-Start": str(start),
                "X-Plex-Container-Size": str(PAGE_SIZE),
            }
            root = self._xml(client, path, [*params, *window.items()], window)
            videos = [e for e in root if e.tag in ("Video", "Directory")]
            keys = {e.get("ratingKey") or "" for e in videos}
            if videos and keys <= seen:
                return  # the server ignores the window: this page was listed already
            seen |= keys
            yield from videos
            total = as_int(root.get("totalSize"))
            start += len(videos)
            if not videos:
                return
            if total is not None:
                if start >= total:
                    return
            elif len(videos) < PAGE_SIZE:
                return
            if len(videos) > PAGE_SIZE:
                return  # the server ignored the window and sent everything

    def _raw(self, video: ET.Element) -> RawItem:
        guid = video.get("guid") or ""
        part = next(video.iter("Part"), None)
        server_path = part.get("file") if part is not None else None
        media = next(video.iter("Media"), None)
        kind = "episode" if video.get("type") == "episode" else "movie"
        if guid and not guid.startswith("local://"):
            key = guid
        elif server_path:
            key = f"file://{server_path}"
        else:
            key = f"plex-item://{video.get('ratingKey')}"
        duration_ms = as_float(video.get("duration")) or (
            as_float(media.get("duration")) if media is not None else None
        )
        updated = as_int(video.get("updatedAt"))
        added = as_int(video.get("addedAt"))
        changed = updated if updated is not None else added
        extra: dict[str, Any] = {
            "guid": guid or None,
            "added_at": added,
            "mark": str(changed) if changed is not None else None,
            "show_guid": video.get("grandparentGuid"),
        }
        return RawItem(
            key=key,
            locator=video.get("ratingKey") or "",
            kind=kind,
            title=video.get("title"),
            server_path=server_path,
            size=as_int(part.get("size")) if part is not None else None,
            year=as_int(video.get("year")),
            show=video.get("grandparentTitle") if kind == "episode" else None,
            season=as_int(video.get("parentIndex")) if kind == "episode" else None,
            episode=as_int(video.get("index")) if kind == "episode" else None,
            duration=duration_ms / 1000 if duration_ms else None,
            changed_at=float(changed) if changed is not None else None,
            external_ids=external_ids(video),
            extra={k: v for k, v in extra.items() if v is not None},
        )

    # --- narrowing --------------------------------------------------------------------------
    def _search(self, library_id: str, kind: str, scope: IngestScope) -> Iterator[RawItem]:
        client = self._client()
        assert scope.title is not None
        if kind != "show":
            for video in self._find(client, library_id, MOVIE, scope.title):
                yield self._complete(client, video)
            return
        for show in self._find(client, library_id, SHOW, scope.title):
            show_key = show.get("ratingKey")
            if not show_key:
                continue
            if scope.season is None:
                leaves = f"/library/metadata/{show_key}/allLeaves"
                for video in self._paged(client, leaves, [("includeGuids", "1")]):
                    yield self._complete(client, video)
                continue
            seasons = self._xml(client, f"/library/metadata/{show_key}/children")
            for season in seasons.iter("Directory"):
                if as_int(season.get("index")) != scope.season or not season.get("ratingKey"):
                    continue
                episodes = f"/library/metadata/{season.get('ratingKey')}/children"
                for video in self._paged(client, episodes, [("includeGuids", "1")]):
                    if scope.episode is None or as_int(video.get("index")) == scope.episode:
                        yield self._complete(client, video, show)

    def _find(
        self, client: ServerClient, library_id: str, item_type: int, title: str
    ) -> list[ET.Element]:
        """The movies or shows the server's search finds for a title."""
        wanted = "Video" if item_type == MOVIE else "Directory"
        kind = "movie" if item_type == MOVIE else "show"
        params = [("type", str(item_type)), ("query", title), ("includeGuids", "1")]
        try:
            root = self._xml(client, f"/library/sections/{library_id}/search", params)
        except NotOnServerError:
            root = self._xml(
                client,
                "/hubs/search",
                [("query", title), ("sectionId", library_id), ("includeGuids", "1")],
            )
        return [
            e
            for e in root.iter(wanted)
            if e.get("type", kind) == kind and e.get("librarySectionID", library_id) == library_id
        ]

    def _complete(
        self, client: ServerClient, video: ET.Element, show: ET.Element | None = None
    ) -> RawItem:
        """A search hit as an item. One without its file (a hub answer can be shallow) is asked
        for once, explicitly: never a silent reload per item."""
        key = video.get("ratingKey")
        if next(video.iter("Part"), None) is None and key:
            try:
                full = self._xml(client, f"/library/metadata/{key}", [("includeGuids", "1")])
            except NotOnServerError:
                full = None
            if full is not None:
                video = next(full.iter("Video"), video)
        raw = self._raw(video)
        if raw.kind == "episode" and raw.show is None and show is not None:
            raw.show = show.get("title")
        return raw

    @staticmethod
    def _later(a: str | None, b: str | None) -> str | None:
        values = [v for v in (as_int(a), as_int(b)) if v is not None]
        return str(max(values)) if values else None


def external_ids(video: ET.Element) -> dict[str, str]:
    """imdb, tmdb, tvdb ids from `Guid` children (`includeGuids=1`) and a legacy agent guid."""
    ids: dict[str, str] = {}
    for element in video.findall("Guid"):
        scheme, sep, value = (element.get("id") or "").partition("://")
        if sep and value:
            ids[scheme] = value
    legacy = video.get("guid") or ""
    for agent, name in (("imdb", "imdb"), ("themoviedb", "tmdb"), ("thetvdb", "tvdb")):
        prefix = f"com.plexapp.agents.{agent}://"
        if legacy.startswith(prefix) and name not in ids:
            ids[name] = legacy[len(prefix) :].split("?")[0].split("/")[0]
    return ids
