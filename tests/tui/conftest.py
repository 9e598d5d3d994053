"""A real SQLite catalog for the terminal UI's tests, built through the same paths the services
use: files applied through the apply path, enriched by the real ffprobe (so assets reach
`ready` and wait for review), one broken file whose job fails, and an ingest run with its log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable

from apollonia import bootstrap
from apollonia.settings import Settings, load_settings
from apollonia.tui import actions
from apollonia.tui.app import ApolloniaApp
from apollonia.tui.backend import Backend
from apollonia.tui.screens.base import CatalogScreen
from apollonia.tui.screens.landing import LandingScreen
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.service_layer import queries
from consumer.service_layer.enrichment import Scope
from tests.integration.enrichment.helpers import copy
from tests.media import media, needs_ffmpeg
from tests.wait import until

__all__ = ["media"]

pytestmark = [pytest.mark.integration, needs_ffmpeg]

Media = Callable[[str], Path]


@dataclass(slots=True)
class Library:
    settings: Settings
    root: Path
    catalog: CatalogDatabase

    def app(self, **options: object) -> ApolloniaApp:
        """A fresh app on this catalog (fast refresh, so tests see changes soon)."""
        return ApolloniaApp(
            Backend(self.settings),
            poll_seconds=0.2,
            refresh_seconds=3600.0,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
async def library(
    tmp_path: Path, media: Media, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Library]:
    """Films (two good, one broken: its job fails at once) and a TV season with a gap (E03),
    added and ingested as the CLI does, enriched by the real enrichers, and one wanted film
    without files."""
    monkeypatch.setenv("APOLLONIA_ENRICHMENT_MAX_ATTEMPTS", "1")
    settings = load_settings()
    root = tmp_path / "library"
    films, show = root / "films", root / "tv" / "Firefly" / "Season 01"
    for folder in ("Alien (1979)", "Brazil (1985)", "Zardoz (1974)"):
        (films / folder).mkdir(parents=True)
    show.mkdir(parents=True)
    copy(media("movie.mkv"), films / "Alien (1979)" / "Alien (1979).mkv")
    copy(media("movie.mp4"), films / "Brazil (1985)" / "Brazil (1985).mp4")
    (films / "Zardoz (1974)" / "Zardoz (1974).mkv").write_bytes(b"not a video at all\n" * 100)
    for episode in ("S01E01 - Serenity", "S01E02 - The Train Job", "S01E04 - Shindig"):
        copy(media("movie.mkv"), show / f"Firefly - {episode}.mkv")
    db = CatalogDatabase(settings.database_url)
    await db.open()
    try:
        await actions.create_source(db, name="Library", path=str(root))
        for name, where in (("Films", films), ("TV", root / "tv")):
            await actions.create_collection(
                db,
                settings,
                source="Library",
                name=name,
                path=str(where),
                enrichers=["filename:1", "ffprobe:2"],
            )
            await actions.ingest_collection(db, settings, name)
        # One asset at a time in key order: the review queue's order (by when each became
        # ready) is then the same on every run, which the screenshots rely on.
        worker = bootstrap.enrichment(settings, db)
        page = await queries.list_assets(
            db, collection_selector=None, include_deleted=False, limit=100
        )
        for asset in sorted(page.assets, key=lambda a: a.canonical_key):
            await worker.work(Scope(manual=True, asset_uuid=asset.uuid), once=True)
        await actions.create_media(
            db, collection="Films", media_type="movie", name="Dune", year=2021, season=None
        )
        yield Library(settings, root, db)
    finally:
        await db.close()


def rows(screen: Screen[object], table_id: str | None = None) -> list[list[str]]:
    """A table's rows as plain text."""
    table = screen.query_one(f"#{table_id}" if table_id else "DataTable", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def landing_rows(screen: LandingScreen) -> list[list[str]]:
    """The landing's rows: item, collection, then the counts (the bar left out)."""
    return [screen.fields.split(r[0]) for r in rows(screen)]


def landing_names(screen: LandingScreen) -> list[str]:
    """The landing's first field: an item's label, or a group's heading."""
    return [r[0] for r in landing_rows(screen)]


S = TypeVar("S", bound=CatalogScreen)


async def loaded(app: App[None], kind: type[S], *, after: int = 0) -> S:
    """The screen on view once it is a `kind` that finished more than `after` loads."""
    try:
        await until(lambda: isinstance(app.screen, kind) and app.screen.loads > after, within=20)
    except AssertionError:
        raise AssertionError(
            f"{kind.__name__} not loaded: on view {app.screen!r}, "
            f"error {getattr(app.screen, 'last_error', None)}"
        ) from None
    screen = app.screen
    assert isinstance(screen, kind)
    return screen


async def started(app: App[None]) -> None:
    """The landing is on view and finished its first load (or said why not)."""
    from apollonia.tui.screens.landing import LandingScreen

    await until(
        lambda: (
            isinstance(app.screen, LandingScreen)
            and (app.screen.loads > 0 or app.screen.last_error is not None)
        ),
        what="the landing's first load",
    )
