"""Declaring the topology for a one-shot command (replay, the dead-letter tools): a queue that
already exists with other arguments is an operator's setting to fix, not a traceback."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel

from consumer.domain.errors import OperationError
from shared.runtime.masking import mask_text
from shared.topology import Declared, Topology, declare_topology


async def declare_or_explain(channel: AbstractChannel, topology: Topology) -> Declared:
    try:
        return await declare_topology(channel, topology)
    except aio_pika.exceptions.ChannelPreconditionFailed as exc:
        raise OperationError("topology_mismatch", detail=mask_text(str(exc))) from None
