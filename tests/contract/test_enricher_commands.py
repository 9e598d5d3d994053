"""`apollonia enricher list` and the enricher ids `collection add/update` accept (issue 13 item
1): the built-ins, a third-party enricher installed through a real entry point, and a broken
plugin that is listed with its reason without breaking anything."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from tests.cli import Result, run_cli_process
from tests.contract.conftest import Library

TAGGER = """
from consumer.domain.enrichment import Availability, Enriched


class Tagger:
    id = "acme-tagger"
    version = "0.3"
    kind = "editorial"

    def available(self):
        return Availability(True)

    async def enrich(self, item):
        return Enriched({"title": "ACME"})
"""


def install(site: Path, dist: str, module: str, code: str, entry_points: str) -> None:
    """What `pip install` leaves in site-packages: the module and its `.dist-info`."""
    (site / f"{module}.py").write_text(code)
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(dedent(entry_points))


@pytest.fixture
def plugins(tmp_path: Path) -> dict[str, str]:
    """The environment of a process that has a third-party enricher and a broken one."""
    site = tmp_path / "site"
    site.mkdir()
    install(
        site,
        "acme_tagger",
        "acme_tagger",
        TAGGER,
        """
        [apollonia.enrichers]
        acme-tagger = acme_tagger:Tagger
        """,
    )
    install(
        site,
        "broken_plugin",
        "broken_plugin",
        "raise ImportError('needs libacme.so')\n",
        """
        [apollonia.enrichers]
        broken = broken_plugin:Enricher
        """,
    )
    return {"PYTHONPATH": str(site)}


def cli(*args: str, env: dict[str, str]) -> Result:
    return run_cli_process(*args, env=env)


def test_the_built_ins_are_listed(library: Library) -> None:
    doc = library.ok("enricher", "list")
    rows = {row["id"]: row for row in doc["enrichers"]}
    assert {"ffprobe", "filename", "sidecars"} <= set(rows)
    assert rows["ffprobe"]["kind"] == "technical"
    assert rows["filename"] == {
        "id": "filename",
        "version": "1",
        "kind": "editorial",
        "loaded": True,
        "available": True,
        "reason": "available",
    }
    human = library.cli("enricher", "list")
    assert human.code == 0
    assert any(
        line.split()[:3] == ["sidecars", "1", "editorial"] for line in human.stdout.splitlines()
    )


def test_a_third_party_enricher_and_a_broken_one(library: Library, plugins: dict[str, str]) -> None:
    listed = cli("enricher", "list", "--json", env=plugins)
    assert listed.code == 0, listed.stderr
    rows = {row["id"]: row for row in listed.json()["enrichers"]}
    assert rows["acme-tagger"]["version"] == "0.3" and rows["acme-tagger"]["available"] is True
    assert rows["broken"]["loaded"] is False
    assert "ImportError: needs libacme.so" in rows["broken"]["reason"]
    assert rows["ffprobe"]["loaded"] is True  # one broken plugin stops nothing else
    human = cli("enricher", "list", env=plugins)
    assert "broken: cannot be loaded: ImportError: needs libacme.so" in human.stdout

    library.ok("source", "add", "--type", "filesystem", "--name", "Local")
    added = cli(
        "collection", "add", "--source", "Local", "--name", "TV", "--path", str(library.tv),
        "--enricher", "acme-tagger:5", "--enricher", "filename:1", "--json",
        env=plugins,
    )  # fmt: skip
    assert added.code == 0, added.stdout + added.stderr
    assert added.json()["collection"]["enrichers"] == [
        {"enricher_id": "filename", "priority": 1},
        {"enricher_id": "acme-tagger", "priority": 5},
    ]
    refused = cli("collection", "update", "TV", "--add-enricher", "broken", "--priority", "2",
                  env=plugins)  # fmt: skip
    assert refused.code == 1
    assert (
        "Error: enricher 'broken' is installed but cannot be loaded: "
        "ImportError: needs libacme.so" in refused.stderr
    )
    # Without the package, its id is unknown.
    assert library.cli("collection", "update", "TV", "--add-enricher", "acme-tagger",
                       "--priority", "2").code == 1  # fmt: skip


def test_an_unknown_enricher_id_is_refused_and_nothing_is_written(library: Library) -> None:
    library.ok("source", "add", "--type", "filesystem", "--name", "Local")
    args = ("collection", "add", "--source", "Local", "--name", "TV", "--path", str(library.tv))
    refused = library.cli(*args, "--enricher", "ffprobe:1", "--enricher", "tvdb:2")
    assert refused.code == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: no enricher 'tvdb' is installed (known: ffprobe, filename, sidecars; "
        "see 'apollonia enricher list')"
    )
    as_json = library.cli(*args, "--enricher", "tvdb:2", "--json")
    assert as_json.code == 1
    assert as_json.json()["errors"][0]["code"] == "enricher_not_registered"
    assert library.query("SELECT count(*) FROM collections") == [(0,)]

    library.ok(*args, "--enricher", "ffprobe:1")
    update = library.cli("collection", "update", "TV", "--add-enricher", "tvbd", "--priority", "2")
    assert update.code == 1 and "no enricher 'tvbd' is installed" in update.stderr
    shown = library.ok("collection", "show", "TV")
    assert shown["collection"]["enrichers"] == [{"enricher_id": "ffprobe", "priority": 1}]
