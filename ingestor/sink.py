"""Where finished events go: the `EventSink` protocol and its implementations.

The pipeline (watch → settle → prospect) hands every batch of finished `FileEvent`s, in order, to
one sink and, once `submit` has returned, records them in the state cache. `submit` must be durable
when it returns: an event it accepted must not be lost if the process dies the next instant. A sink
that updates the state cache itself, in the same transaction, says so with a true class attribute
`keeps_state_cache` and the pipeline skips its own update (`OutboxSink` does).

* `OutboxSink` — the ingestor service: appends to the outbox in the state database; the publisher
  sends them to the broker from there.
* `ListSink` — keeps events in memory (tests, tools).
* The embedded mode (`apollonia run`) provides a sink that applies the events straight to the
  catalog through the consumer's apply path, with no broker in between.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from ingestor import metrics
from ingestor.state import StateDatabase
from shared.schemas.file_event import FileEvent


@runtime_checkable
class EventSink(Protocol):
    async def submit(self, events: Sequence[FileEvent]) -> None:
        """Accept `events` (in order) durably; raise if they could not be accepted."""
        ...


class ListSink:
    """Collects events in memory."""

    def __init__(self) -> None:
        self.events: list[FileEvent] = []
        self.batches: list[list[FileEvent]] = []  # as submitted, one emission each

    async def submit(self, events: Sequence[FileEvent]) -> None:
        self.events.extend(events)
        self.batches.append(list(events))


class OutboxSink:
    """Appends events to the state database's outbox, and updates its cache in the same
    transaction, then wakes the publisher."""

    keeps_state_cache = True

    def __init__(self, state: StateDatabase, on_enqueued: Callable[[], None] | None = None) -> None:
        self.state = state
        self._on_enqueued = on_enqueued

    async def submit(self, events: Sequence[FileEvent]) -> None:
        if not events:
            return
        await self.state.record(events, enqueue=True)
        metrics.OUTBOX_PENDING.set(self.state.outbox_pending)
        if self._on_enqueued is not None:
            self._on_enqueued()
