"""Raw SQL on a test catalog, whichever backend: a test reads what the database really holds.

Queries are written for sqlite3 (`?` placeholders); on PostgreSQL values come back as sqlite3
would return them (booleans as 0/1, JSON as its text, UTC timestamps as SQLAlchemy's SQLite text),
so one assertion holds for both.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from sqlalchemy.engine.url import make_url

from shared.sqlite import sqlite_path


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S.%f}"
    return value


def _pg(url: str) -> Any:
    import psycopg
    from psycopg.types.string import TextLoader

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(libpq)
    conn.adapters.register_loader("json", TextLoader)
    return conn


def rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    path = sqlite_path(url)
    if path is not None:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    with _pg(url) as pg:
        found = pg.execute(sql.replace("?", "%s"), params).fetchall()
    return [tuple(_sqlite_value(v) for v in row) for row in found]


def dicts(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    path = sqlite_path(url)
    if path is not None:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()
    with _pg(url) as pg:
        cursor = pg.execute(sql.replace("?", "%s"), params)
        names = [c.name for c in cursor.description or ()]
        return [
            {n: _sqlite_value(v) for n, v in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]


def execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    path = sqlite_path(url)
    if path is not None:
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()
        return
    with _pg(url) as pg:
        pg.execute(sql.replace("?", "%s"), params)


def digest(url: str) -> str:
    """SHA-256 of every table's rows (PostgreSQL), to tell whether anything was written."""
    import hashlib

    found = hashlib.sha256()
    names = rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    for (name,) in names:
        found.update(name.encode())
        for row in sorted(rows(url, f'SELECT * FROM "{name}"'), key=repr):
            found.update(repr(row).encode())
    return found.hexdigest()
