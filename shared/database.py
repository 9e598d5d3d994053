"""One door to a catalog database, whichever engine is behind the URL.

SQLite (`sqlite+aiosqlite:///…`, the default) goes through `shared.sqlite` with its pragmas and
BEGIN modes; PostgreSQL (`postgresql+psycopg://…`) through `shared.postgres`.
"""

from __future__ import annotations

from typing import Any

from shared import postgres, sqlite
from shared.async_engine import AsyncEngine
from shared.postgres import is_postgres

__all__ = ["create_engine", "dialect_of", "is_postgres"]


def dialect_of(url: str) -> str:
    """`sqlite` or `postgresql`."""
    return "postgresql" if is_postgres(url) else "sqlite"


def create_engine(
    url: str,
    *,
    busy_timeout_ms: int = sqlite.DEFAULT_BUSY_TIMEOUT_MS,
    create_parent: bool = True,
    **kwargs: Any,
) -> AsyncEngine:
    if is_postgres(url):
        return postgres.create_engine(url, **kwargs)
    return sqlite.create_engine(
        url, busy_timeout_ms=busy_timeout_ms, create_parent=create_parent, **kwargs
    )
