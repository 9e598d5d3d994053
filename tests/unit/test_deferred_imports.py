"""What start-up leaves out is still there when asked for: the ORM side of SQLAlchemy's asyncio
extension, and structlog. Each check runs in a fresh interpreter, where nothing is loaded yet."""

from __future__ import annotations

import json
import subprocess
import sys

from structlog.processors import NAME_TO_LEVEL

from shared.runtime import log


def run_fresh(code: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()


def test_the_async_engine_comes_without_the_orm_and_works() -> None:
    out = run_fresh(
        "import asyncio, sys\n"
        "from shared.async_engine import create_async_engine\n"
        "from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, exc\n"
        "async def one():\n"
        "    engine = create_async_engine('sqlite+aiosqlite:///:memory:')\n"
        "    async with engine.connect() as conn:\n"
        "        value = (await conn.exec_driver_sql('SELECT 41 + 1')).scalar()\n"
        "    await engine.dispose()\n"
        "    return value\n"
        "print(asyncio.run(one()), isinstance(AsyncEngine, type), exc.__name__)\n"
        "print('sqlalchemy.orm' in sys.modules)\n"
    )
    assert out == ["42 True sqlalchemy.ext.asyncio.exc", "False"]


def test_the_orm_names_load_the_whole_package_on_first_use() -> None:
    out = run_fresh(
        "import sys\n"
        "import shared.async_engine\n"
        "import sqlalchemy.ext.asyncio as package\n"
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n"
        "print(AsyncSession.__module__, async_sessionmaker.__module__)\n"
        "print('sqlalchemy.orm' in sys.modules, package.async_scoped_session.__name__)\n"
        "try:\n    package.no_such_name\nexcept AttributeError as exc:\n    print(exc)\n"
    )
    assert out == [
        "sqlalchemy.ext.asyncio.session sqlalchemy.ext.asyncio.session",
        "True async_scoped_session",
        "module 'sqlalchemy.ext.asyncio' has no attribute 'no_such_name'",
    ]


def test_structlog_waits_for_the_first_line_logged() -> None:
    out = run_fresh(
        "import io, sys\n"
        "from shared.runtime.log import configure_logging, get_logger\n"
        "stream = io.StringIO()\n"
        "configure_logging('INFO', 'json', stream=stream)\n"
        "log = get_logger('apollonia.test')\n"
        "log.debug('below the level')\n"
        "print('structlog' in sys.modules)\n"
        "log.info('shown', n=1)\n"
        "print('structlog' in sys.modules)\n"
        "print(stream.getvalue().strip())\n"
    )
    assert out[:2] == ["False", "True"]
    (line,) = out[2:]
    record = json.loads(line)
    assert (record["event"], record["n"], record["level"]) == ("shown", 1, "info")


def test_a_stdlib_record_gets_the_structlog_pipeline_before_structlog_is_used() -> None:
    out = run_fresh(
        "import io, logging, sys\n"
        "from shared.runtime.log import configure_logging\n"
        "stream = io.StringIO()\n"
        "configure_logging('INFO', 'json', stream=stream)\n"
        "print('structlog' in sys.modules)\n"
        "logging.getLogger('aiormq').warning('lost amqp://u:hunter2@rabbit/')\n"
        "print(stream.getvalue().strip())\n"
    )
    assert out[0] == "False"
    record = json.loads(out[1])
    assert record["event"] == "lost amqp://u:****@rabbit/"
    assert record["logger"] == "aiormq"


def test_dropping_by_level_follows_structlogs_own_table() -> None:
    levels = dict(NAME_TO_LEVEL)
    levels.pop("notset")
    assert levels == log._METHOD_LEVELS
