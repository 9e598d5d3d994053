"""Events under no collection are acked and not cataloged; once a minute the log says how many,
instead of one line per event (a watched folder outside every collection can be busy)."""

from __future__ import annotations

import asyncio

from consumer.entrypoints.worker_log import log


class UnmatchedReport:
    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self.since_report = 0

    def count(self) -> None:
        self.since_report += 1

    async def run(self) -> None:
        """Report until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            if self.since_report:
                log.info(
                    "events under no collection in the last minute (acked, not cataloged)",
                    count=self.since_report,
                )
                self.since_report = 0
