"""Fake media servers on loopback, a library on disk behind path mappings, and the CLI."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import Result, run_cli
from tests.fakes_media_servers.jellyfin import FakeJellyfin
from tests.fakes_media_servers.plex import FakePlex

PLEX_TOKEN = "plex-Tok3n-never-shown"
JELLYFIN_KEY = "jellyfin-ApiKey-never-shown"


@pytest.fixture
def plex() -> Iterator[FakePlex]:
    server = FakePlex(token=PLEX_TOKEN).start()
    yield server
    server.stop()
    assert server.unanswered == [], "the importer asked the fake Plex what Plex does not answer"


@pytest.fixture
def jellyfin() -> Iterator[FakeJellyfin]:
    server = FakeJellyfin(token=JELLYFIN_KEY).start()
    yield server
    server.stop()
    assert server.unanswered == [], "the importer asked the fake Jellyfin what it does not answer"


@pytest.fixture
def disk(tmp_path: Path) -> Path:
    """Where the server's `/data` share is mounted on this host."""
    folder = tmp_path / "mnt" / "media"
    folder.mkdir(parents=True)
    return folder


def put(disk: Path, relative: str, content: bytes = b"frames") -> str:
    """A file under the local mount; returns its path as the *server* sees it."""
    path = disk / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return f"/data/{relative}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cli:
    """Every command's output kept, to prove no secret ever reached any of it."""

    def __init__(self) -> None:
        self.outputs: list[str] = []

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        result = run_cli(*args, env={"APOLLONIA_LOG_LEVEL": "DEBUG", **(env or {})})
        self.outputs.append(result.stdout + result.stderr)
        return result

    def json(self, *args: str, env: dict[str, str] | None = None, code: int = 0) -> dict:  # type: ignore[type-arg]
        result = self(*args, "--json", env=env)
        assert result.code == code, (result.code, result.stdout, result.stderr)
        doc: dict = result.json()  # type: ignore[type-arg]
        return doc

    def leaked(self, secret: str) -> list[str]:
        return [out for out in self.outputs if secret in out]


@pytest.fixture
def cli(catalog_env: str | None) -> Cli:
    return Cli()
