"""Which enrichers a collection may name, and what `apollonia enricher list` says of each
(consumer.service_layer.enrichers), over stand-in enrichers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from apollonia.cli import errors
from consumer.domain.enrichment import (
    Availability,
    Enriched,
    EnricherKind,
    EnrichmentInput,
    EnrichmentResult,
)
from consumer.domain.errors import OperationError
from consumer.service_layer.admin import parse_enrichers
from consumer.service_layer.enrichers import KnownEnrichers, enricher_statuses


@dataclass
class StandIn:
    id: str
    version: str = "2"
    kind: EnricherKind = "editorial"
    reason: str | None = None  # unavailable, and why
    explodes: bool = False

    def available(self) -> Availability:
        if self.explodes:
            raise RuntimeError("no licence server")
        return Availability(False, self.reason) if self.reason else Availability(True)

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        return Enriched({})


KNOWN = KnownEnrichers(
    {
        "ffprobe": StandIn("ffprobe", kind="technical", reason="ffprobe not found"),
        "tagger": StandIn("tagger"),
        "flaky": StandIn("flaky", explodes=True),
    },
    {"broken": "ModuleNotFoundError: No module named 'nowhere'"},
)


def test_statuses_say_available_or_why_not_and_list_broken_plugins() -> None:
    rows = {s.id: s.as_dict() for s in enricher_statuses(KNOWN)}
    assert list(rows) == ["broken", "ffprobe", "flaky", "tagger"]
    assert rows["tagger"] == {
        "id": "tagger",
        "version": "2",
        "kind": "editorial",
        "loaded": True,
        "available": True,
        "reason": "available",
    }
    assert rows["ffprobe"]["available"] is False
    assert rows["ffprobe"]["reason"] == "ffprobe not found"
    assert rows["flaky"]["available"] is False
    assert "RuntimeError: no licence server" in rows["flaky"]["reason"]
    assert rows["broken"]["loaded"] is False and rows["broken"]["kind"] is None
    assert "No module named 'nowhere'" in rows["broken"]["reason"]


def test_known_ids_are_accepted_in_priority_order() -> None:
    refs = parse_enrichers(["tagger:2", "ffprobe:1"], KNOWN)
    assert [(r.enricher_id, r.priority) for r in refs] == [("ffprobe", 1), ("tagger", 2)]


def test_an_unknown_id_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(OperationError) as refused:
        parse_enrichers(["ffprobe:1", "tvdb:2"], KNOWN)
    assert errors.message(refused.value) == (
        "Error: no enricher 'tvdb' is installed (known: ffprobe, flaky, tagger; "
        "see 'apollonia enricher list')"
    )
    assert errors.exit_code(refused.value) == 1


def test_a_broken_plugins_id_is_refused_with_its_reason() -> None:
    with pytest.raises(OperationError) as refused:
        KNOWN.require("broken")
    assert errors.message(refused.value) == (
        "Error: enricher 'broken' is installed but cannot be loaded: "
        "ModuleNotFoundError: No module named 'nowhere'"
    )


def test_without_a_registry_ids_are_not_checked() -> None:
    assert [r.enricher_id for r in parse_enrichers(["anything:1"])] == ["anything"]
