"""The CLI on a PostgreSQL catalog: the password never shows, an unreachable server exits 3."""

from __future__ import annotations

import pytest
from sqlalchemy.engine.url import make_url

from tests.cli import run_cli

pytestmark = pytest.mark.integration

UNREACHABLE = "postgresql+psycopg://apollonia:s3cret@127.0.0.1:1/apollonia"


def test_the_password_is_masked_in_what_the_cli_prints(catalog_url: str) -> None:
    # Trust authentication ignores the password, so the URL still works with one in it.
    with_password = make_url(catalog_url).set(password="s3cret").render_as_string(False)
    env = {"APOLLONIA_DATABASE_URL": with_password}
    for args in (["db", "upgrade"], ["db", "current"], ["db", "upgrade", "--json"]):
        result = run_cli(*args, env=env)
        assert result.code == 0, result.stderr
        assert "s3cret" not in result.stdout + result.stderr
        assert ":****@" in result.stdout
    assert run_cli("source", "list", "--json", env=env).json()["sources"] == []


@pytest.mark.parametrize("args", [["db", "current"], ["db", "upgrade"], ["source", "list"]])
def test_an_unreachable_server_exits_3_without_the_password(args: list[str]) -> None:
    result = run_cli(*args, "--json", env={"APOLLONIA_DATABASE_URL": UNREACHABLE})
    assert result.code == 3, result.stdout + result.stderr
    assert result.json()["errors"][0]["code"] == "database_unreachable"
    assert "s3cret" not in result.stdout + result.stderr
