"""The `filename` enricher (editorial): title, year, type, season, episodes, edition, air date and
external ids from the asset's canonical key (its folders and its name), by the rules of
`consumer.domain.names`. A collection's forced type (`other` for commercials, bumpers and
idents) is never overridden by what guessit guesses."""

from __future__ import annotations

import asyncio
import importlib.util
from importlib.metadata import PackageNotFoundError, version

from consumer.domain.enrichment import (
    Availability,
    Enriched,
    EnricherKind,
    EnrichmentFailed,
    EnrichmentInput,
    EnrichmentResult,
)
from consumer.domain.names import describe


def _guessit_version() -> str | None:
    try:
        return version("guessit")
    except PackageNotFoundError:
        return None


class FilenameEnricher:
    id = "filename"
    version = "1"
    kind: EnricherKind = "editorial"

    def available(self) -> Availability:
        if importlib.util.find_spec("guessit") is None:
            return Availability(False, "guessit is not installed")
        return Availability(True)

    async def enrich(self, item: EnrichmentInput) -> EnrichmentResult:
        if not item.canonical_key:
            return EnrichmentFailed("the asset has no canonical key")
        # guessit takes milliseconds a name (and ~0.1 s to load): off the event loop, which may
        # be the apply path's.
        fields = await asyncio.to_thread(describe, item.canonical_key, item.media_type)
        return Enriched(fields, tool="guessit", tool_version=_guessit_version())
