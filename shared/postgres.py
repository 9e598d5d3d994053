"""Opening a PostgreSQL catalog (psycopg 3): the counterpart of `shared.sqlite` for servers.

PostgreSQL needs none of SQLite's per-connection pragmas; what it needs is a driver that speaks
asyncio (`postgresql+psycopg`, the same name for the sync and the async dialect) and a name in
`pg_stat_activity` so an operator can tell Apollonia's sessions from others.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine.url import URL, make_url

from shared.async_engine import AsyncEngine, create_async_engine

DRIVER = "postgresql+psycopg"


def is_postgres(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def normalise_url(url: str | URL) -> URL:
    """`postgresql://` and `postgres://` mean psycopg 3: the only PostgreSQL driver we ship."""
    parsed = (
        make_url(str(url).replace("postgres://", "postgresql://", 1))
        if isinstance(url, str)
        else url
    )
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string()}")
    if parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername=DRIVER)
    return parsed


def create_engine(
    url: str | URL, *, application_name: str = "apollonia", **kwargs: Any
) -> AsyncEngine:
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("application_name", application_name)
    # A server that does not answer is said within seconds, not after the kernel's TCP timeout.
    connect_args.setdefault("connect_timeout", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(normalise_url(url), connect_args=connect_args, **kwargs)
