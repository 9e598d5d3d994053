"""Whether the PostgreSQL catalog tests can run, and the throwaway databases they run in.

Like tests/broker_required.py: skipped with one reason when PostgreSQL does not answer, failed
when the run demands it (CI sets APOLLONIA_REQUIRE_POSTGRES=1, or CI=true), so a server that did
not come up can never pass as a green run of skips.

Every test gets its own database, `apollonia_test_<uuid>`, dropped afterwards. Creating one from
template0 and migrating it costs ~0.5 s; cloning a database already migrated to head (the
session's template, built once) costs a tenth of that.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Generator

import pytest
from sqlalchemy.engine.url import make_url

# Read at import: the autouse fixture clears APOLLONIA_* variables for every test.
ADMIN_URL = os.environ.get(
    "APOLLONIA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRED = os.environ.get("APOLLONIA_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"
BACKENDS = ("sqlite", "postgresql")


def selected() -> tuple[str, ...]:
    """APOLLONIA_TEST_CATALOG=sqlite|postgresql|both (default both)."""
    wanted = os.environ.get("APOLLONIA_TEST_CATALOG", "both").strip().lower()
    if wanted in ("both", ""):
        return BACKENDS
    if wanted not in BACKENDS:
        raise pytest.UsageError(f"APOLLONIA_TEST_CATALOG={wanted!r}: sqlite, postgresql or both")
    return (wanted,)


def _libpq(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def url_for(database: str) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@functools.cache
def answers() -> str | None:
    """None when the server accepts a connection, else why not (asked once per run)."""
    import psycopg

    try:
        with psycopg.connect(_libpq(ADMIN_URL), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def reason(problem: str, *, required: bool) -> str:
    where = make_url(ADMIN_URL)
    missing = f"PostgreSQL does not answer on {where.host}:{where.port or 5432} ({problem})"
    if required:
        return f"{missing}; CI / APOLLONIA_REQUIRE_POSTGRES=1, so PostgreSQL tests fail"
    return f"{missing}; PostgreSQL tests skipped (APOLLONIA_REQUIRE_POSTGRES=1 fails them)"


def require_postgres() -> None:
    problem = answers()
    if problem is None:
        return
    if REQUIRED:
        pytest.fail(reason(problem, required=True), pytrace=False)
    pytest.skip(reason(problem, required=False))


def admin(sql: str) -> None:
    """One statement outside a transaction (CREATE / DROP DATABASE need that)."""
    import psycopg

    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(sql)


def create_database(*, template: str = "template0") -> str:
    name = f"apollonia_test_{uuid.uuid4().hex[:16]}"
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@functools.cache
def migrated_template() -> str:
    """A database at the schema head, cloned for each test; dropped at the end of the run."""
    import asyncio

    from consumer.adapters.db import migrate

    name = create_database()
    asyncio.run(migrate.upgrade_catalog(url_for(name)))
    return name


def fresh_url(*, migrated: bool = True) -> Generator[str]:
    name = create_database(template=migrated_template() if migrated else "template0")
    try:
        yield url_for(name)
    finally:
        drop_database(name)
