"""`apollonia ingestor` (the watching service) and `apollonia publish PATH...` (one shot)."""

from __future__ import annotations

import os
import stat
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from apollonia import bootstrap
from apollonia.cli.common import JsonOpt, fail_on_storage, run_async, settings_or_exit
from apollonia.cli.output import ExitCode, Output
from ingestor.oneshot import FileProblemError, PublishFailedError, publish_files
from ingestor.paths import display
from ingestor.publisher import BrokerUnavailableError
from ingestor.state import StateSchemaError
from shared.files import unique_folders
from shared.runtime.masking import mask_text, mask_url
from shared.storage import StorageError


class WatchModeChoice(StrEnum):
    AUTO = "auto"
    INOTIFY = "inotify"
    POLL = "poll"


def ingestor_command(
    watch_mode: Annotated[
        WatchModeChoice | None,
        typer.Option(
            "--watch-mode",
            metavar="auto|inotify|poll",
            help="inotify, poll, or auto (poll nfs/cifs/fuse mounts). Default: "
            "APOLLONIA_WATCH_MODE.",
        ),
    ] = None,
    republish_all: Annotated[
        bool,
        typer.Option(
            "--republish-all",
            help="On start, publish every known file again from the cached hashes (no reading), "
            "e.g. to fill a new catalog.",
        ),
    ] = False,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            metavar="DIR",
            help="A folder to watch (repeat for several). Default: APOLLONIA_DATA_DIRECTORY.",
        ),
    ] = None,
) -> None:
    """Watch the data folders and publish a file event for every complete, new, changed, moved or
    deleted file. Runs until SIGINT/SIGTERM.

    \b
    Examples:
      apollonia ingestor --data /mnt/media/Movies --data /mnt/media/TV
    """
    output = Output(False)
    overrides: dict[str, Any] = {}
    if data:
        overrides["data_directory"] = unique_folders(data)
    if watch_mode is not None:
        overrides["watch_mode"] = watch_mode.value
    settings = settings_or_exit(output, **overrides)
    try:
        code = run_async(
            lambda: bootstrap.ingestor_service(settings, republish_all=republish_all).run()
        )
    except StorageError as exc:  # the config folder or the disk, with its path and owner
        fail_on_storage(output, exc)
    except (OSError, SQLAlchemyError, StateSchemaError) as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"the ingestor could not start: {mask_text(str(exc))} "
            f"(state database {mask_url(settings.state_database_url)})",
            error_code="startup_failed",
        )
    raise typer.Exit(code)


def _check_path(path: Path) -> tuple[bytes, str | None]:
    """The absolute file to publish (symlinks resolved) or why it cannot be."""
    raw = os.path.abspath(os.fsencode(path))
    try:
        st = os.stat(raw)
    except FileNotFoundError:
        return raw, "no such file"
    except OSError as exc:
        return raw, exc.strerror or str(exc)
    if not stat.S_ISREG(st.st_mode):
        return raw, "not a regular file"
    if not os.access(raw, os.R_OK):
        return raw, "not readable"
    return os.path.realpath(raw), None


def publish_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...", help="Files to prospect and publish.", show_default=False
        ),
    ],
    json_out: JsonOpt = False,
) -> None:
    """Prospect the given files and publish their events now, then exit (for import hooks).

    Exit 1 when a path is not a readable regular file (nothing is published), 3 when the broker is
    unreachable.

    \b
    Examples:
      apollonia publish /mnt/media/Movies/Heat.mkv /mnt/media/Movies/Ronin.mkv
    """
    output = Output(json_out)
    settings = settings_or_exit(output)
    checked = [(p, *_check_path(p)) for p in paths]
    invalid = [{"path": str(p), "error": why} for p, _, why in checked if why is not None]
    if invalid:
        output.fail(
            ExitCode.VALIDATION,
            "not a readable regular file: "
            + "; ".join(f"{item['path']} ({item['error']})" for item in invalid),
            error_code="invalid_path",
            document={"invalid": invalid},
        )
    targets = list(dict.fromkeys(raw for _, raw, _ in checked))
    try:
        events = run_async(
            lambda: publish_files(
                bootstrap.broker_config(settings), bootstrap.hash_config(settings), targets
            )
        )
    except BrokerUnavailableError as exc:
        output.fail(ExitCode.UNREACHABLE, str(exc), error_code="broker_unreachable")
    except PublishFailedError as exc:
        output.fail(ExitCode.UNREACHABLE, str(exc), error_code="publish_failed")
    except FileProblemError as exc:
        output.fail(
            ExitCode.VALIDATION,
            f"cannot prospect: {exc}",
            error_code="invalid_path",
            document={
                "invalid": [{"path": display(p.path), "error": p.detail} for p in exc.problems]
            },
        )
    doc = {
        "status": "success",
        "exchange": settings.exchange,
        "published": [
            {
                "event_id": str(e.event_id),
                "kind": e.kind,
                "routing_key": e.routing_key,
                "file_path": e.file_path,
                "sha256_hash": e.sha256_hash,
                "xxh128_hash": e.xxh128_hash,
                "size": e.size,
            }
            for e in events
        ],
    }

    def human(console: Console) -> None:
        for e in events:
            console.print(
                f"published {e.routing_key} {e.file_path} sha256={e.sha256_hash}", markup=False
            )

    output.emit(doc, human)
