"""Sources and collections as a new user manages them, through the real CLI."""

from __future__ import annotations

import pytest

from tests.contract.conftest import Library

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]


def test_a_new_users_session(library: Library) -> None:
    """Add a source, discover its folders, enable and ingest one, inspect, update, remove."""
    added = library.ok(
        "source",
        "add",
        "--type",
        "filesystem",
        "--name",
        "NAS",
        "--path",
        str(library.root),
        "--path-mapping",
        "/data=/srv/media",
    )
    source = added["source"]
    assert source["path_mappings"] == [{"from": "/data", "to": "/srv/media"}]
    assert [s["name"] for s in library.ok("source", "list")["sources"]] == ["NAS"]

    discovered = library.ok("source", "discover", "NAS")
    assert sorted(c["name"] for c in discovered["created"]) == ["films", "tv"]
    assert all(c["sync_enabled"] is False for c in discovered["created"])
    assert all(c["ingestible"] is True for c in discovered["created"])
    again = library.ok("source", "discover", "nas")  # re-running changes nothing that exists
    assert again["created"] == []
    assert sorted(c["name"] for c in again["existing"]) == ["films", "tv"]

    listed = library.ok("collection", "list", "NAS")["collections"]
    assert {c["name"]: c["sync_enabled"] for c in listed} == {"films": False, "tv": False}
    library.ok("collection", "update", "tv", "--sync-enable")
    ingested = library.ok("collection", "ingest", "tv")
    assert ingested["stats"]["assets_ingested"] == 5

    shown = library.ok("collection", "show", "tv")["collection"]
    assert shown["assets"] == 5
    assert shown["ingestible_check"] == {"ok": True, "reason": "ok"}
    assert shown["recent_runs"][0]["status"] == "success"
    src = library.ok("source", "show", "NAS")["source"]
    assert src["collections"] == 2

    renamed = library.ok("source", "update", "NAS", "--name", "Attic NAS", "--clear-path-mappings")
    assert renamed["source"]["name"] == "Attic NAS"
    assert renamed["source"]["path_mappings"] == []

    refused = library.cli("source", "remove", "Attic NAS", "--json")
    assert refused.code == 1
    assert "re-run with --yes" in refused.json()["errors"][0]["message"]
    removed = library.ok("source", "remove", "Attic NAS", "--yes")
    assert (removed["collections_removed"], removed["assets_removed"]) == (2, 5)
    assert library.query("SELECT count(*) FROM assets") == [(0,)]


def test_collection_add_defaults_and_enrichers(library: Library) -> None:
    """An explicitly added collection is sync-enabled unless told otherwise."""
    library.ok("source", "add", "--type", "filesystem", "--name", "Local")
    col = library.ok(
        "collection",
        "add",
        "--source",
        "Local",
        "--name",
        "TV",
        "--path",
        str(library.tv),
        "--enricher",
        "ffprobe:2",
        "--enricher",
        "filename:1",
    )
    collection = col["collection"]
    assert collection["sync_enabled"] is True
    assert collection["ingestible"] is True
    assert collection["enrichers"] == [
        {"enricher_id": "filename", "priority": 1},
        {"enricher_id": "ffprobe", "priority": 2},
    ]
    disabled = library.ok(
        "collection",
        "add",
        "--source",
        "Local",
        "--name",
        "Films",
        "--path",
        str(library.films),
        "--sync-disable",
    )
    assert disabled["collection"]["sync_enabled"] is False
    updated = library.ok("collection", "update", "TV", "--remove-enricher", "filename")
    assert updated["collection"]["enrichers"] == [{"enricher_id": "ffprobe", "priority": 2}]


def test_changing_the_path_re_evaluates_ingestible(library: Library) -> None:
    library.ok("source", "add", "--type", "filesystem", "--name", "Local")
    library.ok("collection", "add", "--source", "Local", "--name", "TV", "--path", str(library.tv))
    moved = library.ok("collection", "update", "TV", "--path", str(library.root / "nowhere"))
    assert moved["collection"]["ingestible"] is False
    assert any("ingestible" in change for change in moved["changes"])
    back = library.ok("collection", "update", "TV", "--path", str(library.tv))
    assert back["collection"]["ingestible"] is True


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["source", "add", "--type", "plex", "--name", "X"], "unknown source type 'plex'"),
        (["source", "add", "--type", "filesystem"], "Missing option '--name'"),
        (
            ["source", "add", "--type", "filesystem", "--name", "X", "--path-mapping", "nope"],
            "path mapping must be FROM=TO",
        ),
        (
            ["collection", "add", "--source", "Nope", "--name", "X", "--path", "/tmp"],
            "Error: Source 'Nope' not found",
        ),
        (["collection", "show", "Nope"], "Error: Collection 'Nope' not found"),
        (["collection", "update", "Nope", "--sync-enable", "--sync-disable"], "exclude each other"),
        (["collection", "update", "Nope", "--add-enricher", "x"], "requires --priority"),
        (["collection", "ingest"], "Missing argument 'COLLECTION'"),
        (["source", "frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_arguments_exit_1_with_a_message(
    library: Library, args: list[str], fragment: str
) -> None:
    result = library.cli(*args)
    assert result.code == 1, result.stdout
    assert fragment in result.stderr
    as_json = library.cli(*args, "--json")
    assert as_json.code == 1
    assert fragment in as_json.json()["errors"][0]["message"]


def test_duplicate_names_are_refused(library: Library) -> None:
    library.ok("source", "add", "--type", "filesystem", "--name", "Local")
    dup = library.cli("source", "add", "--type", "filesystem", "--name", "local", "--json")
    assert dup.code == 1
    assert "already exists" in dup.json()["errors"][0]["message"]
    library.ok("collection", "add", "--source", "Local", "--name", "TV", "--path", str(library.tv))
    again = library.cli(
        "collection",
        "add",
        "--source",
        "Local",
        "--name",
        "tv",
        "--path",
        str(library.tv),
        "--json",
    )
    assert again.code == 1
    assert "already has a collection named" in again.json()["errors"][0]["message"]


def test_collection_remove_needs_confirmation_when_it_has_assets(library: Library) -> None:
    library.setup()
    library.ok("collection", "ingest", "TV")
    assert library.cli("collection", "remove", "TV").code == 1
    doc = library.ok("collection", "remove", "TV", "--yes")
    assert doc["assets_removed"] == 5
    assert library.ok("collection", "remove", "Films")["assets_removed"] == 0
