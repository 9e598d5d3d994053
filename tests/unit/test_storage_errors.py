"""Storage problems are told by path, owner and free space, never with SQL (issue 17, 5 and 18).

No I/O beyond reading the temporary folder's own metadata: the real unprivileged and full-disk
runs are in tests/integration/test_storage_errors.py.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import typer
from sqlalchemy.exc import DBAPIError

from apollonia.cli import errors
from apollonia.cli.common import run_operation
from apollonia.cli.output import Output
from consumer.domain.errors import OperationError
from shared.storage import (
    Identity,
    NotWritableError,
    StorageFullError,
    format_bytes,
    mount_point,
    storage_error,
)

INSERT = "INSERT INTO assets (uuid, path) VALUES (?, ?)"


def sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code
    return exc


def test_a_full_disk_is_told_by_its_mount_point_and_free_space(tmp_path: Path) -> None:
    database = tmp_path / "apollonia.db"
    problem = storage_error(sqlite_error("database or disk is full", 13), database)
    assert isinstance(problem, StorageFullError)
    assert problem.database == database
    assert problem.mount_point == mount_point(tmp_path)
    text = errors.storage_message(problem)
    assert str(database) in text and "is full" in text and "nothing was written" in text
    assert f"mounted at {problem.mount_point}" in text
    assert len(text.splitlines()) <= 2


def test_other_driver_errors_are_not_storage_problems(tmp_path: Path) -> None:
    assert (
        storage_error(sqlite_error("UNIQUE constraint failed: assets.uuid", 19), tmp_path) is None
    )
    assert storage_error(ValueError("disk is full"), tmp_path / "x.db") is None
    assert storage_error(sqlite_error("database or disk is full", 13), None) is None


def test_a_refused_write_names_the_owner_and_the_process(tmp_path: Path) -> None:
    database = tmp_path / "apollonia.db"
    problem = NotWritableError(
        database,
        blocker=tmp_path,
        process=Identity(99, 100, "nobody", "users"),
        owner=Identity(1001, 1001, None, None),
        mode=0o755,
    )
    text = errors.storage_message(problem)
    lines = text.splitlines()
    assert len(lines) == 2
    assert f"{tmp_path} is owned by 1001:1001 with mode 0755" in lines[0]
    assert "runs as 99:100 (nobody:users)" in lines[0]
    assert f"`chown -R 99:100 {tmp_path}`" in lines[1]
    assert "APOLLONIA_UID" in lines[1] and "run Apollonia as 1001:1001" in lines[1]
    assert errors.storage_error_code(problem) == "database_not_writable"


def test_a_file_its_own_user_cannot_write_is_told_to_chmod(tmp_path: Path) -> None:
    me = Identity(1001, 1001, "apollonia", "apollonia")
    database = tmp_path / "apollonia.db"
    problem = NotWritableError(database, blocker=database, process=me, owner=me, mode=0o444)
    text = errors.storage_message(problem)
    assert "mode 0444" in text and f"`chmod -R u+rwX {tmp_path}`" in text
    assert "chown" not in text


def test_a_read_only_mount_is_told_as_such(tmp_path: Path) -> None:
    problem = NotWritableError(
        tmp_path / "a.db",
        blocker=tmp_path,
        process=Identity(0, 0),
        owner=Identity(0, 0),
        mode=0o755,
        read_only_fs=True,
    )
    assert "read-only file system" in errors.storage_message(problem)


def test_identity_shows_numbers_and_the_names_it_can_find() -> None:
    assert str(Identity(4242, 4343)) == "4242:4343"
    assert str(Identity(99, 100, "nobody", "users")) == "99:100 (nobody:users)"
    me = Identity.process()
    assert me.uid == os.geteuid() and me.gid == os.getegid()


def test_format_bytes() -> None:
    assert format_bytes(0) == "0 B"
    assert format_bytes(2048) == "2.0 KiB"
    assert format_bytes(5 * 1024**3) == "5.0 GiB"


def test_an_ingest_that_failed_on_a_full_disk_is_told_as_a_full_disk(tmp_path: Path) -> None:
    full = StorageFullError(tmp_path / "a.db", mount_point=tmp_path, free_bytes=0)
    wrapped = OperationError("ingest_failed", collection="tv", error=f"StorageFullError: {full}")
    wrapped.__cause__ = full
    assert errors.storage_problem(wrapped) is full
    assert errors.storage_problem(OperationError("ingest_failed", collection="tv")) is None


def _fail_with(exc: BaseException) -> object:
    async def factory() -> None:
        raise exc

    return factory


def test_run_operation_never_prints_sql(capsys: pytest.CaptureFixture[str]) -> None:
    driver = sqlite3.OperationalError("no such table: assets")
    error = DBAPIError.instance(INSERT, ("a", "b"), driver, sqlite3.Error)
    with pytest.raises(typer.Exit) as exit_info:
        run_operation(Output(False), _fail_with(error))  # type: ignore[arg-type]
    captured = capsys.readouterr()
    assert exit_info.value.exit_code == 1
    shown = [line for line in captured.err.splitlines() if "debug" not in line]
    assert "Error: catalog database error: no such table: assets" in shown
    assert not [line for line in shown if "INSERT" in line]  # the SQL goes to the debug log only


def test_run_operation_words_a_wrapped_full_disk(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    full = StorageFullError(tmp_path / "a.db", mount_point=tmp_path, free_bytes=0)
    wrapped = OperationError("ingest_failed", collection="tv", error=f"StorageFullError: {full}")
    wrapped.__cause__ = full
    with pytest.raises(typer.Exit) as exit_info:
        run_operation(Output(True), _fail_with(wrapped))  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert exit_info.value.exit_code == 1
    assert '"code": "disk_full"' in out and "is full" in out
