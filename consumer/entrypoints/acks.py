"""Which deliveries may be acked, and with how few frames.

An ack with `multiple=True` for delivery tag T acks *every* outstanding delivery on that channel
up to T. One frame for a whole batch halves the consumer's per-message cost on a busy queue, but
it is only right when nothing below T is still waiting to be applied or has failed. `AckLedger`
keeps, per channel, the deliveries in the order they arrived (their tags grow) and answers, for a
set of deliveries now safe to ack, which frames to send: one `multiple` ack for the part that
extends the contiguous prefix of settled deliveries, single acks for the rest.

A delivery leaves the ledger when it is acked, or when its nack reached the channel (the broker
has requeued it, so a later multiple-ack cannot touch it). A nack that could not be sent leaves
the delivery outstanding on the broker: the ledger then never again sends a multiple-ack on that
channel, so a delivery that failed to apply is never acked by someone else's frame.

`Acknowledger` sends what the ledger decides; a frame that cannot be sent is only logged, as a
closed channel means the broker redelivers anyway.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from consumer.entrypoints.worker_log import log


class Tagged(Protocol):
    """What the ledger needs of a delivery: its channel and its tag on that channel."""

    @property
    def delivery_tag(self) -> int: ...

    @property
    def channel(self) -> object: ...


class Settleable(Tagged, Protocol):
    async def ack(self, *, multiple: bool = False) -> None: ...

    async def nack(self) -> None: ...


D = TypeVar("D", bound=Tagged)
S = TypeVar("S", bound=Settleable)


@dataclass(frozen=True, slots=True)
class AckFrame(Generic[D]):
    delivery: D
    multiple: bool


@dataclass(slots=True)
class _Line(Generic[D]):
    """One channel: the tags in delivery order (some already settled) and the unsettled ones."""

    order: deque[D] = field(default_factory=deque)
    unsettled: set[int] = field(default_factory=set)


class AckLedger(Generic[D]):
    """The unsettled deliveries of every channel, and the ack frames that are safe to send."""

    def __init__(self) -> None:
        self._lines: dict[int, _Line[D]] = {}
        # Channels where a nack could not be sent: a delivery there may still be outstanding.
        # The channel is kept referenced so that its id is not reused by a new one.
        self._broken: dict[int, object] = {}

    def track(self, delivery: D) -> None:
        """A new delivery, in the order the channel delivered it."""
        key = id(delivery.channel)
        if key in self._broken:
            return
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = _Line()
        line.order.append(delivery)
        line.unsettled.add(delivery.delivery_tag)

    def released(self, delivery: D) -> None:
        """Its nack was sent: the broker requeued it, no ack of ours may cover it any more."""
        line = self._lines.get(id(delivery.channel))
        if line is not None:
            line.unsettled.discard(delivery.delivery_tag)

    def unreleased(self, delivery: D) -> None:
        """Its nack could not be sent: it may still be outstanding on the broker, unacked."""
        key = id(delivery.channel)
        self._broken[key] = delivery.channel
        # Forget the line: from now on every ack on this channel is a single one.
        self._lines.pop(key, None)

    def acks(self, deliveries: Iterable[D]) -> list[AckFrame[D]]:
        """The frames that ack exactly `deliveries` (applied and committed, or dead-lettered).

        Per channel: the deliveries that, with those settled before, form a contiguous prefix of
        what the channel delivered go in one frame, `multiple` when it covers more than one;
        every other one gets a single ack."""
        frames: list[AckFrame[D]] = []
        wanted: dict[int, dict[int, D]] = {}
        for delivery in deliveries:
            line = self._lines.get(id(delivery.channel))
            if line is None or delivery.delivery_tag not in line.unsettled:
                frames.append(AckFrame(delivery, multiple=False))  # not tracked: ack it alone
                continue
            wanted.setdefault(id(delivery.channel), {})[delivery.delivery_tag] = delivery
        for key, chosen in wanted.items():
            line = self._lines[key]
            order, unsettled = line.order, line.unsettled
            last: D | None = None
            covered = 0
            while order:
                tag = order[0].delivery_tag
                if tag in unsettled:
                    if tag not in chosen:
                        break  # still waiting (or failed): the prefix ends here
                    unsettled.discard(tag)
                    last = chosen.pop(tag)
                    covered += 1
                order.popleft()
            if last is not None:
                frames.append(AckFrame(last, multiple=covered > 1))
            for tag, delivery in chosen.items():
                unsettled.discard(tag)  # its place in `order` is skipped when reached
                frames.append(AckFrame(delivery, multiple=False))
            if not order:
                del self._lines[key]
        return frames

    @property
    def outstanding(self) -> int:
        """Deliveries tracked and not yet settled (for tests and debugging)."""
        return sum(len(line.unsettled) for line in self._lines.values())


class Acknowledger(Generic[S]):
    """Settles deliveries on their channels as the ledger allows."""

    def __init__(self) -> None:
        self.ledger: AckLedger[S] = AckLedger()

    def track(self, delivery: S) -> None:
        self.ledger.track(delivery)

    async def settle(self, *, acks: Iterable[S] = (), nacks: Iterable[S] = ()) -> None:
        """Requeue `nacks`, then ack `acks`. The nacks go first so that their frames precede any
        multiple-ack that spans their tags."""
        for delivery in nacks:
            try:
                await delivery.nack()
            except Exception as exc:
                self.ledger.unreleased(delivery)
                log.debug(
                    "could not settle a message (the broker will redeliver it)", error=str(exc)
                )
            else:
                self.ledger.released(delivery)
        for frame in self.ledger.acks(acks):
            try:
                await frame.delivery.ack(multiple=frame.multiple)
            except Exception as exc:
                log.debug("could not ack (the broker will redeliver)", error=str(exc))
