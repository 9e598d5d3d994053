"""The Jellyfin importer against a fake Jellyfin server: discover, ingest through path mappings
page by page, incremental with MinDateLastSaved, narrowing with SearchTerm, a 401."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.adapters.importers import jellyfin as jellyfin_importer
from tests.fakes_media_servers.jellyfin import FakeJellyfin, JellyfinItem
from tests.integration.media_servers.conftest import JELLYFIN_KEY, Cli, put

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]


def library(server: FakeJellyfin, disk: Path) -> dict[str, JellyfinItem]:
    films = server.library("Films", "movies", "/data/movies")
    tv = server.library("Series", "tvshows", "/data/tv")
    server.library("Music", "music", "/data/music")  # not ours: never a collection
    items = {
        "dune": JellyfinItem(
            "Dune",
            put(disk, "movies/Dune (2021)/Dune (2021).mkv", b"dune"),
            year=2021,
            ids={"Imdb": "tt1160419", "Tmdb": "438631"},
            ticks=93_540_000_000,
        ),
        "up": JellyfinItem("Up", put(disk, "movies/Up (2009)/Up (2009).mkv", b"up"), year=2009),
        "coco": JellyfinItem(
            "Coco", put(disk, "movies/Coco (2017)/Coco (2017).mkv", b"coco"), year=2017
        ),
    }
    films.items.extend(items.values())
    series = JellyfinItem("Severance", "/data/tv/Severance", kind="Series", year=2022)
    for number in (1, 2):
        name = f"tv/Severance/Season 01/Severance - S01E0{number}.mkv"
        tv.items.append(
            JellyfinItem(
                f"Episode {number}",
                put(disk, name, name.encode()),
                kind="Episode",
                series=series,
                season=1,
                episode=number,
                ids={"Tvdb": f"90{number}"},
            )
        )
    return items


def test_discover_ingest_incremental_and_narrowing(
    jellyfin: FakeJellyfin,
    disk: Path,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jellyfin_importer, "PAGE_SIZE", 2)
    items = library(jellyfin, disk)
    key_file = tmp_path / "jellyfin.key"
    key_file.write_text(JELLYFIN_KEY)
    cli.json(
        "source",
        "add",
        "--type",
        "jellyfin",
        "--name",
        "jf",
        "--url",
        jellyfin.url,
        "--token-file",
        str(key_file),
        "--path-mapping",
        f"/data={disk}",
    )
    found = cli.json("source", "discover", "jf")
    created = {c["name"]: c for c in found["created"]}
    assert set(created) == {"Films", "Series"}
    assert created["Films"]["external_id"] == jellyfin.libraries[0].item_id

    cli.json("collection", "update", "Films", "--sync-enable")
    first = cli.json("collection", "ingest", "Films")
    assert first["stats"]["assets_ingested"] == 3 and first["stats"]["files_hashed"] == 3
    pages = [r for r in jellyfin.requests if r.path == "/Items"]
    assert [dict(r.query)["StartIndex"] for r in pages] == ["0", "2"]
    query = dict(pages[0].query)
    assert query["IncludeItemTypes"] == "Movie" and query["Recursive"] == "true"
    assert set(query["Fields"].split(",")) >= {"Path", "ProviderIds", "MediaSources"}
    assert 'Token="' in pages[0].headers["Authorization"]
    listed = cli.json("asset", "list", "--collection", "Films")["assets"]
    dune = next(a for a in listed if a["canonical_key"] == f"jellyfin://{items['dune'].item_id}")
    meta = cli.json("asset", "show", dune["id"])["asset"]["tech_metadata"]
    assert meta["server_duration"] == 9354.0  # RunTimeTicks are 100 ns
    assert meta["external_ids"] == {"imdb": "tt1160419", "tmdb": "438631"}

    human = cli("collection", "ingest", "Films")
    assert human.code == 0 and "Films" in human.stdout, human.stderr
    shown = cli("source", "discover", "jf")
    assert shown.code == 0 and "0 new, 2 already known" in shown.stdout
    jellyfin.requests.clear()
    items["up"].saved += 60
    (disk / "movies/Up (2009)/Up (2009).mkv").write_bytes(b"up, recut")
    again = cli.json("collection", "ingest", "Films")
    assert again["stats"]["assets_discovered"] == 1 and again["stats"]["assets_updated"] == 1
    assert all("MinDateLastSaved" in dict(r.query) for r in jellyfin.requests if r.path == "/Items")

    narrowed = cli.json(
        "collection", "ingest", "Series", "--title", "Severance", "--season", "1", "--episode", "2"
    )
    assert narrowed["stats"]["assets_ingested"] == 1
    assert any(("SearchTerm", "Severance") in r.query for r in jellyfin.requests)
    cli.json("collection", "update", "Series", "--sync-enable")
    tv = cli.json("collection", "ingest", "Series")
    assert tv["stats"]["assets_discovered"] == 2 and tv["stats"]["assets_ingested"] == 1

    jellyfin.libraries[0].items.remove(items["coco"])
    whole = cli.json("source", "ingest", "jf", "--full")
    assert whole["status"] == "ok" and whole["collections_processed"] == 2
    assert whole["total_missing_assets"] == 1
    assert cli.leaked(JELLYFIN_KEY) == []


def test_a_wrong_api_key_exits_3(jellyfin: FakeJellyfin, disk: Path, cli: Cli) -> None:
    library(jellyfin, disk)
    cli.json(
        "source",
        "add",
        "--type",
        "jellyfin",
        "--name",
        "jf",
        "--url",
        jellyfin.url,
        "--token-env",
        "JF_KEY",
        "--path-mapping",
        f"/data={disk}",
    )
    wrong = cli("source", "discover", "jf", env={"JF_KEY": "not-the-key"})
    assert wrong.code == 3 and "refused the credentials (HTTP 401)" in wrong.stderr
    assert "not-the-key" not in wrong.stdout + wrong.stderr
    right = cli.json("source", "discover", "jf", env={"JF_KEY": JELLYFIN_KEY})
    assert len(right["created"]) == 2
