"""Enrichers: plugins that say what an asset is. The interface, their results, and how results
of several enrichers combine. Pure; the enrichers themselves live in `consumer.adapters.enrichers`
and are found through the entry-point group `apollonia.enrichers`.

A collection lists its enrichers with priorities; lower priority runs first, and a later
enricher sees what the earlier ones produced. Technical fields (what ffprobe measured) are kept
per enricher; for editorial fields (title, year, season...) the earliest enricher that set a
field wins a conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

EnricherKind = Literal["technical", "editorial"]
ENTRY_POINT_GROUP = "apollonia.enrichers"


@dataclass(frozen=True, slots=True)
class Availability:
    ok: bool
    reason: str = "available"


@dataclass(frozen=True, slots=True)
class EnrichmentInput:
    """What an enricher is told about one asset."""

    asset_uuid: str
    path: str  # as this host sees it
    canonical_key: str
    neighbors: tuple[str, ...] = ()
    media_type: str | None = None  # the collection's forced type (movie, episode, other)
    so_far: dict[str, Any] = field(default_factory=dict)  # what earlier enrichers produced


@dataclass(frozen=True, slots=True)
class Enriched:
    fields: dict[str, Any]
    tool: str | None = None
    tool_version: str | None = None


@dataclass(frozen=True, slots=True)
class EnrichmentFailed:
    reason: str


EnrichmentResult = Enriched | EnrichmentFailed


@runtime_checkable
class Enricher(Protocol):
    id: str
    version: str
    kind: EnricherKind

    def available(self) -> Availability: ...

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult: ...


def merge_editorial(results: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Editorial fields from `(enricher_id, fields)` in run order: the first to set a field
    keeps it (lower priority wins), later ones only fill what is still missing."""
    merged: dict[str, Any] = {}
    for _enricher_id, fields in results:
        for name, value in fields.items():
            if value is not None and name not in merged:
                merged[name] = value
    return merged
