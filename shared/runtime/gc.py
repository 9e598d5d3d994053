"""Interpreter settings every Apollonia process runs with."""

from __future__ import annotations

import gc

# CPython runs its youngest-generation collection after every 700 new container objects. An
# ingest or a consumer batch creates hundreds of thousands of them that stay alive (assets,
# rows, observations), so at 700 the collector ran thousands of times and, through the older
# generations, kept walking everything still alive: a sixth of a 100,000-file first ingest
# (bench/rescan.py: 8.5 s -> 7.2 s). At 50,000 it runs ~70x less often; garbage with cycles
# waits a little longer, and peak RSS measured the same.
YOUNG_GENERATION_THRESHOLD = 50_000


def tune_gc() -> None:
    """Collect less often; the older generations keep their default ratios."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
