"""The consumer's ack bookkeeping against a fake channel that keeps AMQP's rules, no broker.

The fake channel knows which deliveries are outstanding and, for each, the truth the test set:
pending (not yet decided), safe to ack (committed or dead-lettered) or failed. It refuses what
RabbitMQ would refuse (settling an unknown tag closes the channel) and records any ack that
reaches a delivery that is not safe to ack.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.entrypoints.acks import AckLedger, Acknowledger


@dataclass(eq=False)
class FakeChannel:
    name: str
    outstanding: dict[int, FakeDelivery] = field(default_factory=dict)
    frames: list[tuple[str, int, bool]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    refuse_nacks: bool = False
    next_tag: int = 1

    def deliver(self) -> FakeDelivery:
        delivery = FakeDelivery(self.next_tag, self)
        self.outstanding[delivery.delivery_tag] = delivery
        self.next_tag += 1
        return delivery

    def ack(self, tag: int, multiple: bool) -> None:
        self.frames.append(("ack", tag, multiple))
        if tag not in self.outstanding:
            self.violations.append(f"{self.name}: ack of unknown tag {tag}")
            return
        covered = [t for t in self.outstanding if t <= tag] if multiple else [tag]
        for t in covered:
            delivery = self.outstanding.pop(t)
            if delivery.state != "safe":
                self.violations.append(
                    f"{self.name}: ack{' multiple' if multiple else ''} {tag} reached "
                    f"{delivery.state} delivery {t}"
                )
            delivery.acked += 1

    def nack(self, tag: int) -> None:
        if self.refuse_nacks:
            raise ConnectionError("channel closed")
        self.frames.append(("nack", tag, False))
        if self.outstanding.pop(tag, None) is None:
            self.violations.append(f"{self.name}: nack of unknown tag {tag}")


@dataclass(eq=False)
class FakeDelivery:
    delivery_tag: int
    channel: FakeChannel
    state: str = "pending"  # pending | safe | failed
    acked: int = 0

    async def ack(self, *, multiple: bool = False) -> None:
        self.channel.ack(self.delivery_tag, multiple)

    async def nack(self) -> None:
        self.channel.nack(self.delivery_tag)


def test_a_batch_acked_at_once_is_one_multiple_frame() -> None:
    channel = FakeChannel("c")
    ledger: AckLedger[FakeDelivery] = AckLedger()
    batch = [channel.deliver() for _ in range(3)]
    for delivery in batch:
        ledger.track(delivery)
    frames = ledger.acks(batch)
    assert [(f.delivery.delivery_tag, f.multiple) for f in frames] == [(3, True)]
    assert ledger.outstanding == 0


def test_a_lone_delivery_is_acked_alone() -> None:
    channel = FakeChannel("c")
    ledger: AckLedger[FakeDelivery] = AckLedger()
    delivery = channel.deliver()
    ledger.track(delivery)
    assert [(f.delivery.delivery_tag, f.multiple) for f in ledger.acks([delivery])] == [(1, False)]


def test_no_multiple_ack_over_a_delivery_still_waiting() -> None:
    channel = FakeChannel("c")
    ledger: AckLedger[FakeDelivery] = AckLedger()
    d1, d2, d3, d4 = (channel.deliver() for _ in range(4))
    for delivery in (d1, d2, d3, d4):
        ledger.track(delivery)
    # The next batch's poison (3, 4) is dead-lettered while batch (1, 2) is being written.
    assert [(f.delivery.delivery_tag, f.multiple) for f in ledger.acks([d3, d4])] == [
        (3, False),
        (4, False),
    ]
    # Once 1 and 2 are committed one frame acks them; 3 and 4 are already settled.
    assert [(f.delivery.delivery_tag, f.multiple) for f in ledger.acks([d1, d2])] == [(2, True)]
    assert ledger.outstanding == 0


def test_a_failed_delivery_ends_the_prefix_until_its_nack_is_sent() -> None:
    channel = FakeChannel("c")
    ledger: AckLedger[FakeDelivery] = AckLedger()
    d1, d2, d3 = (channel.deliver() for _ in range(3))
    for delivery in (d1, d2, d3):
        ledger.track(delivery)
    assert [(f.delivery.delivery_tag, f.multiple) for f in ledger.acks([d1, d3])] == [
        (1, False),
        (3, False),
    ]
    ledger.released(d2)
    assert ledger.outstanding == 0


def test_after_a_nack_that_was_not_sent_no_multiple_ack_on_that_channel() -> None:
    channel, other = FakeChannel("c"), FakeChannel("o")
    ledger: AckLedger[FakeDelivery] = AckLedger()
    d1, d2, d3 = (channel.deliver() for _ in range(3))
    o1, o2 = other.deliver(), other.deliver()
    for delivery in (d1, d2, d3, o1, o2):
        ledger.track(delivery)
    ledger.unreleased(d1)  # d1 failed and its nack was lost: it may still be outstanding
    d4 = channel.deliver()
    ledger.track(d4)
    frames = ledger.acks([d2, d3, d4, o1, o2])
    assert sorted(
        (f.delivery.channel.name, f.delivery.delivery_tag, f.multiple) for f in frames
    ) == [
        ("c", 2, False),
        ("c", 3, False),
        ("c", 4, False),
        ("o", 2, True),
    ]


def test_the_acknowledger_nacks_before_it_acks() -> None:
    channel = FakeChannel("c")
    acks: Acknowledger[FakeDelivery] = Acknowledger()
    d1, d2, d3 = (channel.deliver() for _ in range(3))
    for delivery in (d1, d2, d3):
        acks.track(delivery)
    d1.state = d3.state = "safe"
    d2.state = "failed"
    asyncio.run(acks.settle(acks=[d1, d3], nacks=[d2]))
    assert channel.frames == [("nack", 2, False), ("ack", 3, True)]
    assert channel.violations == []
    assert channel.outstanding == {}


def test_a_nack_that_cannot_be_sent_keeps_its_delivery_out_of_every_ack() -> None:
    channel = FakeChannel("c")
    acks: Acknowledger[FakeDelivery] = Acknowledger()
    d1, d2, d3 = (channel.deliver() for _ in range(3))
    for delivery in (d1, d2, d3):
        acks.track(delivery)
    d1.state = d3.state = "safe"
    d2.state = "failed"
    channel.refuse_nacks = True
    asyncio.run(acks.settle(acks=[d1, d3], nacks=[d2]))
    assert channel.frames == [("ack", 1, False), ("ack", 3, False)]
    assert channel.violations == []
    assert list(channel.outstanding) == [2]


# A delivery in a generated run: its channel, how many rounds after the previous delivery it
# arrives, how many rounds after its arrival it is settled, whether it failed, and whether its
# nack (if it failed) is lost.
_delivery = st.tuples(
    st.integers(0, 1), st.integers(0, 2), st.integers(0, 4), st.booleans(), st.booleans()
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_delivery, min_size=1, max_size=40))
def test_no_ack_ever_reaches_a_delivery_that_is_not_safe_to_ack(
    plan: list[tuple[int, int, int, bool, bool]],
) -> None:
    """Deliveries arrive on two channels and are settled in any order, in rounds, some failed,
    some of whose nacks are lost: every ack frame reaches only committed or dead-lettered
    deliveries, each of those is acked exactly once, and a failed one never."""
    channels = [FakeChannel("a"), FakeChannel("b")]
    arrivals: dict[int, list[int]] = {}
    settles: dict[int, list[int]] = {}
    when = 0
    for index, (_, gap, wait, _, _) in enumerate(plan):
        when += gap
        arrivals.setdefault(when, []).append(index)
        settles.setdefault(when + wait, []).append(index)
    deliveries: list[FakeDelivery] = []
    acks: Acknowledger[FakeDelivery] = Acknowledger()

    async def run() -> None:
        for round_ in range(max(settles) + 1):
            for index in arrivals.get(round_, []):
                delivery = channels[plan[index][0]].deliver()
                deliveries.append(delivery)
                acks.track(delivery)
            ok: list[FakeDelivery] = []
            failed: list[FakeDelivery] = []
            for index in settles.get(round_, []):
                delivery = deliveries[index]
                if plan[index][3]:
                    delivery.state = "failed"
                    failed.append(delivery)
                else:
                    delivery.state = "safe"
                    ok.append(delivery)
            for delivery in failed:
                # A lost nack: the channel refuses it (it is typically closing).
                delivery.channel.refuse_nacks = plan[deliveries.index(delivery)][4]
                await acks.settle(nacks=[delivery])
                delivery.channel.refuse_nacks = False
            await acks.settle(acks=ok)

    asyncio.run(run())
    assert [v for channel in channels for v in channel.violations] == []
    for index, delivery in enumerate(deliveries):
        if plan[index][3]:
            assert delivery.acked == 0
            assert (delivery.delivery_tag in delivery.channel.outstanding) == plan[index][4]
        else:
            assert delivery.acked == 1
    assert acks.ledger.outstanding == 0
