"""What each service error code means to the operator: the exit code and the exact wording.

The service layer raises `OperationError(code, case=..., **facts)`; this table is the only place
that turns it into text and an exit code. Keys are the error code, or `code.case` where one
public code covers situations worded differently. Templates are `str.format` strings over the
error's facts; a list or tuple fact is written comma-separated.

Kept free of Typer and Rich: `apollonia` installs it at import, so every process (and every
test) that runs application code words its errors the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consumer.domain.errors import OperationError

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
    # --- approval ------------------------------------------------------------------------
    "decision_refused.approve": _w(
        VALIDATION, "Error: nothing approved; {count} asset(s) cannot be approved: {details}"
    ),
    "decision_refused.revoke": _w(
        VALIDATION, "Error: nothing revoked; {count} asset(s) cannot be revoked: {details}"
    ),
    "confirmation_required.approve": _w(
        VALIDATION,
        "Error: this approves {assets} ready asset(s) of collection '{collection}'; "
        "re-run with --yes to approve them",
    ),
    "confirmation_required.revoke": _w(
        VALIDATION,
        "Error: this revokes the approval of {assets} asset(s) of collection '{collection}'; "
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
    "invalid_path_mapping": _w(VALIDATION, "Error: {problem}"),
    "invalid_enricher": _w(VALIDATION, "Error: enricher must be ID:PRIORITY, got {value!r}"),
    "invalid_argument.hash_mode": _w(
        VALIDATION, "Error: hash mode must be one of {known}, got {value!r}"
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
    "duplicate_external_id": _w(VALIDATION, "Error: external id '{external_id}' is already used"),
    "unknown_enricher": _w(
        VALIDATION, "Error: collection '{collection}' has no enricher '{enricher}'"
    ),
    "confirmation_required.source": _w(
        VALIDATION,
        "Error: source '{source}' has {collections} collections and {assets} assets; "
        "re-run with --yes to remove them all",
    ),
    "confirmation_required.collection": _w(
        VALIDATION,
        "Error: collection '{collection}' has {assets} assets; re-run with --yes to remove them",
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


def key_of(error: OperationError) -> str:
    return f"{error.error_code}.{error.case}" if error.case else error.error_code


def _fact(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
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
        return wording.template.format(**{k: _fact(v) for k, v in error.facts.items()})

    def exit_code(self, error: OperationError) -> int:
        wording = MESSAGES.get(key_of(error))
        return VALIDATION if wording is None else wording.exit_code
