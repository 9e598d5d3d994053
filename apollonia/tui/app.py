"""The Textual application of `apollonia tui`.

The screens follow seed 002's view hierarchy: the landing (media items), an item's detail, a
job's detail with its logs; beside them the review queue, the jobs, the ingest runs and the
forms. All database work runs on the backend's thread (`Backend.call`) from Textual workers;
a change of the catalog (see `changes.py`) reloads the screen on view.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from apollonia.tui.backend import Backend
from apollonia.tui.changes import ChangeWatch
from apollonia.tui.screens.base import CatalogScreen
from apollonia.tui.screens.modals import AskActor, ConfirmDecision

# Without a change token (PostgreSQL) the screen on view reloads this often; with one, at
# least this often anyway (a change the token cannot see, such as a clock-driven state).
REFRESH_SECONDS = 5.0
POLL_SECONDS = 1.0


class ApolloniaApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Apollonia"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("r", "review", "Review"),
        Binding("j", "jobs", "Jobs"),
        Binding("u", "runs", "Ingest runs"),
    ]

    def __init__(
        self,
        backend: Backend,
        *,
        actor: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        refresh_seconds: float = REFRESH_SECONDS,
        recent: timedelta | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.actor = actor
        self.changes = ChangeWatch(backend.catalog_url)
        self.poll_seconds = poll_seconds
        self.refresh_seconds = refresh_seconds
        # How long a change keeps an approved item on the active landing (None: the service's
        # default, a day).
        self.recent = recent
        self._last_refresh = time.monotonic()
        self._watching = False

    def get_default_screen(self) -> Screen[Any]:
        """The landing is the bottom screen: Escape goes back to it from everywhere."""
        from apollonia.tui.screens.landing import LandingScreen  # noqa: PLC0415

        return LandingScreen()

    def on_mount(self) -> None:
        self.backend.start()
        self._watch_from_open()
        self.set_interval(self.poll_seconds, self._tick)

    @work(group="watch")
    async def _watch_from_open(self) -> None:
        """Watch for changes from the moment the catalog is open: opening it touches its files
        (a migration, the WAL), which is no change to show."""
        with contextlib.suppress(Exception):  # a catalog that cannot open: the screens say why
            await self.backend.opened()
        self.changes.changed()
        self._watching = True

    def on_unmount(self) -> None:
        self.backend.stop()

    def _tick(self) -> None:
        if not self._watching:
            return
        changed = self.changes.changed()
        stale = time.monotonic() - self._last_refresh >= self.refresh_seconds
        if (changed or stale) and isinstance(self.screen, CatalogScreen):
            self._last_refresh = time.monotonic()
            self.screen.reload()

    # --- who decides -----------------------------------------------------------------------
    def with_actor(self, then: Callable[[str], None]) -> None:
        """`then(actor)`, asking the operator's name first if this session has none."""
        if self.actor is not None:
            then(self.actor)
            return

        def chosen(name: str | None) -> None:
            if name:
                self.actor = name
                then(name)

        self.push_screen(AskActor(), chosen)

    def confirm(
        self, verb: str, what: str, actor: str, *, note_required: bool, then: Callable[[str], None]
    ) -> None:
        """Ask to confirm a decision; `then(note)` when confirmed."""

        def answered(note: str | None) -> None:
            if note is not None:
                then(note)

        self.push_screen(ConfirmDecision(verb, what, actor, note_required=note_required), answered)

    # --- going places ----------------------------------------------------------------------
    def action_review(self) -> None:
        from apollonia.tui.screens.review import ReviewScreen  # noqa: PLC0415

        if not isinstance(self.screen, ReviewScreen):
            self.push_screen(ReviewScreen())

    def action_jobs(self) -> None:
        from apollonia.tui.screens.jobs import JobsScreen  # noqa: PLC0415

        if not isinstance(self.screen, JobsScreen):
            self.push_screen(JobsScreen())

    def action_runs(self) -> None:
        from apollonia.tui.screens.runs import RunsScreen  # noqa: PLC0415

        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen())
