"""A progress bar as text, for a table cell: one line per item stays cheap with 5,000 items
(a widget per row would not)."""

from __future__ import annotations

from rich.text import Text

WIDTH = 10


def _clamped(fraction: float) -> float:
    return min(max(fraction, 0.0), 1.0)


def filled(fraction: float, *, width: int = WIDTH) -> int:
    """How many of the bar's cells are done."""
    return round(_clamped(fraction) * width)


def plain(fraction: float, *, width: int = WIDTH) -> str:
    """The bar's text without its styles: `━━━━━━━━━━  70%`."""
    return "━" * width + f" {round(_clamped(fraction) * 100):3d}%"


def bar(fraction: float, *, width: int = WIDTH, failed: bool = False) -> Text:
    """`━━━━━━━━━━  70%` (done in green, red when something failed; the rest grey)."""
    fraction = _clamped(fraction)
    full = round(fraction * width)
    text = Text("━" * full, style="red" if failed else "green")
    text.append("━" * (width - full), style="grey35")
    text.append(f" {round(fraction * 100):3d}%")
    return text
