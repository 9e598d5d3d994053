"""The enrichers there are, as the use cases need them: which ids a collection may name, and
each enricher's state for `apollonia enricher list`.

The registry itself (entry points of the group `apollonia.enrichers`) is an adapter, built by
`apollonia.bootstrap.enricher_registry()` and passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from consumer.domain.enrichment import Enricher
from consumer.domain.errors import OperationError


@dataclass(frozen=True, slots=True)
class KnownEnrichers:
    """The loaded enrichers by id, and the plugins that are installed but could not be loaded,
    with the reason."""

    enrichers: Mapping[str, Enricher]
    broken: Mapping[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return sorted(self.enrichers)

    def require(self, enricher_id: str) -> None:
        """Refuse an id no loaded enricher has (a typo, a plugin not installed or broken)."""
        if enricher_id in self.enrichers:
            return
        if enricher_id in self.broken:
            raise OperationError(
                "enricher_broken", enricher=enricher_id, reason=self.broken[enricher_id]
            )
        raise OperationError(
            "enricher_not_registered", enricher=enricher_id, known=self.ids or ["none"]
        )


@dataclass(frozen=True, slots=True)
class EnricherStatus:
    id: str
    version: str | None
    kind: str | None
    loaded: bool
    available: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "kind": self.kind,
            "loaded": self.loaded,
            "available": self.available,
            "reason": self.reason,
        }


def _status(enricher: Enricher) -> EnricherStatus:
    try:
        availability = enricher.available()
        ok, reason = availability.ok, availability.reason
    except Exception as exc:  # a third party's check must not break the listing
        ok, reason = False, f"available() raised {type(exc).__name__}: {exc}"
    return EnricherStatus(enricher.id, str(enricher.version), enricher.kind, True, ok, reason)


def enricher_statuses(known: KnownEnrichers) -> list[EnricherStatus]:
    """Every enricher by id: version, kind, available or why not; broken plugins with why."""
    statuses = [_status(e) for e in known.enrichers.values()]
    statuses += [
        EnricherStatus(plugin_id, None, None, False, False, f"cannot be loaded: {reason}")
        for plugin_id, reason in known.broken.items()
        if plugin_id not in known.enrichers
    ]
    return sorted(statuses, key=lambda s: s.id)
