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
import queue
import sys
import threading
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


# Dropping a database costs a checkpoint's worth of I/O (seconds on a busy disk): a test's
# databases are dropped by one background thread while the next tests run; `finish_drops()` at
# the end of the session waits for the last of them.
_to_drop: queue.Queue[str | None] = queue.Queue()
_dropper: threading.Thread | None = None


def _drop_worker() -> None:
    while (name := _to_drop.get()) is not None:
        try:
            drop_database(name)
        except Exception as exc:
            print(f"could not drop test database {name}: {exc}", file=sys.stderr)


def drop_later(name: str) -> None:
    global _dropper  # noqa: PLW0603 - one worker per test session
    if _dropper is None:
        _dropper = threading.Thread(target=_drop_worker, name="drop-test-databases", daemon=True)
        _dropper.start()
    _to_drop.put(name)


def finish_drops() -> None:
    if _dropper is not None:
        _to_drop.put(None)
        _dropper.join()


@functools.cache
def migrated_template() -> str:
    """A database at the schema head, cloned for each test; dropped at the end of the run."""
    import asyncio

    from consumer.adapters.db import migrate

    name = create_database()
    asyncio.run(migrate.upgrade_catalog(url_for(name)))
    return name


# A test's database goes back to a pool once emptied (TRUNCATE is ~10x cheaper than DROP
# DATABASE, which waits for a checkpoint); one whose schema the test changed (a downgrade, an
# extra trigger) is dropped instead, in the background.
_pool: list[str] = []

_SCHEMA = """
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (
    SELECT 'r:' || relname || ':' || relkind FROM pg_class
    WHERE relnamespace = 'public'::regnamespace
    UNION ALL SELECT 't:' || tgname || ':' || tgenabled FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'f:' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'v:' || version_num FROM alembic_version
) AS schema(item)
"""


@functools.cache
def _template_schema() -> str:
    return _schema(url_for(migrated_template()))


def _schema(url: str) -> str:
    import psycopg

    with psycopg.connect(_libpq(url)) as conn:
        row = conn.execute(_SCHEMA).fetchone()
    return str(row[0]) if row else ""


def _recycle(name: str) -> None:
    import psycopg

    from consumer.adapters.db.tables import metadata

    url = url_for(name)
    try:
        if _schema(url) != _template_schema():
            drop_later(name)
            return
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '2s'")
            # The approvals trail refuses TRUNCATE; triggers do not fire for a replica session.
            conn.execute("SET session_replication_role = replica")
            conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    except psycopg.Error:
        drop_later(name)
        return
    _pool.append(name)


def fresh_url(*, migrated: bool = True) -> Generator[str]:
    if migrated and _pool:
        name = _pool.pop()
    else:
        name = create_database(template=migrated_template() if migrated else "template0")
    try:
        yield url_for(name)
    finally:
        if migrated:
            _recycle(name)
        else:
            drop_later(name)


def drop_pool() -> None:
    while _pool:
        drop_later(_pool.pop())
