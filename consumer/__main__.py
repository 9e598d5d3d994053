"""`python -m consumer` — the same as `apollonia consumer`."""

from __future__ import annotations

import sys

from apollonia.cli.main import main

if __name__ == "__main__":
    main(["consumer", *sys.argv[1:]])
