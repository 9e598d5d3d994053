"""A replay whose events match no collection says so and points to the runbook (exit 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apollonia.cli.replay import RUNBOOK
from tests.broker import AMQP_URL, Broker
from tests.cli import Result, run_cli
from tests.integration.consumer.conftest import TV, Catalog, event

pytestmark = [pytest.mark.integration, pytest.mark.catalog_backends]

DOCS = Path(__file__).resolve().parents[3] / "docs"


def replay(bus: Broker, url: str, *args: str) -> Result:
    env = {
        "APOLLONIA_AMQP_URL": AMQP_URL,
        "APOLLONIA_EXCHANGE": bus.topology.exchange,
        "APOLLONIA_DATABASE_URL": url,
        "APOLLONIA_MEDIA_EXTENSIONS": "mkv",
        "APOLLONIA_DELIVERY_LIMIT": "2",  # as the test broker declared it
    }
    return run_cli("replay", "--from", "first", "--idle-timeout", "1", *args, env=env)


def test_the_runbook_anchor_exists() -> None:
    page, anchor = RUNBOOK.split("#")
    headings = [
        line.lstrip("#").strip().lower().replace(" ", "-")
        for line in (DOCS.parent / page).read_text().splitlines()
        if line.startswith("## ")
    ]
    assert anchor in headings


async def test_a_catalog_without_collections_gets_the_recovery_hint(
    bus: Broker, tmp_path: Path
) -> None:
    for n in range(3):
        await bus.publish_event(event(f"{TV}/Show/S01E0{n}.mkv", f"episode {n}".encode()))
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    assert run_cli("db", "upgrade", env={"APOLLONIA_DATABASE_URL": url}).code == 0

    human = replay(bus, url)
    assert human.code == 0, human.stderr
    assert "Unmatched: 3" in human.stdout
    assert "No collection matched" in human.stdout
    assert RUNBOOK in human.stdout

    as_json = replay(bus, url, "--json")
    assert as_json.code == 0
    doc = as_json.json()
    assert doc["stats"]["unmatched"] == 3
    assert "the catalog has no collections" in doc["hint"]
    assert RUNBOOK in doc["hint"]


async def test_events_outside_every_collection_are_named(bus: Broker, catalog: Catalog) -> None:
    await bus.publish_event(event(f"{TV}/Show/S01E01.mkv", b"one"))
    await bus.publish_event(event("/elsewhere/x.mkv", b"two"))
    doc = replay(bus, catalog.url, "--json").json()
    assert doc["stats"]["unmatched"] == 1
    assert doc["hint"].startswith("1 event matched no collection")


async def test_no_hint_when_everything_matched(bus: Broker, catalog: Catalog) -> None:
    await bus.publish_event(event(f"{TV}/Show/S01E01.mkv", b"one"))
    result = replay(bus, catalog.url, "--json")
    assert result.code == 0
    assert "hint" not in result.json()


async def test_a_queue_declared_with_other_arguments_is_a_clear_error(
    bus: Broker, tmp_path: Path
) -> None:
    """The test broker declared the catalog queue with a delivery limit of 2: a replay told 7
    cannot redeclare it, and says what to do instead of a traceback."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"
    env = {
        "APOLLONIA_AMQP_URL": AMQP_URL,
        "APOLLONIA_EXCHANGE": bus.topology.exchange,
        "APOLLONIA_DATABASE_URL": url,
        "APOLLONIA_DELIVERY_LIMIT": "7",
    }
    for args in (("--json",), ()):
        ran = run_cli("replay", "--from", "first", "--idle-timeout", "1", *args, env=env)
        assert ran.code == 1, ran.stderr
        assert "Traceback" not in ran.stderr + ran.stdout
        message = ran.json()["errors"][0]["message"] if args else ran.stderr
        assert "other arguments" in message and "APOLLONIA_DELIVERY_LIMIT" in message
        assert "x-delivery-limit" in message  # the broker's own words say which
