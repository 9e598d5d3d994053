"""Collection ingest, behaviour contract: B-1 .. B-21 as condensed in the issue, through the real
CLI against a real SQLite catalog and a real media tree."""

from __future__ import annotations

import json

import pytest

from tests.contract.conftest import TV_MEDIA, Library

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]


def test_b1_resolves_by_uuid_external_id_and_name(library: Library) -> None:
    """B-1: the collection is found by UUID, external id, or name (case-insensitively)."""
    ids = library.setup()
    for selector in (ids["tv"], "tv-ext", "tv", "TV"):
        doc = library.ok("collection", "ingest", selector)
        assert doc["collection_id"] == ids["tv"]


def test_b1_unknown_collection_exits_1(library: Library) -> None:
    """B-1: not found -> exit 1 with `Error: Collection '<sel>' not found` (JSON too)."""
    library.setup()
    human = library.cli("collection", "ingest", "nope")
    assert human.code == 1
    assert "Error: Collection 'nope' not found" in human.stderr
    as_json = library.cli("collection", "ingest", "nope", "--json")
    assert as_json.code == 1
    doc = as_json.json()
    assert doc["status"] == "error"
    assert doc["errors"][0]["message"] == "Error: Collection 'nope' not found"


def test_b1_ambiguous_name_exits_1(library: Library) -> None:
    """B-1: a name shared by two collections (of two sources) must be given as a UUID."""
    library.setup()
    library.ok("source", "add", "--type", "filesystem", "--name", "Second")
    # Its own folder: two collections never share a root (issue 17, item 3).
    (other := library.root.parent / "second-tv").mkdir()
    library.ok("collection", "add", "--source", "Second", "--name", "tv", "--path", str(other))
    result = library.cli("collection", "ingest", "TV")
    assert result.code == 1
    assert "Error: Multiple collections named 'TV' exist. Please specify the UUID." in result.stderr


def test_b2_no_title_ingests_the_whole_collection(library: Library) -> None:
    """B-2: without --title the entire collection is ingested (media files only)."""
    library.setup()
    doc = library.ok("collection", "ingest", "TV")
    assert doc["scope"] == "collection"
    assert doc["stats"]["assets_discovered"] == len(TV_MEDIA)
    assert doc["stats"]["assets_ingested"] == len(TV_MEDIA)
    keys = {row[0] for row in library.query("SELECT canonical_key FROM assets")}
    assert keys == set(TV_MEDIA)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--season", "1"], "Error: --season requires --title"),  # B-3
        (["--title", "The Show", "--episode", "1"], "Error: --episode requires --season"),  # B-4
        (["--title", "The Show", "--season", "-1"], "--season must be a non-negative integer"),
        (
            ["--title", "The Show", "--season", "1", "--episode", "-2"],
            "--episode must be a non-negative integer",
        ),
        (["--title", "The Show", "--season", "one"], "Invalid value for '--season'"),
        (
            ["--title", "The Show", "--season", "1", "--episode", "1.5"],
            "Invalid value for '--episode'",
        ),
    ],
)
def test_b3_b4_b9_flag_rules_exit_1(library: Library, args: list[str], message: str) -> None:
    """B-3 --season needs --title; B-4 --episode needs --season; B-9 bad numbers: exit 1."""
    library.setup()
    human = library.cli("collection", "ingest", "TV", *args)
    assert human.code == 1
    assert message in human.stderr
    as_json = library.cli("collection", "ingest", "TV", *args, "--json")
    assert as_json.code == 1
    assert message in as_json.json()["errors"][0]["message"]
    assert library.query("SELECT count(*) FROM assets") == [(0,)]


@pytest.mark.parametrize(
    ("args", "line", "count"),
    [
        ([], "Ingesting entire collection 'TV'", 5),
        (["--title", "The Show"], "Ingesting title 'The Show' from collection 'TV'", 4),
        (
            ["--title", "the show", "--season", "2"],
            "Ingesting season 2 of 'the show' from collection 'TV'",
            2,
        ),
        (
            ["--title", "The Show", "--season", "1", "--episode", "2"],
            "Ingesting episode 2 of season 1 of 'The Show' from collection 'TV'",
            1,
        ),
    ],
)
def test_b6_output_states_the_scope(
    library: Library, args: list[str], line: str, count: int
) -> None:
    """B-6: the human output states the scope; the scope limits what is ingested."""
    library.setup()
    result = library.cli("collection", "ingest", "TV", *args)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0] == line
    assert f"Discovered:         {count}" in result.stdout
    assert library.query("SELECT count(*) FROM assets") == [(count,)]


def test_b7_dry_run_reports_and_writes_nothing(library: Library) -> None:
    """B-7: --dry-run resolves, enumerates and reports would-create/update/skip, and the
    catalog stays byte-for-byte identical."""
    library.setup()
    library.ok("collection", "ingest", "TV")
    (library.tv / "Other Show/Season 1/Other.Show.S01E03.mkv").write_bytes(b"new one")
    (library.tv / "The Show (2005)/Season 01/The Show - S01E02.mkv").write_bytes(b"rewritten")
    before = library.snapshot()
    result = library.cli("collection", "ingest", "TV", "--dry-run")
    assert result.code == 0, result.stderr
    assert "Would create:       1" in result.stdout
    assert "Would update:       1" in result.stdout
    assert "Would skip:         4" in result.stdout
    doc = library.ok("collection", "ingest", "TV", "--dry-run")
    assert doc["dry_run"] is True
    assert doc["run_id"] is None
    assert (doc["stats"]["assets_ingested"], doc["stats"]["assets_updated"]) == (1, 1)
    assert library.snapshot() == before


def test_b7_dry_run_never_creates_a_catalog(library: Library) -> None:
    """B-7: a dry run against a catalog that does not exist creates nothing."""
    if library.backend == "postgresql":
        pytest.skip("a PostgreSQL database always exists; tests/integration/postgres covers it")
    result = library.cli("collection", "ingest", "TV", "--dry-run", "--json")
    assert result.code == 1
    assert "a dry run never creates one" in result.json()["errors"][0]["message"]
    assert not library.db.exists()


def test_b10a_test_db_with_dry_run_writes_nowhere(library: Library) -> None:
    """B-10a: with --test-db and --dry-run, dry-run wins: neither catalog changes."""
    library.setup()
    library.setup(test_db=True)
    before = library.snapshot()
    doc = library.ok("collection", "ingest", "TV", "--test-db", "--dry-run")
    assert doc["mode"] == "test"
    assert doc["stats"]["assets_ingested"] == len(TV_MEDIA)
    assert library.snapshot() == before


def test_b10a_test_db_leaves_production_untouched(library: Library) -> None:
    """--test-db operates only on the test catalog."""
    library.setup()
    library.setup(test_db=True)
    production = library.snapshot()["apollonia.db"]
    doc = library.ok("collection", "ingest", "TV", "--test-db")
    assert doc["mode"] == "test"
    assert library.snapshot()["apollonia.db"] == production
    assert library.query("SELECT count(*) FROM assets", test_db=True) == [(len(TV_MEDIA),)]
    assert library.query("SELECT count(*) FROM assets") == [(0,)]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (
            ["--title", "Missing Show"],
            "Error: Title 'Missing Show' not found in collection 'TV'",
            "title_not_found",
        ),
        (
            ["--title", "The Show", "--season", "7"],
            "Error: Season 7 of 'The Show' not found in collection 'TV'",
            "season_not_found",
        ),
        (
            ["--title", "The Show", "--season", "1", "--episode", "9"],
            "Error: Episode 9 of season 1 of 'The Show' not found in collection 'TV'",
            "episode_not_found",
        ),
    ],
)
def test_b8_scope_not_found_exits_2(
    library: Library, args: list[str], message: str, code: str
) -> None:
    """B-8: title/season/episode not found -> exit 2, the message, valid JSON."""
    library.setup()
    human = library.cli("collection", "ingest", "TV", *args)
    assert human.code == 2
    assert message in human.stderr
    as_json = library.cli("collection", "ingest", "TV", *args, "--json")
    assert as_json.code == 2
    doc = json.loads(as_json.stdout)
    assert doc["status"] == "error"
    assert doc["errors"][0] == {"code": code, "message": message}
    assert doc["collection_name"] == "TV"


def test_b11_full_ingest_of_sync_disabled_collection_exits_1(library: Library) -> None:
    """B-11: a full ingest of a sync-disabled collection is refused; targeted ingest works."""
    ids = library.setup(sync_tv=False)
    result = library.cli("collection", "ingest", "TV")
    assert result.code == 1
    assert (
        "Error: Collection 'TV' is not sync-enabled. Use targeted ingest "
        "(--title/--season/--episode) for surgical operations, or enable sync with "
        "'apollonia collection update tv-ext --sync-enable'." in result.stderr
    )
    assert ids["tv"]
    doc = library.ok("collection", "ingest", "TV", "--title", "Other Show")
    assert doc["stats"]["assets_ingested"] == 1


def test_b12_b13_not_ingestible_exits_1_even_when_targeted(library: Library) -> None:
    """B-12/B-13/D-6: a collection that is not ingestible is refused, targeted or not."""
    library.setup()
    library.ok("collection", "update", "TV", "--path", str(library.root / "unmounted"))
    for args in ([], ["--title", "The Show"]):
        result = library.cli("collection", "ingest", "TV", *args)
        assert result.code == 1
        assert (
            "Error: Collection 'TV' is not ingestible. Check path mappings and "
            "prerequisites with 'apollonia collection show tv-ext'."
        ) in result.stderr


def test_b15_gate_order_prerequisites_before_scope(library: Library) -> None:
    """B-15/D-4a: resolve (1) -> prerequisites (1) -> scope (2): a missing title in a collection
    that is not ingestible reports the prerequisite (exit 1), not the scope (exit 2)."""
    library.setup()
    library.ok("collection", "update", "TV", "--path", str(library.root / "gone"))
    result = library.cli("collection", "ingest", "TV", "--title", "No Such Title")
    assert result.code == 1
    assert "not ingestible" in result.stderr
    missing = library.cli("collection", "ingest", "Nope", "--title", "No Such Title")
    assert missing.code == 1
    assert "Error: Collection 'Nope' not found" in missing.stderr


def test_b10_b12_non_compliant_importer_exits_1_before_work(library: Library) -> None:
    """B-10/B-12: a source whose importer is not available/compliant fails before any work."""
    library.setup()
    library.execute("UPDATE sources SET type = 'plex'")
    result = library.cli("collection", "ingest", "TV", "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["errors"][0]["code"] == "importer_not_compliant"
    assert "Importer for source 'Local' (type plex) is not usable" in doc["errors"][0]["message"]
    assert library.query("SELECT count(*) FROM assets") == [(0,)]


def test_json_mode_prints_exactly_one_document(library: Library) -> None:
    """--json: stdout holds one JSON document and nothing else, on success and on error."""
    library.setup()
    for args, code in ((["TV"], 0), (["TV", "--title", "x"], 2), (["nope"], 1)):
        result = library.cli("collection", "ingest", *args, "--json")
        assert result.code == code
        doc = json.loads(result.stdout)  # raises if anything else is on stdout
        assert doc["status"] == ("success" if code == 0 else "error")


def test_json_document_has_every_contract_key(library: Library) -> None:
    """The JSON shape: status, scope, ids, narrowing, dry_run, mode, stats, time, run id."""
    library.setup()
    doc = library.ok("collection", "ingest", "TV", "--title", "The Show", "--season", "1")
    assert {
        "status",
        "scope",
        "collection_id",
        "collection_name",
        "title",
        "season",
        "dry_run",
        "mode",
        "stats",
        "last_ingest_time",
        "run_id",
    } <= set(doc)
    assert "episode" not in doc
    assert set(doc["stats"]) >= {
        "assets_discovered",
        "assets_ingested",
        "assets_updated",
        "assets_skipped",
        "assets_missing",
        "duplicates",
        "assets_changed_content",
        "assets_changed_enricher",
        "errors",
    }
    assert doc["mode"] == "production"
    assert doc["last_ingest_time"].endswith("Z")


def test_b8_scope_narrowing_limits_the_walk(library: Library) -> None:
    """D-2 (scope narrowing): a --title ingest never opens other titles' folders, and a season
    ingest never opens other season folders: an unreadable sibling makes no difference."""
    library.setup()
    # Replace other folders by files of the same name: listing them would fail loudly.
    other = library.tv / "Other Show"
    for child in sorted(other.rglob("*"), reverse=True):
        child.unlink() if child.is_file() else child.rmdir()
    other.rmdir()
    other.write_bytes(b"not a folder")
    season2 = library.tv / "The Show (2005)" / "Season 02"
    for child in season2.iterdir():
        child.unlink()
    season2.rmdir()
    season2.symlink_to("/nonexistent/target")
    doc = library.ok("collection", "ingest", "TV", "--title", "The Show", "--season", "1")
    assert doc["stats"]["assets_discovered"] == 2
    assert doc["stats"]["errors"] == []
