"""Content signatures and enricher checksums: how the catalog tells that something changed.

Change detection is staged so that an unchanged library costs a `stat` per file and no reads:

1. the stat (size, mtime_ns) equals what the catalog holds -> unchanged, nothing is read;
2. the stat differs -> hash the file, then compare hashes: same content with a new mtime is
   *not* a change (the stored stat is refreshed), different content is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.records import to_dict


@dataclass(frozen=True, slots=True)
class EnricherRef:
    """One enricher attached to a collection, and the order it runs in."""

    enricher_id: str
    priority: int

    def as_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any]) -> EnricherRef:
        return cls(enricher_id=str(value["enricher_id"]), priority=int(value["priority"]))


def content_signature(sha256: str | None, size: int, mtime_ns: int) -> str:
    """`sha256:<hex>` when the content was hashed, else the weaker `stat:<size>:<mtime_ns>`."""
    if sha256:
        return f"sha256:{sha256}"
    return f"stat:{size}:{mtime_ns}"


def enricher_checksum(enrichers: Iterable[EnricherRef | Mapping[str, Any]]) -> str:
    """SHA-256 of the enricher configuration, independent of the order it was given in."""
    refs = [e if isinstance(e, EnricherRef) else EnricherRef.from_mapping(e) for e in enrichers]
    ordered = sorted({(r.enricher_id, r.priority) for r in refs})
    payload = json.dumps(
        [{"enricher_id": eid, "priority": prio} for eid, prio in ordered],
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def stat_matches(
    stored_size: int | None, stored_mtime_ns: int | None, size: int, mtime_ns: int
) -> bool:
    """Stage 1: the cheap check. Equal stat means the file is taken as unchanged."""
    return stored_size == size and stored_mtime_ns == mtime_ns


def needs_hash(
    stored_size: int | None, stored_mtime_ns: int | None, size: int, mtime_ns: int
) -> bool:
    """Whether the file must be read to decide: never when the stat is unchanged."""
    return not stat_matches(stored_size, stored_mtime_ns, size, mtime_ns)


def content_changed(
    *,
    stored_sha256: str | None,
    stored_size: int | None,
    stored_mtime_ns: int | None,
    sha256: str | None,
    size: int,
    mtime_ns: int,
) -> bool:
    """Stage 2: the verdict. A strong hash on both sides decides alone; otherwise the stat does."""
    if stored_sha256 and sha256:
        return stored_sha256 != sha256
    return not stat_matches(stored_size, stored_mtime_ns, size, mtime_ns)
