"""PostgreSQL-only tests: every test here runs on a fresh PostgreSQL database (skipped locally
when the server does not answer, failed in CI)."""

from __future__ import annotations

import pytest


@pytest.fixture
def catalog_backend() -> str:
    return "postgresql"
