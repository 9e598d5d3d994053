"""Apollonia: self-hosted media ingest."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("apollonia")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

# Service errors carry codes and facts; the application words them (see apollonia.cli.errors).
from apollonia.cli.errors import CliPresenter
from consumer.domain.errors import present_with

present_with(CliPresenter())
