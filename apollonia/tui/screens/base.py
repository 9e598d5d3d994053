"""What every screen showing catalog data shares: loading in a worker, refreshing when the
catalog changes, and saying errors in the CLI's words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import work
from textual.screen import Screen

from apollonia.cli import errors
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.domain.errors import OperationError

if TYPE_CHECKING:
    from apollonia.tui.app import ApolloniaApp

T = TypeVar("T")


def error_text(exc: BaseException) -> str:
    """An error as the CLI would say it (without its `Error: ` prefix)."""
    if isinstance(exc, OperationError):
        text = errors.message(exc)
    else:
        text = str(exc) or type(exc).__name__
    return text.removeprefix("Error: ")


class CatalogScreen(Screen[Any]):
    """A screen whose content comes from the catalog; `reload` is called on every change."""

    AUTO_FOCUS = "DataTable"
    # How many loads finished, and the last error said: what a test (or a curious operator in
    # the devtools) waits for.
    loads = 0
    last_error: str | None = None

    @property
    def apollonia(self) -> ApolloniaApp:
        from apollonia.tui.app import ApolloniaApp  # noqa: PLC0415 - the app imports screens

        assert isinstance(self.app, ApolloniaApp)
        return self.app

    async def call(self, fn: Callable[[CatalogDatabase], Awaitable[T]]) -> T:
        return await self.apollonia.backend.call(fn)

    _loading = False
    _again = False

    def on_screen_resume(self) -> None:
        """Shown (first, or again after a screen above it closed): load."""
        self.reload()

    def reload(self) -> None:
        """Load this screen's data in a worker. While a load runs, a reload asked for is done
        once after it (not in parallel: the database thread would do the same work twice)."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._reload()

    @work(group="load")
    async def _reload(self) -> None:
        try:
            while True:
                self._again = False
                try:
                    await self.load()
                except Exception as exc:
                    self.fail(exc)
                else:
                    self.loads += 1
                if not self._again:
                    break
        finally:
            self._loading = False

    async def load(self) -> None:
        """Fetch and show (override)."""

    def fail(self, exc: BaseException) -> None:
        self.last_error = error_text(exc)
        self.notify(self.last_error, severity="error", timeout=8)

    def act(
        self,
        fn: Callable[[CatalogDatabase], Awaitable[T]],
        done: Callable[[T], None] | None = None,
    ) -> None:
        """Run `fn(catalog)` in a worker; on success `done(result)` and a reload, else the
        error."""
        self._act(fn, done)

    @work(group="action")
    async def _act(
        self, fn: Callable[[CatalogDatabase], Awaitable[Any]], done: Callable[[Any], None] | None
    ) -> None:
        try:
            result = await self.call(fn)
        except Exception as exc:
            self.fail(exc)
            return
        if done is not None:
            done(result)
        self.reload()


def cells(*values: object) -> list[Text]:
    """Table cells as plain text: file names hold brackets that are not markup."""
    return [Text(str(v)) for v in values]
