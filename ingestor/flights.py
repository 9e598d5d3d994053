"""Files being prospected right now, and which of them were overtaken while in flight.

A file deleted or moved while its batch is hashing must not be published from that batch: its
flight is marked cancelled, and the batch drops it when it emits.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestor.paths import is_at_or_under


@dataclass(slots=True)
class Flight:
    cancelled: bool = False


class Flights:
    def __init__(self) -> None:
        self._flights: dict[bytes, Flight] = {}

    @property
    def idle(self) -> bool:
        return not self._flights

    def __contains__(self, path: object) -> bool:
        return path in self._flights

    def take_off(self, path: bytes) -> None:
        self._flights[path] = Flight()

    def land(self, path: bytes) -> Flight | None:
        return self._flights.pop(path, None)

    def is_cancelled(self, path: bytes) -> bool:
        return self._flights[path].cancelled

    def cancel(self, path: bytes, *, tree: bool = False) -> list[bytes]:
        """Cancel the flight of `path` (with `tree`, of everything at or under it); the paths
        cancelled."""
        if not tree:
            flight = self._flights.get(path)
            if flight is None:
                return []
            flight.cancelled = True
            return [path]
        cancelled = []
        for p, flight in self._flights.items():
            if is_at_or_under(p, path):
                flight.cancelled = True
                cancelled.append(p)
        return cancelled
