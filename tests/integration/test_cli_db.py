"""`apollonia db upgrade` on an empty config folder, then raw SQL through the sqlite3 shell."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from consumer.adapters.db import migrate
from tests.cli import run_cli

pytestmark = pytest.mark.integration

INSERT = (
    "INSERT INTO sources (uuid, external_id, name, type, root_path, path_mappings, created_at,"
    " updated_at) VALUES"
    " ('s', NULL, 'S', 'filesystem', '/m', '[]', '2026-01-01', '2026-01-01');"
    "INSERT INTO collections (uuid, source_uuid, name, root_path, created_at, updated_at)"
    " VALUES ('c', 's', 'C', '/m', '2026-01-01', '2026-01-01');"
)
ASSET = (
    "INSERT INTO assets (uuid, collection_uuid, canonical_key, path, size, mtime_ns,"
    " content_signature, enricher_checksum, state, approved_for_broadcast, discovered_at,"
    " created_at, updated_at) VALUES ('{uuid}', 'c', '{key}', '/m/k', 1, 1, 's', 'e', '{state}',"
    " {approved}, '2026', '2026', '2026');"
)


def sqlite3_shell(db: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sqlite3", str(db), sql], capture_output=True, text=True, check=False)


def test_db_upgrade_creates_the_catalog_in_the_config_dir(config_dir: Path) -> None:
    result = run_cli("db", "upgrade", "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["status"] == "success"
    assert doc["revision"] == migrate.HEAD_REVISION and doc["upgraded"] is True
    assert (config_dir / "apollonia.db").exists()
    again = run_cli("db", "upgrade", "--json")
    assert again.json()["upgraded"] is False


def test_test_db_flag_touches_only_the_test_catalog(config_dir: Path) -> None:
    assert run_cli("db", "upgrade", "--test-db").code == 0
    assert (config_dir / "apollonia-test.db").exists()
    assert not (config_dir / "apollonia.db").exists()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 shell")
def test_raw_sql_cannot_break_the_invariants(config_dir: Path) -> None:
    assert run_cli("db", "upgrade").code == 0
    db = config_dir / "apollonia.db"
    assert sqlite3_shell(db, INSERT).returncode == 0
    ok = sqlite3_shell(db, ASSET.format(uuid="a1", key="k", state="new", approved=0))
    assert ok.returncode == 0, ok.stderr

    ready = sqlite3_shell(db, ASSET.format(uuid="a2", key="k2", state="ready", approved=0))
    assert ready.returncode != 0 and "created in state ready" in ready.stderr

    approved = sqlite3_shell(db, ASSET.format(uuid="a3", key="k3", state="new", approved=1))
    assert approved.returncode != 0 and "approved_requires_ready" in approved.stderr

    duplicate = sqlite3_shell(db, ASSET.format(uuid="a4", key="k", state="new", approved=0))
    assert duplicate.returncode != 0 and "UNIQUE constraint failed" in duplicate.stderr

    count = sqlite3_shell(db, "SELECT count(*) FROM assets;")
    assert count.stdout.strip() == "1"


def test_usage_errors_exit_1_with_a_message() -> None:
    result = run_cli("db", "upgrade", "--no-such-flag")
    assert result.code == 1
    assert "No such option" in result.stderr
    as_json = run_cli("db", "upgrade", "--no-such-flag", "--json")
    assert as_json.code == 1
    assert as_json.json()["status"] == "error"
    assert as_json.json()["errors"][0]["message"] == "No such option: --no-such-flag"


def test_bad_configuration_exits_1_with_a_message() -> None:
    result = run_cli("db", "upgrade", "--json", env={"APOLLONIA_LOG_FORMAT": "xml"})
    assert result.code == 1
    assert "log_format" in result.json()["errors"][0]["message"]
