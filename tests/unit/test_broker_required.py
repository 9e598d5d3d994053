"""The decision behind broker tests: run, skip with a reason, or fail when a broker is required."""

from __future__ import annotations

import pytest

from tests.broker_required import Outcome, address, outcome, reason


@pytest.mark.parametrize(
    ("answers", "required", "expected"),
    [
        (True, False, Outcome.RUN),
        (True, True, Outcome.RUN),
        (False, False, Outcome.SKIP),
        (False, True, Outcome.FAIL),
    ],
)
def test_a_missing_broker_skips_unless_required(
    answers: bool, required: bool, expected: Outcome
) -> None:
    assert outcome(answers=answers, required=required) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("amqp://guest:guest@127.0.0.1:5672/", ("127.0.0.1", 5672)),
        ("amqp://user:pw@rabbit.example:5999/vhost", ("rabbit.example", 5999)),
        ("amqp://rabbit.example/", ("rabbit.example", 5672)),
        ("amqps://rabbit.example/", ("rabbit.example", 5671)),
    ],
)
def test_the_address_probed_is_the_urls(url: str, expected: tuple[str, int]) -> None:
    assert address(url) == expected


@pytest.mark.parametrize(("required", "says"), [(False, "skipped"), (True, "fail")])
def test_the_reason_names_the_address_and_the_switch_but_no_password(
    required: bool, says: str
) -> None:
    text = reason("amqp://guest:s3cret@10.0.0.9:5673/", required=required)
    assert "RabbitMQ does not answer on 10.0.0.9:5673" in text
    assert "APOLLONIA_REQUIRE_BROKER=1" in text and f"broker tests {says}" in text
    assert "s3cret" not in text
    assert "\n" not in text
