"""Counters of one pipeline instance, shared by its stages (the Prometheus metrics in
`ingestor.metrics` are process-wide; these are what tests and tools read)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class PipelineStats:
    """Counters of this pipeline instance (the Prometheus metrics are process-wide)."""

    hashed_files: int = 0
    hashed_bytes: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    rescans: int = 0
    suppressed_deletions: int = 0
