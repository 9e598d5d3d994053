"""The prospector: what a complete file is — stat, SHA-256 + xxHash128 in one read, neighbours.

`Prospector.prospect(paths, known)` handles a batch:

1. lstat every path (in a thread). A path whose size and mtime equal its cached row in `known` is
   `Unchanged` and is not read at all — unless it is in `force` (inotify saw a write: two writes
   within one timestamp tick leave size and mtime as they were).
2. Hash the rest on the `Hasher`'s worker threads: files of `large_file` bytes or more one per
   task, so they spread across threads; small files in groups, so a burst of 10,000 costs few
   thread hand-offs. The event loop never waits on a read.
3. lstat again: a file that changed while it was read is `Skipped("changed")` (the pipeline
   settles it again) — never published with the hash of half a file. A file that vanished or
   cannot be read is `Skipped` too; nothing is ever published with empty hashes.
4. Find neighbours, listing each directory once.

The pipeline turns `Hashed` outcomes into events; `apollonia publish` uses the same class.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat as stat_module
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ingestor.neighbors import NeighborFinder
from ingestor.records import FileState, StatInfo
from shared.hashing import Fingerprint, Hasher

LARGE_FILE = 8 * 1024 * 1024
SMALL_GROUP = 32

SkipReason = Literal["vanished", "unreadable", "not_regular", "changed"]


@dataclass(frozen=True, slots=True)
class Hashed:
    path: bytes
    stat: StatInfo
    fingerprint: Fingerprint
    neighbors: list[bytes]


@dataclass(frozen=True, slots=True)
class Unchanged:
    path: bytes
    stat: StatInfo
    cached: FileState


@dataclass(frozen=True, slots=True)
class Skipped:
    path: bytes
    reason: SkipReason
    detail: str


Outcome = Hashed | Unchanged | Skipped


def probe(path: bytes) -> StatInfo | Skipped:
    """lstat a path; a Skipped says why it cannot be prospected."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Skipped(path, "vanished", "no such file")
    except OSError as exc:
        return Skipped(path, "unreadable", exc.strerror or str(exc))
    if not stat_module.S_ISREG(st.st_mode):
        return Skipped(path, "not_regular", "not a regular file")
    return StatInfo.from_stat(st)


def _probe_all(paths: Sequence[bytes]) -> list[StatInfo | Skipped]:
    return [probe(p) for p in paths]


def _skip_for(path: bytes, exc: OSError) -> Skipped:
    if isinstance(exc, FileNotFoundError):
        return Skipped(path, "vanished", "vanished before it could be read")
    if exc.errno == errno.EINVAL:
        return Skipped(path, "not_regular", "not a regular file")
    return Skipped(path, "unreadable", exc.strerror or str(exc))


def _finish(
    items: Sequence[tuple[bytes, StatInfo, Fingerprint]], finder: NeighborFinder
) -> list[Hashed | Skipped]:
    """Blocking: confirm nothing changed while reading, then find neighbours."""
    stable: list[tuple[bytes, StatInfo, Fingerprint]] = []
    out: list[Hashed | Skipped] = []
    for path, before, fingerprint in items:
        after = probe(path)
        if isinstance(after, Skipped):
            out.append(after)
        elif after.settle_sig != before.settle_sig or fingerprint.size != after.size:
            out.append(Skipped(path, "changed", "changed while it was being read"))
        else:
            stable.append((path, after, fingerprint))
    neighbors = finder.find([p for p, _, _ in stable])
    out.extend(Hashed(p, st, fp, neighbors[p]) for p, st, fp in stable)
    return out


class Prospector:
    def __init__(
        self,
        hasher: Hasher,
        *,
        large_file: int = LARGE_FILE,
        neighbors: NeighborFinder | None = None,
    ) -> None:
        self.hasher = hasher
        self.large_file = large_file
        self.neighbors = neighbors or NeighborFinder()

    async def prospect(
        self,
        paths: Sequence[bytes],
        known: Mapping[bytes, FileState] | None = None,
        *,
        force: Collection[bytes] = (),
    ) -> list[Outcome]:
        """Outcomes for `paths`, in their order. Paths in `force` are read even when their stat
        matches the cache (the kernel reported a write)."""
        known = known or {}
        paths = list(dict.fromkeys(paths))
        probed = await asyncio.to_thread(_probe_all, paths)
        outcomes: dict[bytes, Outcome] = {}
        small: list[tuple[bytes, StatInfo]] = []
        large: list[tuple[bytes, StatInfo]] = []
        for path, result in zip(paths, probed, strict=True):
            if isinstance(result, Skipped):
                outcomes[path] = result
                continue
            cached = known.get(path)
            if (
                cached is not None
                and cached.sha256
                and cached.content_sig == result.content_sig
                and path not in force
            ):
                outcomes[path] = Unchanged(path, result, cached)
            elif result.size >= self.large_file:
                large.append((path, result))
            else:
                small.append((path, result))

        hashed: list[tuple[bytes, StatInfo, Fingerprint]] = []

        async def hash_small() -> None:
            results = await self.hasher.hash_many([p for p, _ in small], batch=SMALL_GROUP)
            for (path, st), res in zip(small, results, strict=True):
                if isinstance(res, OSError):
                    outcomes[path] = _skip_for(path, res)
                else:
                    hashed.append((path, st, res))

        async def hash_large(path: bytes, st: StatInfo) -> None:
            try:
                fingerprint = await self.hasher.hash(path)
            except OSError as exc:
                outcomes[path] = _skip_for(path, exc)
            else:
                hashed.append((path, st, fingerprint))

        await asyncio.gather(hash_small(), *(hash_large(p, st) for p, st in large))
        if hashed:
            for outcome in await asyncio.to_thread(_finish, hashed, self.neighbors):
                outcomes[outcome.path] = outcome
        return [outcomes[p] for p in paths]
