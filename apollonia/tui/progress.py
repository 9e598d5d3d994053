"""A progress bar as text, for a table cell: one line per item stays cheap with 5,000 items
(a widget per row would not)."""

from __future__ import annotations

from rich.text import Text

WIDTH = 10


def bar(fraction: float, *, width: int = WIDTH, failed: bool = False) -> Text:
    """`━━━━━━━━━━  70%` (done in green, red when something failed; the rest grey)."""
    fraction = min(max(fraction, 0.0), 1.0)
    full = round(fraction * width)
    text = Text("━" * full, style="red" if failed else "green")
    text.append("━" * (width - full), style="grey35")
    text.append(f" {round(fraction * 100):3d}%")
    return text
