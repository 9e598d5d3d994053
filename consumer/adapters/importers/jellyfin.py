"""The Jellyfin importer: a Jellyfin server's movie and TV libraries, through its HTTP API.

Requests (all GET, the API key in `Authorization: MediaBrowser Token="…"` and `X-Emby-Token`,
JSON answers):

- `/Library/VirtualFolders`: the libraries (`CollectionType` movies or tvshows, `ItemId`,
  `Locations`);
- `/Items?ParentId=ID&Recursive=true&IncludeItemTypes=Movie|Episode&Fields=Path,ProviderIds,
  MediaSources,DateCreated,DateLastSaved&StartIndex=N&Limit=N`: a library's movies or episodes,
  page by page until `TotalRecordCount`; only what changed with `MinDateLastSaved=MARK`;
- `SearchTerm=TITLE` (movies, or `Series` then their episodes with `ParentId=SERIES`) for
  `--title/--season/--episode`.

Identity: the item's `Id`; durations are `RunTimeTicks` (100 ns units).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from consumer.adapters.importers.http import ServerClient, read_secret
from consumer.adapters.importers.media_server import MediaServerImporter, RawItem, as_int
from consumer.domain.importing import IngestScope, Library

PAGE_SIZE = 200
FIELDS = "Path,ProviderIds,MediaSources,DateCreated,DateLastSaved"
KINDS = {"movies": "movie", "tvshows": "show"}
TICKS_PER_SECOND = 10_000_000


class JellyfinImporter(MediaServerImporter):
    source_type = "jellyfin"
    server_name = "Jellyfin"

    def _client(self) -> ServerClient:
        source = self.bound
        assert source.server is not None
        key = read_secret(source)
        return ServerClient(
            server=self.server_name,
            source=source.name,
            base_url=source.server.url,
            headers={
                # Token first: the scheme as Jellyfin documents it, `MediaBrowser Token="…"`,
                # then who is asking (shown in the server's activity log).
                "Authorization": (
                    f'MediaBrowser Token="{key}", Client="Apollonia", Device="apollonia", '
                    f'DeviceId="apollonia-{source.uuid}", Version="1"'
                ),
                "X-Emby-Token": key,
                "Accept": "application/json",
            },
            timeout=source.server.timeout,
        )

    def _json(self, client: ServerClient, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        answer = client.get(path, params)
        try:
            return json.loads(answer.body)
        except ValueError as exc:
            raise client.bad_answer(answer.status, f"not a Jellyfin answer ({exc})") from None

    # --- libraries --------------------------------------------------------------------------
    def libraries(self) -> list[Library]:
        client = self._client()
        found = []
        folders = self._json(client, "/Library/VirtualFolders")
        for folder in folders if isinstance(folders, list) else []:
            kind = KINDS.get(str(folder.get("CollectionType") or "").lower())
            item_id = folder.get("ItemId")
            if kind is None or not item_id:
                continue
            found.append(
                Library(
                    library_id=str(item_id),
                    name=str(folder.get("Name") or item_id),
                    kind="movie" if kind == "movie" else "show",
                    root=client.url(f"/Items/{item_id}"),
                    locations=tuple(str(p) for p in folder.get("Locations") or ()),
                )
            )
        return found

    # --- listing ----------------------------------------------------------------------------
    def _items(self, library_id: str, kind: str, since: str | None) -> Iterator[RawItem]:
        client = self._client()
        params = [
            ("ParentId", library_id),
            ("Recursive", "true"),
            ("IncludeItemTypes", "Episode" if kind == "show" else "Movie"),
            ("Fields", FIELDS),
        ]
        if since is not None:
            params.append(("MinDateLastSaved", since))
        mark = _time(since)
        for item in self._paged(client, params):
            raw = self._raw(item)
            # A server that ignores the filter still lists only what changed, as far as we see.
            saved = _time(raw.extra.get("mark"))
            if mark is not None and saved is not None and saved <= mark:
                continue
            yield raw

    def _paged(
        self, client: ServerClient, params: Sequence[tuple[str, str]]
    ) -> Iterator[dict[str, Any]]:
        start = 0
        seen: set[str] = set()
        while True:
            page = self._json(
                client, "/Items", [*params, ("StartIndex", str(start)), ("Limit", str(PAGE_SIZE))]
            )
            items = page.get("Items") or [] if isinstance(page, dict) else []
            ids = {str(i.get("Id")) for i in items if isinstance(i, dict)}
            if items and ids <= seen:
                return  # the server ignores StartIndex: this page was listed already
            seen |= ids
            yield from (i for i in items if isinstance(i, dict))
            start += len(items)
            total = as_int(page.get("TotalRecordCount")) if isinstance(page, dict) else None
            if not items or (total is not None and start >= total):
                return
            if total is None and len(items) < PAGE_SIZE:
                return
            if len(items) > PAGE_SIZE:
                return  # the server ignored the window and sent everything

    def _raw(self, item: dict[str, Any]) -> RawItem:
        sources = item.get("MediaSources") or []
        media = sources[0] if sources and isinstance(sources[0], dict) else {}
        kind = "episode" if item.get("Type") == "Episode" else "movie"
        ticks = item.get("RunTimeTicks") or media.get("RunTimeTicks")
        saved = item.get("DateLastSaved") or item.get("DateCreated")
        ids = {str(k).lower(): str(v) for k, v in (item.get("ProviderIds") or {}).items() if v}
        changed = _time(saved)
        extra = {
            "added_at": item.get("DateCreated"),
            "mark": saved,
            "series_id": item.get("SeriesId"),
        }
        return RawItem(
            key=f"jellyfin://{item.get('Id')}",
            locator=str(item.get("Id") or ""),
            kind=kind,
            title=item.get("Name"),
            server_path=media.get("Path") or item.get("Path"),
            size=as_int(media.get("Size")),
            year=as_int(item.get("ProductionYear")),
            show=item.get("SeriesName") if kind == "episode" else None,
            season=as_int(item.get("ParentIndexNumber")) if kind == "episode" else None,
            episode=as_int(item.get("IndexNumber")) if kind == "episode" else None,
            duration=int(ticks) / TICKS_PER_SECOND if ticks else None,
            changed_at=changed.timestamp() if changed else None,
            external_ids=ids,
            extra={k: v for k, v in extra.items() if v is not None},
        )

    # --- narrowing --------------------------------------------------------------------------
    def _search(self, library_id: str, kind: str, scope: IngestScope) -> Iterator[RawItem]:
        client = self._client()
        assert scope.title is not None
        base = [("Recursive", "true"), ("Fields", FIELDS)]
        if kind != "show":
            params = [("ParentId", library_id), *base, ("IncludeItemTypes", "Movie")]
            for item in self._paged(client, [*params, ("SearchTerm", scope.title)]):
                yield self._raw(item)
            return
        series_params = [("ParentId", library_id), ("Recursive", "true")]
        series_params += [("IncludeItemTypes", "Series"), ("SearchTerm", scope.title)]
        for series in self._paged(client, series_params):
            episodes = [("ParentId", str(series.get("Id"))), *base]
            episodes.append(("IncludeItemTypes", "Episode"))
            if scope.season is not None:
                episodes.append(("ParentIndexNumber", str(scope.season)))
            for item in self._paged(client, episodes):
                raw = self._raw(item)
                raw.show = raw.show or series.get("Name")
                yield raw

    @staticmethod
    def _later(a: str | None, b: str | None) -> str | None:
        if a is None or b is None:
            return a or b
        ta, tb = _time(a), _time(b)
        if ta is None or tb is None:
            return a if tb is None else b
        return b if tb > ta else a


def _time(value: object) -> datetime | None:
    """Jellyfin's times: ISO 8601 with up to seven fractional digits and a `Z`."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
