"""Options and plumbing every command shares."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from apollonia import bootstrap
from apollonia.cli import errors
from apollonia.cli.output import ExitCode, Output
from apollonia.settings import Settings, load_settings
from consumer.adapters.db.catalog import CatalogDatabase
from consumer.adapters.db.migrate import SchemaError
from consumer.domain.errors import OperationError
from shared.postgres import unreachable
from shared.runtime.log import get_logger
from shared.runtime.masking import mask_text
from shared.sqlite import CatalogNotFoundError
from shared.storage import StorageError

T = TypeVar("T")

log = get_logger(__name__)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
TestDbOpt = Annotated[bool, typer.Option("--test-db", help="Operate only on the test database.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Resolve and report what would happen; write nothing.")
]


def settings_or_exit(output: Output, **overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        output.fail(
            ExitCode.VALIDATION, f"invalid configuration: {problems}", error_code="invalid_settings"
        )


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    async def _main() -> T:
        return await factory()

    return asyncio.run(_main())


@dataclass(slots=True)
class CatalogTarget:
    """Which catalog a command works on, and whether it may write."""

    settings: Settings
    test_db: bool = False
    dry_run: bool = False

    @property
    def mode(self) -> str:
        return "test" if self.test_db else "production"

    def open(self) -> CatalogDatabase:
        return bootstrap.catalog(self.settings, test_db=self.test_db, dry_run=self.dry_run)


def run_operation(
    output: Output,
    factory: Callable[[], Awaitable[T]],
    *,
    context: dict[str, Any] | None = None,
) -> T:
    """Run an async operation; known failures become a clear message and their exit code.

    `context` is included in the JSON error document; operations may fill it in as they go
    (e.g. the resolved collection), so an error still says what it was about.
    """
    try:
        return run_async(factory)
    except StorageError as exc:
        fail_on_storage(output, exc, context)
    except OperationError as exc:
        # A full disk or an unwritable folder is said as such, also when an ingest wraps it.
        storage = errors.storage_problem(exc)
        if storage is not None:
            fail_on_storage(output, storage, context)
        output.fail(
            errors.exit_code(exc), errors.message(exc), error_code=exc.error_code, document=context
        )
    except (CatalogNotFoundError, SchemaError) as exc:
        output.fail(
            ExitCode.VALIDATION, str(exc), error_code="catalog_unavailable", document=context
        )
    except DBAPIError as exc:
        # SQLAlchemy's text holds the SQL statement: that is for the debug log, not the operator.
        log.debug("catalog database error", error=mask_text(str(exc)))
        if unreachable(exc):  # a PostgreSQL catalog whose server does not answer
            output.fail(
                ExitCode.UNREACHABLE,
                f"catalog database unreachable: {database_error_text(exc)}",
                error_code="database_unreachable",
                document=context,
            )
        output.fail(
            ExitCode.VALIDATION,
            f"catalog database error: {database_error_text(exc)}",
            error_code="database_error",
            document=context,
        )


def database_error_text(exc: DBAPIError) -> str:
    """The driver's own message (no SQL statement, no parameters, no password)."""
    return mask_text(str(exc.orig).strip()) if exc.orig is not None else type(exc).__name__


def fail_on_storage(
    output: Output, error: StorageError, context: dict[str, Any] | None = None
) -> NoReturn:
    output.fail(
        ExitCode.VALIDATION,
        errors.storage_message(error),
        error_code=errors.storage_error_code(error),
        document=context,
    )
