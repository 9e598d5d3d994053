"""`require_broker` against a port where nothing listens: a skip, or a failure when required."""

from __future__ import annotations

import re

import pytest

from tests.broker_required import reason, require_broker
from tests.integration.ingestor.proxy import free_port

pytestmark = pytest.mark.integration


def nowhere() -> str:
    return f"amqp://guest:guest@127.0.0.1:{free_port()}/"


def test_no_broker_skips_the_test_with_the_reason() -> None:
    url = nowhere()
    with pytest.raises(pytest.skip.Exception, match=re.escape(reason(url, required=False))):
        require_broker(url, required=False)


def test_no_broker_fails_the_test_when_a_broker_is_required() -> None:
    url = nowhere()
    with pytest.raises(pytest.fail.Exception, match=re.escape(reason(url, required=True))):
        require_broker(url, required=True)
