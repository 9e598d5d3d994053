"""Which enrichers exist: every entry point of the group `apollonia.enrichers` (the built-ins
register there too, in pyproject.toml), so a third party adds one with a package:

    [project.entry-points."apollonia.enrichers"]
    my-tagger = "my_package.tagger:MyTagger"     # a class (or factory) taking no arguments
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from consumer.domain.enrichment import ENTRY_POINT_GROUP, Enricher


@dataclass(frozen=True, slots=True)
class BrokenPlugin:
    """An entry point that could not be loaded or built, and why."""

    id: str
    reason: str


def discover() -> tuple[dict[str, Enricher], list[BrokenPlugin]]:
    """The enrichers by id, and the plugins that failed to load (never fatal: one broken
    third-party package must not stop the catalog)."""
    found: dict[str, Enricher] = {}
    broken: list[BrokenPlugin] = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            enricher = point.load()()
        except Exception as exc:
            broken.append(BrokenPlugin(point.name, f"{type(exc).__name__}: {exc}"))
            continue
        if not isinstance(enricher, Enricher) or enricher.id != point.name:
            broken.append(
                BrokenPlugin(point.name, "does not implement the Enricher interface or its id")
            )
            continue
        found[point.name] = enricher
    return found, broken
