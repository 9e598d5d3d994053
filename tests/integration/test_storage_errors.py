"""A catalog the process cannot write, and a catalog whose disk fills up, for real (issue 17).

The unprivileged runs start the real `apollonia` as `nobody` with util-linux `setpriv` against
a config folder owned by root (the Unraid case: UID 99 on a volume owned by 1001); the full disk
is a real tmpfs too small for the ingest. Both need root, and are skipped with the reason
otherwise.
"""

from __future__ import annotations

import os
import pwd
import shutil
import site
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import Result, run_cli

ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SETPRIV = shutil.which("setpriv")
EVENT_LOOP_CLOSED = "Event loop is closed"


def _nobody() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


NOBODY = _nobody()
NOBODY_IDS = f"{NOBODY.pw_uid}:{NOBODY.pw_gid}" if NOBODY else ""


def _interpreter_for_nobody() -> str | None:
    """A Python of this version that `nobody` may run (a pyenv build under /root is not)."""
    if not (IS_ROOT and SETPRIV and NOBODY):
        return None
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, shutil.which(f"python{version}"), f"/usr/bin/python{version}"]
    for candidate in dict.fromkeys(c for c in candidates if c):
        probe = subprocess.run(
            [
                *_as_nobody(),
                "env",
                "-i",
                candidate,
                "-c",
                "import sys; print(sys.version_info[:2])",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == str(sys.version_info[:2]):
            return candidate
    return None


def _as_nobody() -> list[str]:
    assert SETPRIV and NOBODY
    return [SETPRIV, f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups"]


PYTHON = _interpreter_for_nobody()
needs_nobody = pytest.mark.skipif(
    PYTHON is None,
    reason="needs root, util-linux setpriv, a user 'nobody' and a Python it may run",
)


@pytest.fixture
def world() -> Iterator[Path]:
    """A folder `nobody` can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="apollonia-storage-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_as_nobody(config: Path, *args: str, timeout: float = 120) -> Result:
    assert PYTHON is not None
    # The venv's packages and this checkout, for an interpreter outside the venv.
    path = os.pathsep.join([str(ROOT), *site.getsitepackages()])
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "PYTHONPATH": path,
        "APOLLONIA_CONFIG_DIR": str(config),
        "APOLLONIA_LOG_FORMAT": "json",
        "APOLLONIA_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
    }
    assignments = [f"{k}={v}" for k, v in env.items()]
    proc = subprocess.run(
        [*_as_nobody(), "env", "-i", *assignments, PYTHON, "-m", "apollonia", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=config.parent,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def media_folder(world: Path) -> Path:
    media = world / "media"
    (media / "Movie (2001)").mkdir(parents=True)
    (media / "Movie (2001)" / "Movie (2001).mkv").write_bytes(b"movie")
    for path in (media, media / "Movie (2001)"):
        path.chmod(0o755)
    (media / "Movie (2001)" / "Movie (2001).mkv").chmod(0o644)
    return media


def commands(media: Path) -> list[tuple[str, ...]]:
    """One of each kind: read-only one-shots, a write, ingest-file, and the service start."""
    return [
        ("source", "list"),
        ("source", "list", "--json"),
        ("collection", "add", "--source", "local", "--name", "m", "--path", str(media)),
        ("ingest-file", str(media / "Movie (2001)" / "Movie (2001).mkv")),
        ("run", "--data", str(media)),
    ]


def assert_clear_refusal(result: Result, blocker: Path, advice: str) -> None:
    everything = result.stdout + result.stderr
    assert result.code == 1, everything
    assert EVENT_LOOP_CLOSED not in everything
    assert "Traceback" not in everything
    assert str(blocker) in everything
    assert f"runs as {NOBODY_IDS}" in everything
    assert advice in everything
    # Log lines (JSON here) and the `Catalog: PATH` line `run` starts with are not the error.
    error_lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith(("{", "Catalog: "))
    ]
    assert len(error_lines) <= 2, result.stderr  # one or two lines, no noise


@needs_nobody
def test_a_config_folder_owned_by_someone_else_is_told_for_every_command(world: Path) -> None:
    config = world / "config"
    config.mkdir(mode=0o755)  # root's, as a named volume is 1001's
    media = media_folder(world)
    for args in commands(media):
        result = run_as_nobody(config, *args, timeout=60)
        assert_clear_refusal(result, config, f"chown -R {NOBODY_IDS} {config}")
        assert "owned by 0:0" in result.stdout + result.stderr
    assert list(config.iterdir()) == []


@needs_nobody
def test_a_read_only_catalog_file_is_told_for_every_command(world: Path) -> None:
    config = world / "config"
    config.mkdir(mode=0o755)
    created = run_cli("source", "list", env={"APOLLONIA_CONFIG_DIR": str(config)})
    assert created.code == 0, created.stderr
    database = config / "apollonia.db"
    for path in config.iterdir():
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)  # type: ignore[union-attr]
    os.chown(config, NOBODY.pw_uid, NOBODY.pw_gid)  # type: ignore[union-attr]
    database.chmod(0o444)
    media = media_folder(world)
    for args in commands(media):
        result = run_as_nobody(config, *args, timeout=60)
        assert_clear_refusal(result, database, f"chmod -R u+rwX {config}")


# --- a full disk ---------------------------------------------------------------------------------


@pytest.fixture
def small_mount(world: Path) -> Iterator[Path]:
    if not IS_ROOT:
        pytest.skip("mounting a small tmpfs needs root")
    mount = world / "catalog"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def many_files(root: Path, count: int) -> None:
    """Enough assets that their rows outgrow a 1 MiB file system (long names, like TV)."""
    for show in range(count // 50):
        season = root / f"Show {show:03d} {'x' * 60}" / "Season 01"
        season.mkdir(parents=True)
        for episode in range(50):
            name = f"Show {show:03d} {'y' * 80} - S01E{episode:02d}.mkv"
            (season / name).write_bytes(os.urandom(16))


def test_a_full_disk_mid_ingest_says_which_and_writes_nothing(
    small_mount: Path, world: Path
) -> None:
    media = world / "media"
    many_files(media, 2000)
    env = {"APOLLONIA_CONFIG_DIR": str(small_mount)}
    for args in (
        ("source", "add", "--name", "local", "--type", "filesystem", "--path", str(media)),
        ("collection", "add", "--source", "local", "--name", "tv", "--path", str(media)),
    ):
        assert run_cli(*args, env=env).code == 0
    database = small_mount / "apollonia.db"

    failed = run_cli("collection", "ingest", "tv", env=env)
    everything = failed.stdout + failed.stderr
    assert failed.code == 1, everything
    assert "INSERT" not in everything and "[SQL:" not in everything
    message = failed.stderr.splitlines()[-2:]
    assert str(database) in message[0] and "is full" in message[0]
    assert f"mounted at {small_mount}" in message[0]
    assert "nothing was written" in message[0]
    assert "Free some space" in message[1]
    as_json = run_cli("collection", "ingest", "tv", "--json", env=env)
    assert as_json.code == 1
    assert as_json.json()["errors"][0]["code"] == "disk_full"
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM assets").fetchone() == (0,)

    grown = subprocess.run(["mount", "-o", "remount,size=64M", str(small_mount)], check=False)
    assert grown.returncode == 0
    again = run_cli("collection", "ingest", "tv", env=env)
    assert again.code == 0, again.stderr
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM assets").fetchone() == (2000,)
