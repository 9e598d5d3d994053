"""Prometheus metrics of the consumer (served on /metrics by `shared.runtime.health`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "apollonia_consumer_messages_total",
    "Messages handled, by decision (create, update, skip, stale, delete, move, unmatched, "
    "ignored, dead_lettered, failed).",
    ["decision"],
)
DEAD_LETTERED = Counter(
    "apollonia_consumer_dead_lettered_total",
    "Messages the consumer sent to the dead-letter queue itself, by reason.",
    ["reason"],
)
BATCH_SIZE = Histogram(
    "apollonia_consumer_batch_size",
    "Messages per applied batch.",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500),
)
EVENT_TO_COMMIT = Histogram(
    "apollonia_consumer_event_to_commit_seconds",
    "From the event's timestamp (when the ingestor observed it) to the catalog commit.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
GROUP_FAILURES = Counter(
    "apollonia_consumer_group_failures_total",
    "Collection groups whose transaction failed (their messages were returned for redelivery).",
)
QUEUE_MESSAGES = Gauge(
    "apollonia_queue_messages",
    "Messages ready in a queue, sampled with a passive declare.",
    ["queue"],
)
QUEUE_CONSUMERS = Gauge(
    "apollonia_queue_consumers", "Consumers attached to a queue (passive declare).", ["queue"]
)
BROKER_CONNECTED = Gauge("apollonia_consumer_broker_connected", "1 when connected to the broker.")

# --- enrichment (the worker: `apollonia enricher`, or beside the apply path) ----------------
ENRICHMENT_JOBS = Counter(
    "apollonia_enrichment_jobs_total",
    "Enrichment jobs finished, by stage and outcome (ready, failed, qc_failed, discarded, "
    "waiting, lost).",
    ["stage", "outcome"],
)
ENRICHMENT_PENDING = Gauge(
    "apollonia_enrichment_jobs_pending",
    "Jobs waiting to be claimed (status pending), sampled by the enrichment worker.",
    ["stage"],
)
ENRICHER_SECONDS = Histogram(
    "apollonia_enrichment_probe_seconds",
    "Time one enricher took on one file (ffprobe: the probe and the tail decode).",
    ["enricher"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
QC_FAILURES = Counter(
    "apollonia_qc_failures_total",
    "Quality-control rules failed, by rule (an enricher that failed counts as enricher:<id>).",
    ["rule"],
)
