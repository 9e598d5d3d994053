"""Source ingest, behaviour contract: seed 004 B-1 .. B-12 through the real CLI."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.contract.conftest import TV_MEDIA, Library

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

REFUSAL = (
    "Per-title/season/episode ingest is only supported at the collection level. Use: apollonia "
    "collection ingest <collection_id> [--title ... --season ... --episode ...]"
)


def test_b1_source_by_id_or_name_and_not_found(library: Library) -> None:
    """B-1: a source UUID or its name (case-insensitive) is required; unknown -> exit 1."""
    ids = library.setup()
    assert library.ok("source", "ingest", ids["source"])["source"]["id"] == ids["source"]
    assert library.ok("source", "ingest", "local")["status"] == "ok"
    missing = library.cli("source", "ingest", "No Such Source", "--json")
    assert missing.code == 1
    assert missing.json()["errors"][0]["message"] == "Error: Source 'No Such Source' not found"


def test_b2_only_sync_enabled_and_ingestible_collections(library: Library) -> None:
    """B-2/D-5/D-13: only collections that are sync-enabled AND ingestible are ingested; the
    others are listed as skipped with the reason (B-5)."""
    library.setup(sync_tv=False)
    library.ok(
        "collection",
        "add",
        "--source",
        "Local",
        "--name",
        "Gone",
        "--path",
        str(library.root / "gone"),
    )
    doc = library.ok("source", "ingest", "Local")
    assert [r["collection_name"] for r in doc["collection_results"]] == ["Films"]
    skipped = {s["collection_name"]: s["reason"] for s in doc["skipped_collections"]}
    assert skipped == {"TV": "sync disabled", "Gone": "not ingestible"}
    assert library.query(
        "SELECT DISTINCT c.name FROM assets a JOIN collections c ON a.collection_uuid = c.uuid"
    ) == [("Films",)]


@pytest.mark.parametrize("flag", [["--title", "The Show"], ["--season", "1"], ["--episode", "6"]])
def test_b3_b4_narrowing_flags_are_refused(library: Library, flag: list[str]) -> None:
    """B-3/B-4: --title/--season/--episode are recognised only to refuse them: exit 1."""
    library.setup()
    human = library.cli("source", "ingest", "Local", *flag)
    assert human.code == 1
    assert REFUSAL in human.stderr
    as_json = library.cli("source", "ingest", "Local", *flag, "--json")
    assert as_json.code == 1
    assert as_json.json()["errors"][0]["message"] == REFUSAL
    assert library.query("SELECT count(*) FROM assets") == [(0,)]


def test_b5_human_output_summarises(library: Library) -> None:
    """B-5 and seed 004 Output Format: per-collection counters and the summary line."""
    library.setup()
    result = library.cli("source", "ingest", "Local")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "Collection 'TV': success" in out
    assert "Collection 'Films': success" in out
    assert "Source ingest complete: 2 collections processed (2 success, 0 failed)" in out


def test_b5_d3_partial_success_exits_2(library: Library) -> None:
    """B-5/B-9/D-2/D-3: a collection that fails does not stop the others; exit 2."""
    library.setup()
    shutil.rmtree(library.films)  # marked ingestible, now unreachable
    result = library.cli("source", "ingest", "Local", "--json")
    assert result.code == 2
    doc = result.json()
    assert doc["status"] == "partial"
    by_name = {r["collection_name"]: r for r in doc["collection_results"]}
    assert by_name["TV"]["status"] == "success"
    assert by_name["Films"]["status"] == "error"
    assert "not ingestible" in by_name["Films"]["errors"][0]["message"]
    assert doc["errors"][0]["collection_name"] == "Films"
    assert library.query("SELECT count(*) FROM assets") == [(len(TV_MEDIA),)]
    human = library.cli("source", "ingest", "Local")
    assert human.code == 2
    assert "Source ingest complete: 2 collections processed (1 success, 1 failed)" in human.stdout


def test_b6_dry_run_enumerates_but_writes_nothing(library: Library) -> None:
    """B-6: --dry-run shows what would be ingested per collection; the catalog is unchanged."""
    library.setup()
    before = library.snapshot()
    doc = library.ok("source", "ingest", "Local", "--dry-run")
    assert doc["dry_run"] is True
    assert doc["total_created_assets"] == len(TV_MEDIA) + 2
    assert library.snapshot() == before


def test_b7_json_shape(library: Library) -> None:
    """B-7: status ok|partial|error, the source, per-collection results, totals, errors."""
    library.setup()
    doc = library.ok("source", "ingest", "Local")
    assert {
        "status",
        "source",
        "dry_run",
        "mode",
        "collections_processed",
        "total_created_assets",
        "total_updated_assets",
        "total_skipped_assets",
        "total_missing_assets",
        "total_duplicates",
        "collection_results",
        "skipped_collections",
        "errors",
    } <= set(doc)
    assert doc["status"] == "ok"
    assert doc["source"]["name"] == "Local"
    assert doc["source"]["type"] == "filesystem"
    assert doc["collections_processed"] == 2
    assert doc["total_created_assets"] == len(TV_MEDIA) + 2
    for result in doc["collection_results"]:
        assert {
            "collection_id",
            "collection_name",
            "status",
            "stats",
            "last_ingest_time",
            "errors",
        } <= set(result)
        assert result["last_ingest_time"].endswith("Z")


def test_b8_test_db_isolation(library: Library) -> None:
    """B-8/D-14: --test-db changes only the test catalog."""
    library.setup()
    library.setup(test_db=True)
    production = library.snapshot()["apollonia.db"]
    doc = library.ok("source", "ingest", "Local", "--test-db")
    assert doc["mode"] == "test"
    assert library.snapshot()["apollonia.db"] == production
    assert library.query("SELECT count(*) FROM assets", test_db=True) == [(len(TV_MEDIA) + 2,)]


def test_no_eligible_collection_exits_1(library: Library) -> None:
    """Seed 004 safety: refuse a source with no enabled collections (exit 1)."""
    library.setup(sync_tv=False)
    library.ok("collection", "update", "Films", "--sync-disable")
    result = library.cli("source", "ingest", "Local", "--json")
    assert result.code == 1
    assert result.json()["errors"][0]["message"].startswith("Error: No enabled collections")


def test_unreachable_source_root_exits_3(library: Library) -> None:
    """Exit 3: the source location cannot be accessed."""
    library.setup()
    shutil.move(library.root, library.root.with_name("moved-away"))
    result = library.cli("source", "ingest", "Local", "--json")
    assert result.code == 3
    assert "cannot be accessed" in result.json()["errors"][0]["message"]


def test_b10_b12_non_compliant_importer_exits_1(library: Library) -> None:
    """B-10/B-12: interface compliance is verified before any collection is attempted."""
    library.setup()
    library.execute("UPDATE sources SET type = 'plex'")
    result = library.cli("source", "ingest", "Local", "--json")
    assert result.code == 1
    assert result.json()["errors"][0]["code"] == "importer_not_compliant"
    assert library.query("SELECT count(*) FROM ingest_runs") == [(0,)]


def test_all_collections_failing_is_an_error(library: Library) -> None:
    """B-9: when every collection fails the run is an error, not partial (exit 3 when every
    failure is an unreachable root)."""
    library.setup()
    shutil.rmtree(library.tv)
    shutil.rmtree(library.films)
    result = library.cli("source", "ingest", "Local", "--json")
    assert result.code == 3
    doc = json.loads(result.stdout)
    assert doc["status"] == "error"
    assert len(doc["errors"]) == 2
