"""Prometheus metrics of the ingestor (served on /metrics by `shared.runtime.health`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HASHED_BYTES = Counter(
    "apollonia_ingestor_hashed_bytes_total", "Bytes read to compute SHA-256 and xxHash128."
)
HASHED_FILES = Counter("apollonia_ingestor_hashed_files_total", "Files hashed.")
HASH_DURATION = Histogram(
    "apollonia_ingestor_hash_duration_seconds",
    "Time to hash one file (both digests, one read).",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
EVENTS_RECORDED = Counter(
    "apollonia_ingestor_events_recorded_total",
    "Events written to the outbox (or the configured sink).",
    ["kind"],
)
EVENTS_PUBLISHED = Counter(
    "apollonia_ingestor_events_published_total",
    "Events confirmed by the broker.",
    ["kind"],
)
PUBLISH_FAILURES = Counter(
    "apollonia_ingestor_publish_failures_total",
    "Publishes that failed and stayed in the outbox for a retry.",
    ["reason"],
)
OUTBOX_PENDING = Gauge(
    "apollonia_ingestor_outbox_pending", "Events in the outbox not yet confirmed by the broker."
)
BROKER_CONNECTED = Gauge("apollonia_ingestor_broker_connected", "1 when connected to the broker.")
WATCHES = Gauge("apollonia_ingestor_watches", "inotify watches in place (one per directory).")
POLLED_ROOTS = Gauge("apollonia_ingestor_polled_roots", "Trees watched by polling.")
SETTLING = Gauge("apollonia_ingestor_settling_files", "Files waiting to be complete.")
PROSPECTED = Counter(
    "apollonia_ingestor_prospected_total",
    "Files prospected, by outcome (hashed, unchanged, vanished, unreadable, changed).",
    ["outcome"],
)
RESCANS = Counter(
    "apollonia_ingestor_rescans_total",
    "Reconciliation scans, by reason (startup, periodic, overflow, poll, root_back).",
    ["reason"],
)
OVERFLOWS = Counter(
    "apollonia_ingestor_inotify_overflows_total", "Times the kernel's inotify queue overflowed."
)
DELETIONS_SUPPRESSED = Counter(
    "apollonia_ingestor_deletions_suppressed_total",
    "Deletions not published because the root or a mount point looked missing or empty.",
)
