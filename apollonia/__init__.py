"""Apollonia: self-hosted media ingest."""

from __future__ import annotations

# Service errors carry codes and facts; the application words them (see apollonia.cli.errors).
from apollonia.cli.errors import CliPresenter
from consumer.domain.errors import present_with

present_with(CliPresenter())


def __getattr__(name: str) -> str:
    """`__version__`, read from the package metadata on first use: importing
    `importlib.metadata` costs ~30 ms, and only `--version` and a few documents need it."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        found = version("apollonia")
    except PackageNotFoundError:  # running from a source tree without installing
        found = "0.0.0"
    globals()["__version__"] = found
    return found
