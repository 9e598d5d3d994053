"""What `apollonia run` says on a terminal, in an operator's words instead of event names.

Each entry turns one log event's fields into a sentence for the console renderer; the JSON log
keeps the event name and all its fields (`shared.runtime.log.use_console_words`).
"""

from __future__ import annotations

from collections.abc import Callable

from structlog.typing import EventDict


def _n(count: object, word: str) -> str:
    return f"{count} {word if count == 1 else word + 's'}"


def _scan(e: EventDict) -> str:
    kind = "startup scan" if e["reason"] == "startup" else f"{e['reason']} scan"
    changes = [
        f"{e[key]} {label}"
        for key, label in (("new", "new"), ("changed", "changed"), ("moved", "moved"))
        if e.get(key)
    ]
    if e.get("deleted"):
        changes.append(f"{e['deleted']} gone")
    found = ", ".join(changes) if changes else "nothing new"
    return f"{kind} of {e['root']}: {found} ({_n(e['files'], 'file')} in all)"


def _initial(e: EventDict) -> str:
    return (
        f"first pass over '{e['collection']}': {_n(e['discovered'], 'file')}, {e['created']} new, "
        f"{e['updated']} changed, {e['skipped']} already known, {e['missing']} missing"
    )


RUN_WORDS: dict[str, Callable[[EventDict], str]] = {
    "collection created": lambda e: f"new collection '{e['collection']}' for {e['root']}",
    "validation gate": lambda e: (
        f"collection '{e['collection']}' is ready to ingest"
        if e.get("passed")
        else f"collection '{e['collection']}' cannot be ingested: {e.get('reason')}"
    ),
    "ingest complete": lambda e: (
        f"'{e['collection']}' cataloged in {e['duration_seconds']} s: "
        f"{_n(e['files_hashed'], 'file')} read"
    ),
    "initial ingest": _initial,
    "hash cache primed from the catalog": lambda e: (
        f"ready: {_n(e['files'], 'file')} already known, not read again"
    ),
    "data directory": lambda e: f"{e['root']}: watched with {e['mode']} ({e['reason']})",
    "watching": lambda e: (
        "watching " + ", ".join(e["roots"]) + " for changes (Ctrl-C to stop)"
        if "roots" in e
        else f"{e['root']}: {_n(e['watches'], 'folder')} watched"
    ),
    "reconciled": _scan,
    "stopped": lambda e: f"stopped ({_n(e['applied'], 'change')} applied)",
}
