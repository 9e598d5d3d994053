"""Shared fixtures. Every test gets a clean environment: no APOLLONIA_* variables leak in from the
shell, and the config dir points at a temporary folder, so nothing touches a real catalog."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from apollonia.settings import sqlite_url
from consumer.adapters.db.catalog import CatalogDatabase
from shared.database import create_engine
from tests import broker_required, postgres_required

_ALIASES = ("AMQP_CONNECTION_STRING", "DATA_DIRECTORY", "LOG_LEVEL")


def pytest_report_header() -> str:
    """One line up front on whether the broker tests will run, skip or fail."""
    url, required = broker_required.AMQP_URL, broker_required.REQUIRED
    if broker_required.answers(url):
        host, port = broker_required.address(url)
        return f"broker: RabbitMQ answers on {host}:{port}"
    return f"broker: {broker_required.reason(url, required=required)}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules marked `catalog_backends` run each test once per selected catalog backend."""
    if "catalog_backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("catalog_backends") is None:
        return
    metafunc.parametrize("catalog_backend", postgres_required.selected(), indirect=True)


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_template() -> Iterator[None]:
    yield
    postgres_required.drop_pool()
    postgres_required.finish_drops()
    if postgres_required.migrated_template.cache_info().currsize:
        postgres_required.drop_database(postgres_required.migrated_template())


@pytest.fixture
def catalog_backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql` (the latter only in modules marked `catalog_backends`)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(autouse=True)
def config_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("APOLLONIA_") or name in _ALIASES:
            monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("APOLLONIA_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.db"


@pytest.fixture
def catalog_url(catalog_backend: str, catalog_path: Path) -> Iterator[str]:
    """A SQLite file that does not exist yet, or a fresh PostgreSQL database at the schema head
    (dropped after the test)."""
    if catalog_backend == "sqlite":
        yield sqlite_url(catalog_path)
        return
    postgres_required.require_postgres()
    yield from postgres_required.fresh_url()


@pytest.fixture
def catalog_env(
    catalog_backend: str, catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str | None]:
    """For CLI tests: on PostgreSQL, APOLLONIA_DATABASE_URL (and the `--test-db` catalog) point at
    the test's databases; on SQLite the default files in the config dir are used, untouched."""
    if catalog_backend == "sqlite":
        yield None
        return
    monkeypatch.setenv("APOLLONIA_DATABASE_URL", catalog_url)
    test_db = postgres_required.fresh_url()
    monkeypatch.setenv("APOLLONIA_TEST_DATABASE_URL", next(test_db))
    yield catalog_url
    test_db.close()  # runs its `finally`: the database is dropped


@pytest.fixture
async def catalog(catalog_url: str) -> AsyncIterator[CatalogDatabase]:
    db = CatalogDatabase(catalog_url)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def engine(catalog_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(catalog_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def catalog_ref(catalog_backend: str, catalog_path: Path, catalog_url: str) -> Path | str:
    """What raw-SQL helpers (tests/catalog_sql.py) read for the `catalog` fixture: the SQLite
    file, or the PostgreSQL URL."""
    return catalog_path if catalog_backend == "sqlite" else catalog_url


@pytest.fixture
def cli_catalog_ref(config_dir: Path, catalog_env: str | None) -> Path | str:
    """The catalog the CLI uses: `apollonia.db` in the config dir, or the PostgreSQL URL that
    `catalog_env` exported."""
    return config_dir / "apollonia.db" if catalog_env is None else catalog_env
