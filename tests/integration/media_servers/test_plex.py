"""The Plex importer against a fake Plex Media Server, as an operator runs it: discover the
libraries, ingest through path mappings, page by page, incrementally, a replaced or re-matched
item keeping its asset, narrowing through the server's search, and every way a server fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.adapters.importers import plex as plex_importer
from tests.fakes_media_servers.plex import FakePlex, PlexShow, PlexVideo, next_key
from tests.integration.media_servers.conftest import PLEX_TOKEN, Cli, closed_port, put

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]


def add_source(cli: Cli, url: str, token_file: Path, disk: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    return cli.json(
        "source",
        "add",
        "--type",
        "plex",
        "--name",
        "home",
        "--url",
        url,
        "--token-file",
        str(token_file),
        "--path-mapping",
        f"/data={disk}",
        *extra,
    )


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets" / "plex_token"
    path.parent.mkdir()
    path.write_text(PLEX_TOKEN + "\n")
    return path


def movies(plex: FakePlex, disk: Path) -> dict[str, PlexVideo]:
    section = plex.section("1", "movie", "Movies", "/data/movies")
    plex.section("2", "show", "TV Shows", "/data/tv")
    found = {
        "matrix": PlexVideo(
            guid="plex://movie/5d7768ba96b655001fdc0408",
            title="The Matrix",
            year=1999,
            file=put(disk, "movies/The Matrix (1999)/The Matrix (1999).mkv", b"matrix"),
            ids={"imdb": "tt0133093", "tmdb": "603"},
            duration_ms=8_160_000,
        ),
        "alien": PlexVideo(
            guid="plex://movie/5d776826e6d55c002040a8ab",
            title="Alien",
            year=1979,
            file=put(disk, "movies/Alien (1979)/Alien (1979).mkv", b"alien"),
            ids={"imdb": "tt0078748"},
        ),
        "home": PlexVideo(
            guid="local://48213",
            title="Birthday 2019",
            file=put(disk, "movies/Birthday 2019.mp4", b"birthday"),
        ),
        "heat": PlexVideo(
            guid="plex://movie/5d7768286f4521001ea9a2f1",
            title="Heat",
            year=1995,
            file=put(disk, "movies/Heat (1995)/Heat (1995).mkv", b"heat"),
        ),
        "ran": PlexVideo(
            guid="plex://movie/5d776825999c64001ec2bba6",
            title="Ran",
            year=1985,
            file=put(disk, "movies/Ran (1985)/Ran (1985).mkv", b"ran"),
        ),
    }
    section.items.extend(found.values())
    return found


def assets(cli: Cli, collection: str) -> dict[str, dict]:  # type: ignore[type-arg]
    listed = cli.json("asset", "list", "--collection", collection, "--include-deleted")
    return {a["canonical_key"]: a for a in listed["assets"]}


def test_discover_ingest_page_incremental_replace_rematch_full(
    plex: FakePlex,
    disk: Path,
    token_file: Path,
    cli: Cli,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plex_importer, "PAGE_SIZE", 2)  # five movies: three pages
    films = movies(plex, disk)
    added = add_source(cli, plex.url, token_file, disk)
    assert added["source"]["server"] == {
        "url": plex.url,
        "secret": {"from": "file", "path": str(token_file)},
        "timeout_seconds": 10.0,
    }
    shown = cli("source", "show", "home")
    assert f"read from the file {token_file}" in shown.stdout

    found = cli.json("source", "discover", "home")
    created = {c["name"]: c for c in found["created"]}
    assert set(created) == {"Movies", "TV Shows"}
    assert {c["external_id"] for c in created.values()} == {"1", "2"}
    assert not any(c["sync_enabled"] for c in created.values())
    assert cli.json("source", "discover", "home")["created"] == []  # known libraries stay

    refused = cli("collection", "ingest", "Movies")
    assert refused.code == 1 and "not sync-enabled" in refused.stderr
    cli.json("collection", "update", "Movies", "--sync-enable")

    first = cli.json("collection", "ingest", "Movies")
    assert first["stats"]["assets_ingested"] == 5
    assert first["stats"]["files_hashed"] == 5  # reachable through the mapping: fingerprinted
    pages = [r for r in plex.requests if r.path == "/library/sections/1/all"]
    assert len(pages) == 3 and set(plex.page_sizes) == {2}
    assert all(("includeGuids", "1") in r.query for r in pages)
    # Everything came from the listing itself: no item was fetched again one by one.
    assert not any(p.startswith("/library/metadata") for p in plex.paths())
    keyed = assets(cli, "Movies")
    assert set(keyed) == {
        films["matrix"].guid,
        films["alien"].guid,
        films["heat"].guid,
        films["ran"].guid,
        "file:///data/movies/Birthday 2019.mp4",  # only a local:// guid: keyed by its file
    }
    matrix = keyed[films["matrix"].guid]
    assert matrix["path"] == str(disk / "movies/The Matrix (1999)/The Matrix (1999).mkv")
    detail = cli.json("asset", "show", matrix["id"])["asset"]
    meta = detail["tech_metadata"]
    assert meta["title"] == "The Matrix" and meta["year"] == 1999
    assert meta["external_ids"] == {"imdb": "tt0133093", "tmdb": "603"}
    assert meta["server_duration"] == 8160.0
    assert [(e["id"], e["kind"]) for e in detail["enrichers"]] == [("plex", "editorial")]

    # Incremental: nothing changed on the server, nothing listed.
    plex.requests.clear()
    quiet = cli.json("collection", "ingest", "Movies")
    assert quiet["stats"]["assets_discovered"] == 0
    asked = [r for r in plex.requests if r.path == "/library/sections/1/all"]
    assert ("updatedAt>>", str(films["ran"].updated_at)) in asked[0].query

    # The file of The Matrix is replaced: Plex gives it a new ratingKey, the guid stays.
    films["matrix"].rating_key = next_key()
    films["matrix"].updated_at += 100
    (disk / "movies/The Matrix (1999)/The Matrix (1999).mkv").write_bytes(b"matrix 4k")
    films["matrix"].size = 9
    replaced = cli.json("collection", "ingest", "Movies")
    assert replaced["stats"]["assets_discovered"] == 1
    assert replaced["stats"]["assets_updated"] == 1
    after = assets(cli, "Movies")[films["matrix"].guid]
    assert after["id"] == matrix["id"] and after["sha256"] != matrix["sha256"]

    # Alien is re-matched to another guid, and the home video matched at last: same assets.
    old_alien = keyed[films["alien"].guid]["id"]
    old_home = keyed["file:///data/movies/Birthday 2019.mp4"]["id"]
    films["alien"].guid = "plex://movie/5d776826e6d55c002040ffff"
    films["home"].guid = "plex://movie/5f40c3e1b1bbdc0041a2ab8c"
    films["alien"].updated_at += 200
    films["home"].updated_at += 200
    rematched = cli.json("collection", "ingest", "Movies")
    assert rematched["stats"]["assets_ingested"] == 0
    now = assets(cli, "Movies")
    assert now[films["alien"].guid]["id"] == old_alien
    assert now[films["home"].guid]["id"] == old_home
    assert len(now) == 5

    # Heat leaves the library: an incremental ingest cannot know, a full pass does.
    section = plex.sections["1"]
    section.items.remove(films["heat"])
    assert cli.json("collection", "ingest", "Movies")["stats"]["assets_missing"] == 0
    full = cli.json("collection", "ingest", "Movies", "--full")
    assert full["stats"]["assets_missing"] == 1
    assert full["stats"]["assets_discovered"] == 4
    assert assets(cli, "Movies")[films["heat"].guid]["is_deleted"] is True

    # A server answering an empty library never deletes it.
    section.items.clear()
    empty = cli.json("collection", "ingest", "Movies", "--full", code=3)
    assert empty["errors"][0]["code"] == "empty_root"
    assert sum(not a["is_deleted"] for a in assets(cli, "Movies").values()) == 4
    assert cli.json("collection", "ingest", "Movies")["stats"]["assets_missing"] == 0

    assert cli.leaked(PLEX_TOKEN) == []
    for path in config_dir.rglob("*"):
        if path.is_file():
            assert PLEX_TOKEN.encode() not in path.read_bytes(), path


def shows(plex: FakePlex, disk: Path) -> PlexShow:
    plex.section("1", "movie", "Movies", "/data/movies")
    section = plex.section("2", "show", "TV Shows", "/data/tv")
    firefly = PlexShow("Firefly", "plex://show/5d9c086c46115600200aa2fe", 2002)
    office = PlexShow("The Office (US)", "plex://show/5d9c0874ffd9ef001e99607a", 2005)
    for show, season, episode in (
        (firefly, 1, 1),
        (firefly, 1, 2),
        (firefly, 1, 3),
        (office, 1, 1),
        (office, 2, 1),
    ):
        name = f"tv/{show.title}/Season {season:02d}/{show.title} - S{season:02d}E{episode:02d}.mkv"
        section.items.append(
            PlexVideo(
                guid=f"plex://episode/{show.rating_key}{season}{episode:02d}",
                title=f"Episode {episode}",
                file=put(disk, name, name.encode()),
                show=show,
                season=season,
                episode=episode,
                ids={"tvdb": f"{season}{episode}"},
            )
        )
    return firefly


def test_tv_flat_listing_and_narrowing_through_search(
    plex: FakePlex, disk: Path, token_file: Path, cli: Cli
) -> None:
    firefly = shows(plex, disk)
    add_source(cli, plex.url, token_file, disk)
    cli.json("source", "discover", "home")

    one = cli.json(
        "collection",
        "ingest",
        "TV Shows",
        "--title",
        "Firefly",
        "--season",
        "1",
        "--episode",
        "2",
    )
    assert one["stats"]["assets_ingested"] == 1
    (narrowed,) = cli.json("asset", "list", "--collection", "TV Shows")["assets"]
    editorial = cli.json("asset", "show", narrowed["id"])["asset"]["enrichers"]
    assert [(e["id"], e["kind"]) for e in editorial] == [("plex", "editorial")]
    assert "/library/sections/2/search" in plex.paths()
    assert not any(p.endswith("/all") for p in plex.paths())  # never listed everything
    season = cli.json("collection", "ingest", "TV Shows", "--title", "Firefly", "--season", "1")
    assert season["stats"]["assets_ingested"] == 2 and season["stats"]["assets_skipped"] == 1
    whole = cli.json("collection", "ingest", "TV Shows", "--title", "The Office (US)")
    assert whole["stats"]["assets_ingested"] == 2
    missing = cli.json("collection", "ingest", "TV Shows", "--title", "Lost", code=2)
    assert missing["errors"][0]["code"] == "title_not_found"
    assert not any(p.endswith("/all") for p in plex.paths())

    cli.json("collection", "update", "TV Shows", "--sync-enable")
    flat = cli.json("collection", "ingest", "TV Shows")
    assert flat["stats"]["assets_discovered"] == 5 and flat["stats"]["assets_skipped"] == 5
    (listing,) = [r for r in plex.requests if r.path == "/library/sections/2/all"]
    assert ("type", "4") in listing.query  # every episode in one flat listing
    keyed = assets(cli, "TV Shows")
    episode = keyed[f"plex://episode/{firefly.rating_key}102"]
    meta = cli.json("asset", "show", episode["id"])["asset"]["tech_metadata"]
    assert (meta["title"], meta["season"], meta["episode"]) == ("Firefly", 1, 2)
    # A server's episodes land in the media item (the season) the server names.
    items = cli.json("media", "list", "--collection", "TV Shows", "--all")["items"]
    seasons = {(i["name"], i["season"]): i["progress"]["total"] for i in items}
    assert seasons[("Firefly", 1)] == 3


def test_an_unreachable_mapped_file_is_cataloged_but_never_fingerprinted(
    plex: FakePlex, disk: Path, token_file: Path, cli: Cli
) -> None:
    section = plex.section("1", "movie", "Movies", "/data/movies")
    section.items.append(
        PlexVideo(
            guid="plex://movie/abc",
            title="Nowhere",
            year=2001,
            file="/elsewhere/Nowhere (2001).mkv",
            size=4096,
        )
    )
    section.items.append(
        PlexVideo(
            guid="plex://movie/def",
            title="Here",
            year=2002,
            file=put(disk, "movies/Here (2002).mkv"),
        )
    )
    add_source(cli, plex.url, token_file, disk)
    cli.json("source", "discover", "home")
    cli.json(
        "collection",
        "update",
        "Movies",
        "--sync-enable",
        "--add-enricher",
        "ffprobe",
        "--priority",
        "10",
    )
    done = cli.json("collection", "ingest", "Movies")
    assert done["stats"]["assets_ingested"] == 2 and done["stats"]["files_hashed"] == 1
    nowhere = assets(cli, "Movies")["plex://movie/abc"]
    assert nowhere["sha256"] is None and nowhere["size"] == 4096
    meta = cli.json("asset", "show", nowhere["id"])["asset"]["tech_metadata"]
    assert "/elsewhere/Nowhere (2001).mkv" in meta["unreachable"]
    assert "path mappings" in meta["unreachable"]
    cli("enrich", "--collection", "Movies")
    assert cli.json("asset", "show", nowhere["id"])["asset"]["state"] == "new"

    # The library's own mapping leads to the file: a full pass reads it at last.
    (disk / "elsewhere").mkdir()
    (disk / "elsewhere/Nowhere (2001).mkv").write_bytes(b"found")
    cli.json("collection", "update", "Movies", "--path-mapping", f"/elsewhere={disk}/elsewhere")
    assert cli.json("collection", "ingest", "Movies")["stats"]["assets_discovered"] == 0
    found = cli.json("collection", "ingest", "Movies", "--full")
    assert found["stats"]["assets_updated"] == 1 and found["stats"]["files_hashed"] == 1
    again = cli.json("asset", "show", nowhere["id"])["asset"]
    assert again["sha256"] is not None and "unreachable" not in again["tech_metadata"]
    shown = cli.json("collection", "show", "Movies")["collection"]["server_library"]
    assert shown["path_mappings"] == [{"from": "/elsewhere", "to": f"{disk}/elsewhere"}]


@pytest.mark.parametrize("how", ["401", "timeout", "refused", "tls"])
def test_a_server_that_cannot_be_reached_exits_3_saying_which(
    how: str, plex: FakePlex, disk: Path, token_file: Path, cli: Cli, tmp_path: Path
) -> None:
    movies(plex, disk)
    url, extra = plex.url, ("--timeout", "0.5")
    if how == "401":
        token_file.write_text("wrong-token")
    elif how == "timeout":
        plex.delay = 2.0
    elif how == "refused":
        url = f"http://127.0.0.1:{closed_port()}"
    else:
        url = plex.url.replace("http://", "https://")
    add_source(cli, url, token_file, disk, *extra)
    words = {
        "401": "refused the credentials (HTTP 401)",
        "timeout": "did not answer in time",
        "refused": "refused the connection",
        "tls": "TLS failed",
    }[how]
    discover = cli("source", "discover", "home")
    assert discover.code == 3 and words in discover.stderr, discover.stderr
    if how == "timeout":
        plex.delay = 0.0
    else:
        return
    cli.json("source", "discover", "home")
    cli.json("collection", "update", "Movies", "--sync-enable")
    plex.delay = 2.0
    for command in (("collection", "ingest", "Movies"), ("source", "ingest", "home")):
        failed = cli(*command)
        assert failed.code == 3 and words in failed.stderr, failed.stderr
        as_json = cli(*command, "--json")
        assert as_json.code == 3
        assert as_json.json()["errors"][0]["code"] == "media_server_unreachable"
    plex.delay = 0.0
    assert cli.leaked(PLEX_TOKEN) == []


def test_the_token_may_come_from_the_environment(plex: FakePlex, disk: Path, cli: Cli) -> None:
    movies(plex, disk)
    cli.json(
        "source",
        "add",
        "--type",
        "plex",
        "--name",
        "home",
        "--url",
        plex.url,
        "--token-env",
        "PLEX_TOKEN",
        "--path-mapping",
        f"/data={disk}",
    )
    unset = cli("source", "discover", "home")
    assert unset.code == 1 and "PLEX_TOKEN" in unset.stderr
    found = cli.json("source", "discover", "home", env={"PLEX_TOKEN": PLEX_TOKEN})
    assert len(found["created"]) == 2
    shown = cli("source", "show", "home", env={"PLEX_TOKEN": PLEX_TOKEN})
    assert "read from the environment variable PLEX_TOKEN" in shown.stdout
    moved = cli.json("source", "update", "home", "--token-env", "PLEX_TOKEN_2", "--timeout", "3")
    assert moved["source"]["server"]["secret"] == {"from": "env", "variable": "PLEX_TOKEN_2"}
    assert moved["source"]["server"]["timeout_seconds"] == 3.0
    assert cli.leaked(PLEX_TOKEN) == []
