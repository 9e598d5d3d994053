"""`apollonia asset duplicates --all` (issue 17, item 16): the same content under different
collections is listed too, in JSON and in words."""

from __future__ import annotations

import pytest

from tests.contract.conftest import Library

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

SAME = b"the same film, bytes for bytes"


def library_with_copies(library: Library) -> None:
    """One content in TV and in Films, another twice inside Films, the rest unique."""
    library.setup()
    (library.tv / "Film Copy (1999).mkv").write_bytes(SAME)
    (library.films / "Film (1999).mkv").write_bytes(SAME)
    (library.films / "Alien copy (1979).mkv").write_bytes(b"alien")  # = films/Alien (1979).mkv
    for name in ("TV", "Films"):
        assert library.cli("collection", "ingest", name, "--json").code == 0


def test_all_lists_copies_across_collections(library: Library) -> None:
    library_with_copies(library)
    doc = library.ok("asset", "duplicates", "--all")
    assert (doc["scope"], doc["collection_id"], doc["groups"], doc["duplicates"]) == (
        "all", None, 2, 4,
    )  # fmt: skip
    by_keys = {
        tuple((a["collection_name"], a["canonical_key"]) for a in group["assets"]): group
        for group in doc["candidates"]
    }
    across = by_keys[(("Films", "Film (1999).mkv"), ("TV", "Film Copy (1999).mkv"))]
    inside = by_keys[(("Films", "Alien (1979).mkv"), ("Films", "Alien copy (1979).mkv"))]
    assert (across["collections"], inside["collections"]) == (2, 1)
    assert all(a["collection_id"] and a["id"] and a["size"] for a in across["assets"])


def test_all_with_a_collection_keeps_the_contents_it_holds(library: Library) -> None:
    library_with_copies(library)
    doc = library.ok("asset", "duplicates", "TV", "--all")
    assert (doc["collection_name"], doc["groups"], doc["duplicates"]) == ("TV", 1, 2)
    names = [a["collection_name"] for a in doc["candidates"][0]["assets"]]
    assert names == ["Films", "TV"]


def test_all_in_words(library: Library) -> None:
    library_with_copies(library)
    result = library.cli("asset", "duplicates", "--all")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "All collections: 4 duplicate candidates in 2 groups"
    assert any(line.strip().startswith("[TV] Film Copy (1999).mkv  (") for line in lines)
    assert any(line.strip().startswith("[Films] Film (1999).mkv  (") for line in lines)
    scoped = library.cli("asset", "duplicates", "TV", "--all")
    assert scoped.stdout.splitlines()[0] == (
        "Collection 'TV' and copies elsewhere: 2 duplicate candidates in 1 groups"
    )


def test_one_collection_alone_is_unchanged(library: Library) -> None:
    """Without --all, a collection's duplicates are its own, as before."""
    library_with_copies(library)
    doc = library.ok("asset", "duplicates", "TV")
    assert (doc["groups"], doc["duplicates"], doc["candidates"]) == (0, 0, [])
    assert "scope" not in doc
    films = library.ok("asset", "duplicates", "Films")
    assert films["groups"] == 1


def test_neither_a_collection_nor_all_is_a_clear_error(library: Library) -> None:
    library.setup()
    result = library.cli("asset", "duplicates")
    assert result.code == 1
    assert "name a COLLECTION, or pass --all" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
