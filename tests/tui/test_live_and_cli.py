"""The UI follows the catalog without a restart, and the `tui` command: its help, a refused
`--serve` address, and Textual staying out of every other command's imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from apollonia.cli.tui import parse_listen
from apollonia.tui.screens.landing import LandingScreen
from consumer.service_layer import media
from tests.cli import run_cli
from tests.tui.conftest import Library, landing_names, loaded
from tests.wait import until

pytestmark = pytest.mark.integration


async def test_a_change_by_another_process_shows_up_without_a_restart(library: Library) -> None:
    app = library.app()
    async with app.run_test(size=(100, 30)):
        screen = await loaded(app, LandingScreen)
        assert "Solaris (1972)" not in landing_names(screen)
        # Written through a connection of the test's own, as the consumer would.
        await media.add_media(
            library.catalog, collection="Films", media_type="movie", name="Solaris", year=1972
        )
        await until(lambda: "Solaris (1972)" in landing_names(screen), what="the new item shown")


def test_the_command_has_help_and_refuses_a_bad_address() -> None:
    shown = run_cli("tui", "--help")
    assert shown.code == 0 and "--serve" in shown.stdout and "Examples:" in shown.stdout
    refused = run_cli("tui", "--serve", "localhost:http")
    assert refused.code == 1
    assert "--serve 'localhost:http' is not [HOST:]PORT" in refused.stderr


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:9000", ("0.0.0.0", 9000)),
        (":9000", ("127.0.0.1", 9000)),
        ("[::1]:8080", ("::1", 8080)),
    ],
)
def test_listen_addresses(value: str, address: tuple[str, int]) -> None:
    assert parse_listen(value) == address


@pytest.mark.parametrize("value", ["", "host:", "host:0", "host:70000", "x:y"])
def test_bad_listen_addresses(value: str) -> None:
    with pytest.raises(ValueError, match="is not"):
        parse_listen(value)


def test_textual_is_imported_only_by_the_tui_command() -> None:
    code = (
        "import sys\n"
        "from apollonia.cli.main import build_app\n"
        "build_app()\n"  # the whole command tree, the tui command included
        "print(sorted(m for m in ('textual', 'textual_serve') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
