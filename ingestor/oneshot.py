"""`apollonia publish PATH...`: prospect the given files and publish them now, then exit.

For scripts such as a Sonarr/Radarr "on import" hook. It connects first (so a dead broker is
reported before a large file is read), prospects the files exactly like the service does, and
publishes them directly with publisher confirms — it does not use the service's outbox, so it never
competes with a running ingestor; if that ingestor also sees the file, the consumer applies the
second event as a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ingestor.config import BrokerConfig, HashConfig
from ingestor.events import created_event, utc_now
from ingestor.paths import display
from ingestor.prospect import Hashed, Prospector, Skipped
from ingestor.publisher import APP_ID, BrokerPublisher, Outbound, describe
from shared.hashing import Hasher
from shared.schemas.file_event import FileEvent


class FileProblemError(Exception):
    """Some files could not be prospected (vanished, unreadable, changed while read)."""

    def __init__(self, problems: list[Skipped]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{display(p.path)}: {p.detail}" for p in problems) or "no files"
        )


class PublishFailedError(Exception):
    """The broker did not confirm every event."""


async def publish_files(
    broker_config: BrokerConfig,
    hashing: HashConfig,
    paths: Sequence[bytes],
    *,
    connect_timeout: float = 10.0,
) -> list[FileEvent]:
    """Prospect and publish `paths` (absolute, regular files); the events published, in order.

    Raises BrokerUnavailableError, FileProblemError or PublishFailedError.
    """
    broker = BrokerPublisher(
        broker_config.amqp_url,
        broker_config.topology,
        app_id=APP_ID,
        connection_name=f"{APP_ID} publish {broker_config.ingestor_id}",
        connect_timeout=connect_timeout,
    )
    await broker.connect()
    hasher = Hasher(hashing.workers, hashing.chunk_size)
    try:
        outcomes = await Prospector(hasher).prospect(list(paths))
        problems = [o for o in outcomes if isinstance(o, Skipped)]
        if problems:
            raise FileProblemError(problems)
        now = utc_now()
        events = [
            created_event(o, event_type="publish", ingestor_id=broker_config.ingestor_id, now=now)
            for o in outcomes
            if isinstance(o, Hashed)
        ]
        results = await broker.publish([Outbound.from_event(e) for e in events])
        errors = [r for r in results if r is not None]
        if errors:
            raise PublishFailedError(
                f"the broker did not confirm {len(errors)} of {len(events)} events: "
                f"{describe(errors[0])}"
            )
        return events
    finally:
        await broker.close()
        await asyncio.to_thread(hasher.close)
