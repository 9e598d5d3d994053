"""`python -m ingestor [options]` — the same as `apollonia ingestor [options]`."""

from __future__ import annotations

import sys

from apollonia.cli.main import main

if __name__ == "__main__":
    main(["ingestor", *sys.argv[1:]])
