"""Shared fixtures. Every test gets a clean environment: no APOLLONIA_* variables leak in from the
shell, and the config dir points at a temporary folder, so nothing touches a real catalog."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from apollonia.settings import sqlite_url
from consumer.adapters.db.catalog import CatalogDatabase
from shared.sqlite import create_engine
from tests import broker_required

_ALIASES = ("AMQP_CONNECTION_STRING", "DATA_DIRECTORY", "LOG_LEVEL")


def pytest_report_header() -> str:
    """One line up front on whether the broker tests will run, skip or fail."""
    url, required = broker_required.AMQP_URL, broker_required.REQUIRED
    if broker_required.answers(url):
        host, port = broker_required.address(url)
        return f"broker: RabbitMQ answers on {host}:{port}"
    return f"broker: {broker_required.reason(url, required=required)}"


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
def catalog_url(catalog_path: Path) -> str:
    return sqlite_url(catalog_path)


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
