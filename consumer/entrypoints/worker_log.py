"""The consumer worker's logger. Its modules log under the one name the worker always had, so
splitting it changed no log line (operators filter on `logger`)."""

from __future__ import annotations

from shared.runtime.log import get_logger

log = get_logger("consumer.entrypoints.amqp_worker")
