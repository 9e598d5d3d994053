"""What each service error code means to the operator: the exit code and the exact wording.

The service layer raises `OperationError(code, case=..., **facts)`; this table is the only place
that turns it into text and an exit code. Keys are the error code, or `code.case` where one
public code covers situations worded differently. Templates are `str.format` strings over the
error's facts; a list or tuple fact is written comma-separated.

Kept free of Typer and Rich: `apollonia` installs it at import, so every process (and every
test) that runs application code words its errors the same way.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from consumer.domain.errors import OperationError
from shared.storage import NotWritableError, StorageError, StorageFullError, format_bytes

VALIDATION, NOT_FOUND, UNREACHABLE = 1, 2, 3


@dataclass(frozen=True, slots=True)
class Wording:
    exit_code: int
    template: str


def _w(exit_code: int, template: str) -> Wording:
    return Wording(exit_code, template)


MESSAGES: dict[str, Wording] = {
    # --- finding sources, collections and assets -----------------------------------------
    "source_not_found": _w(VALIDATION, "Error: Source '{selector}' not found"),
    "collection_not_found": _w(VALIDATION, "Error: Collection '{selector}' not found"),
    "ambiguous_name.source": _w(
        VALIDATION, "Error: Multiple sources named '{selector}' exist. Please specify the UUID."
    ),
    "ambiguous_name.collection": _w(
        VALIDATION,
        "Error: Multiple collections named '{selector}' exist. Please specify the UUID.",
    ),
    "asset_not_found": _w(VALIDATION, "Error: Asset '{asset_id}' not found"),
    "ambiguous_id": _w(VALIDATION, "Error: Several assets start with '{prefix}'"),
    # --- enrichment jobs -----------------------------------------------------------------
    "job_not_found": _w(VALIDATION, "Error: Job '{job_id}' not found"),
    "ambiguous_job_id": _w(VALIDATION, "Error: Several jobs start with '{prefix}'"),
    "job_not_failed": _w(
        VALIDATION, "Error: job {job_id} is {status}; only a failed job can be retried"
    ),
    "job_already_followed": _w(
        VALIDATION,
        "Error: job {job_id} was already followed by another attempt or a newer job",
    ),
    "invalid_argument.job_retry_target": _w(
        VALIDATION, "Error: give exactly one of JOB_ID, --collection or --all-failed"
    ),
    "invalid_argument.media_type": _w(
        VALIDATION, "Error: media type must be one of {known}, got {value!r}"
    ),
    # --- media items (movies, TV seasons) ------------------------------------------------
    "media_not_found": _w(VALIDATION, "Error: Media item '{item_id}' not found"),
    "ambiguous_media_id": _w(VALIDATION, "Error: Several media items start with '{prefix}'"),
    "media_exists": _w(
        VALIDATION,
        "Error: collection '{collection}' already has {item} ({item_id}); files attach to it",
    ),
    "media_not_for_collection": _w(
        VALIDATION,
        "Error: collection '{collection}' is {kind}: its files are not movies or TV seasons, "
        "so it has no media items",
    ),
    "media_type_mismatch": _w(
        VALIDATION,
        "Error: collection '{collection}' holds only {collection_type} files; "
        "a {media_type} item cannot be added to it",
    ),
    "invalid_media_item.media_type": _w(
        VALIDATION, "Error: --type must be one of {known}, got {value!r}"
    ),
    "invalid_argument.media_item_type": _w(
        VALIDATION, "Error: --type must be one of {known}, got {value!r}"
    ),
    "invalid_media_item.name_missing": _w(VALIDATION, "Error: a media item needs a --name"),
    "invalid_media_item.season_required": _w(
        VALIDATION, "Error: a TV item is one season: give --season N for '{name}'"
    ),
    "invalid_media_item.season_for_movie": _w(
        VALIDATION, "Error: a movie has no season (got --season {season} for '{name}')"
    ),
    "invalid_media_item.bad_season": _w(
        VALIDATION, "Error: --season must be 0 (specials) or more, got {season}"
    ),
    "invalid_media_item.bad_year": _w(
        VALIDATION, "Error: --year must be between {low} and {high}, got {year}"
    ),
    # --- approval ------------------------------------------------------------------------
    "decision_refused.approve": _w(
        VALIDATION, "Error: nothing approved; {count:plural:asset} cannot be approved: {details}"
    ),
    "decision_refused.revoke": _w(
        VALIDATION, "Error: nothing revoked; {count:plural:asset} cannot be revoked: {details}"
    ),
    "confirmation_required.approve": _w(
        VALIDATION,
        "Error: this approves {assets:plural:ready asset} of collection '{collection}'; "
        "re-run with --yes to approve them",
    ),
    "confirmation_required.revoke": _w(
        VALIDATION,
        "Error: this revokes the approval of {assets:plural:asset} of collection '{collection}'; "
        "re-run with --yes to revoke them",
    ),
    "invalid_argument.approval_target": _w(
        VALIDATION, "Error: give asset IDs, or --collection C with --all-ready (not both)"
    ),
    "invalid_argument.revocation_target": _w(
        VALIDATION, "Error: give asset IDs, or --collection C with --all-approved (not both)"
    ),
    "invalid_argument.approval_actor_missing": _w(
        VALIDATION, "Error: --by NAME must name who decides"
    ),
    "invalid_argument.revocation_note_missing": _w(
        VALIDATION, "Error: a revocation needs --note TEXT saying why"
    ),
    # --- adding and changing sources and collections -------------------------------------
    "invalid_path": _w(VALIDATION, "Error: {problem}"),
    "invalid_path.not_a_folder": _w(
        VALIDATION,
        "Error: {path} is not a folder: a source's root is the folder that holds its media",
    ),
    "invalid_path_mapping": _w(VALIDATION, "Error: {problem}"),
    "invalid_enricher": _w(VALIDATION, "Error: enricher must be ID:PRIORITY, got {value!r}"),
    "invalid_argument.hash_mode": _w(
        VALIDATION, "Error: hash mode must be one of {known}, got {value!r}"
    ),
    "invalid_argument.duplicates_scope": _w(
        VALIDATION, "Error: name a COLLECTION, or pass --all for duplicates across the catalog"
    ),
    "invalid_argument.source_name_missing": _w(VALIDATION, "Error: a source needs a name"),
    "invalid_argument.collection_name_missing": _w(VALIDATION, "Error: a collection needs a name"),
    "invalid_argument.no_root_path": _w(
        VALIDATION,
        "Error: source '{source}' has no root path to discover from "
        "(set one with 'apollonia source update {source_id} --path DIR')",
    ),
    "unknown_source_type": _w(
        VALIDATION, "Error: unknown source type '{source_type}' (known: {known})"
    ),
    "duplicate_name.source": _w(VALIDATION, "Error: a source named '{name}' already exists"),
    "duplicate_name.collection_in_source": _w(
        VALIDATION, "Error: source '{source}' already has a collection named '{name}'"
    ),
    "duplicate_name.collection_sibling": _w(
        VALIDATION, "Error: the source already has a collection named '{name}'"
    ),
    "overlapping_root": _w(
        VALIDATION,
        "Error: collection roots must not overlap: {overlap}; a file under both would be "
        "cataloged twice (choose another folder, or remove or move that collection first)",
    ),
    "overlapping_root.discover": _w(
        VALIDATION,
        "Error: no collection discovered in source '{source}': {overlaps}; a file under both "
        "would be cataloged twice (remove or move those collections first)",
    ),
    "overlapping_root.data_folders": _w(
        VALIDATION,
        "Error: data folder {inner} is inside data folder {outer}: a file under both would be "
        "cataloged twice (pass only one of them with --data)",
    ),
    "root_outside_source": _w(
        VALIDATION,
        "Error: collection root {root} is outside the root {source_root} of source '{source}'",
    ),
    "root_outside_source.source_update": _w(
        VALIDATION,
        "Error: source '{source}' cannot move to {source_root}: its collections {collections} "
        "would lie outside it",
    ),
    "duplicate_external_id": _w(VALIDATION, "Error: external id '{external_id}' is already used"),
    "unknown_enricher": _w(
        VALIDATION, "Error: collection '{collection}' has no enricher '{enricher}'"
    ),
    "enricher_not_registered": _w(
        VALIDATION,
        "Error: no enricher '{enricher}' is installed (known: {known}; "
        "see 'apollonia enricher list')",
    ),
    "enricher_broken": _w(
        VALIDATION, "Error: enricher '{enricher}' is installed but cannot be loaded: {reason}"
    ),
    "confirmation_required.source": _w(
        VALIDATION,
        "Error: source '{source}' has {collections:plural:collection} and "
        "{assets:plural:asset}; "
        "re-run with --yes to remove them all",
    ),
    "confirmation_required.collection": _w(
        VALIDATION,
        "Error: collection '{collection}' has {assets:plural:asset}; "
        "re-run with --yes to remove them",
    ),
    "source_unreachable.root": _w(
        UNREACHABLE, "Error: Source '{source}' root {root_path} cannot be accessed"
    ),
    # --- collection and source ingest ------------------------------------------------------
    "importer_not_compliant": _w(
        VALIDATION,
        "Error: Importer for source '{source}' (type {source_type}) is not usable: {reason}",
    ),
    "not_sync_enabled": _w(
        VALIDATION,
        "Error: Collection '{collection}' is not sync-enabled. Use targeted ingest "
        "(--title/--season/--episode) for surgical operations, or enable sync with "
        "'apollonia collection update {ref} --sync-enable'.",
    ),
    "not_ingestible": _w(
        VALIDATION,
        "Error: Collection '{collection}' is not ingestible. Check path mappings "
        "and prerequisites with 'apollonia collection show {ref}'. ({reason})",
    ),
    "title_not_found": _w(NOT_FOUND, "Error: {detail}"),
    "season_not_found": _w(NOT_FOUND, "Error: {detail}"),
    "episode_not_found": _w(NOT_FOUND, "Error: {detail}"),
    "empty_root": _w(
        UNREACHABLE,
        "Error: Collection '{collection}' root {root_path} holds no media files, but the "
        "catalog has {live} live assets for it: the share may be unmounted. Nothing was marked "
        "deleted. Re-run with --allow-empty if the files really are gone.",
    ),
    "enumeration_failed": _w(
        UNREACHABLE, "Error: Collection '{collection}' could not be read: {error}"
    ),
    "importer_failed": _w(
        VALIDATION, "Error: The importer failed on collection '{collection}': {error}"
    ),
    "ingest_failed": _w(
        VALIDATION,
        "Error: Ingest of collection '{collection}' failed and was rolled back: {error}",
    ),
    "source_unreachable": _w(UNREACHABLE, "Error: Source '{source}' cannot be accessed: {problem}"),
    "no_eligible_collections": _w(
        VALIDATION,
        "Error: No enabled collections: source '{source}' has no collection that is both "
        "sync-enabled and ingestible",
    ),
    # --- replay, dead letters, queues, the embedded runner ---------------------------------
    "invalid_offset": _w(
        VALIDATION,
        "Error: --from must be first, last, an offset or an ISO-8601 time, got {value!r}",
    ),
    "invalid_time": _w(VALIDATION, "Error: --until must be an ISO-8601 time, got {value!r}"),
    "broker_unreachable": _w(UNREACHABLE, "Error: broker unreachable at {url}: {error}"),
    "broker_unreachable.lost": _w(
        UNREACHABLE, "Error: lost the broker during the replay after offset {offset}: {error}"
    ),
    "topology_mismatch": _w(
        VALIDATION,
        "Error: the broker holds these queues with other arguments ({detail}). Set "
        "APOLLONIA_DELIVERY_LIMIT, APOLLONIA_STREAM_MAX_AGE and APOLLONIA_STREAM_MAX_BYTES to the "
        "values they were declared with, or change them as docs/operations.md#upgrading says "
        '("Changing the broker topology")',
    ),
    "management_unreachable": _w(
        UNREACHABLE, "Error: RabbitMQ management API unreachable at {url}: {error}"
    ),
    # --- ingest-file -------------------------------------------------------------------------
    "not_a_readable_file": _w(
        VALIDATION, "Error: {path} is not a readable regular file ({detail})"
    ),
    "no_collection": _w(
        VALIDATION,
        "Error: {path} is under no collection; add one with 'apollonia collection add'",
    ),
    "not_media": _w(
        VALIDATION, "Error: {path} is not a media file (see APOLLONIA_MEDIA_EXTENSIONS)"
    ),
    "path_rejected": _w(VALIDATION, "Error: {reason}"),
    "data_directory_missing": _w(
        VALIDATION,
        "Error: data folder(s) not found: {folders} "
        "(pass --data DIR or set APOLLONIA_DATA_DIRECTORY)",
    ),
}


# Warnings: the command succeeded, but something needs the operator (printed on stderr, and
# as `warning` in the JSON document).
WARNINGS: dict[str, str] = {
    "source_root_missing": "Warning: {path} does not exist; source '{source}' was saved but "
    "cannot be ingested until it does (mount the share, or fix the path with "
    "'apollonia source update {source_id} --path DIR')",
}


def warning(code: str, **facts: Any) -> str:
    return render(WARNINGS[code], **facts)


def plural(count: int, word: str) -> str:
    """`1 asset`, `2 assets`."""
    return f"{count} {word if count == 1 else word + 's'}"


class _Formatter(string.Formatter):
    """`str.format` plus `{n:plural:asset}` -> `1 asset` / `2 assets`."""

    def format_field(self, value: Any, format_spec: str) -> str:
        kind, _, word = format_spec.partition(":")
        if kind == "plural":
            return plural(value, word) if isinstance(value, int) else f"{value} {word}s"
        return str(super().format_field(value, format_spec))


_FORMATTER = _Formatter()


def render(template: str, **facts: Any) -> str:
    """A template filled with facts (lists comma-separated, nested "Error: " dropped)."""
    return _FORMATTER.format(template, **{k: _fact(v) for k, v in facts.items()})


def key_of(error: OperationError) -> str:
    return f"{error.error_code}.{error.case}" if error.case else error.error_code


# A fact that is itself a worded error ("Error: ...", or "OperationError: Error: ..." from a
# wrapped exception) is inserted without its own prefix: one message says "Error: " once.
_NESTED_PREFIX = re.compile(r"^(\w+: )?Error: ")


def _fact(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str):
        return _NESTED_PREFIX.sub("", value, count=1)
    return value


def message(error: OperationError) -> str:
    """The exact text the CLI prints for `error`."""
    return CliPresenter().message(error)


def exit_code(error: OperationError) -> int:
    return CliPresenter().exit_code(error)


class CliPresenter:
    """Words service errors from `MESSAGES`; an unknown key falls back to its code and facts
    (the unit tests make sure none is raised)."""

    def message(self, error: OperationError) -> str:
        wording = MESSAGES.get(key_of(error))
        if wording is None:
            return f"Error: {key_of(error)} {error.facts!r}"
        return render(wording.template, **error.facts)

    def exit_code(self, error: OperationError) -> int:
        wording = MESSAGES.get(key_of(error))
        return VALIDATION if wording is None else wording.exit_code


# --- a database that cannot be written (permissions, read-only mount, full disk) ------------
# Worded here, not in MESSAGES: these come from the storage below any operation, for every
# command alike, with their facts as attributes (shared.storage).


def storage_problem(error: BaseException) -> StorageError | None:
    """The storage error `error` is, or was caused by (a failed ingest wraps it)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, StorageError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def storage_error_code(error: StorageError) -> str:
    return "disk_full" if isinstance(error, StorageFullError) else "database_not_writable"


def storage_message(error: StorageError) -> str:
    """One or two lines: which path, why, and what to do."""
    if isinstance(error, StorageFullError):
        free = "" if error.free_bytes is None else f", {format_bytes(error.free_bytes)} free"
        return (
            f"Error: the file system holding {error.database} (mounted at {error.mount_point}) "
            f"is full{free}; nothing was written (the transaction was rolled back).\n"
            f"Free some space on {error.mount_point}, or move the database elsewhere "
            "(APOLLONIA_CONFIG_DIR), then run the command again."
        )
    if isinstance(error, NotWritableError):
        return _not_writable(error)
    return f"Error: cannot write {error.database}: {error}"


def _not_writable(error: NotWritableError) -> str:
    who = error.process
    if error.read_only_fs:
        return (
            f"Error: cannot write {error.database}: {error.blocker} is on a read-only file "
            f"system (running as {who}).\n"
            "Mount it read-write (compose: no ':ro' on the /config volume), then try again."
        )
    owned = "" if error.owner is None else f" is owned by {error.owner}"
    mode = "" if error.mode is None else f" with mode {error.mode:04o}"
    # The database's folder holds the file and its -wal/-shm; a folder not made yet, its parent.
    target = error.database.parent if error.database.parent.is_dir() else error.blocker
    head = (
        f"Error: cannot write {error.database}: {error.blocker}{owned}{mode} and Apollonia runs "
        f"as {who}.\n"
    )
    if error.owner is not None and error.owner.uid == who.uid:
        return head + f"Make it writable for its owner: `chmod -R u+rwX {target}`."
    run_as = "" if error.owner is None else f", or run Apollonia as {error.owner.numeric}"
    return head + (
        f"Give it to that user: `chown -R {who.numeric} {target}` (on the host: the folder "
        f"mounted there){run_as} (compose: APOLLONIA_UID and APOLLONIA_GID in .env)."
    )
