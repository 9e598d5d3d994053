"""Re-key assets whose canonical key holds a backslash: keys become injective.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Up to 0004 an undecodable byte of a name was written `\\xNN` and a backslash of the name stayed
itself, so `b'caf\\xe9.mkv'` and a file literally named `caf\\xe9.mkv` shared one key. From
0005 a backslash of the name is written `\\\\` (see `consumer.domain.keys`). Only keys holding a
backslash change; the row keeps its uuid, history and approval.

An old `\\xNN` (NN 80..ff) was either one undecodable byte or four characters of the name. The
collection's folder decides when exactly one reading exists on disk; otherwise the byte reading
wins (that is what the old code wrote for every undecodable byte, while a name spelling
`\\xe9` as text is rare). The escaping rules are frozen here, not imported: a migration must
keep meaning what it meant when it was written.
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_ESCAPE = re.compile(r"\\x[89a-f][0-9a-f]")
_MAX_AMBIGUOUS = 8  # 256 readings to look up on disk at most; beyond that, the byte reading
_TEMPORARY = "//0005/"  # no key starts with `/`: a parking place while rows swap keys


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _old_key(raw: bytes) -> str:
    return _nfc(raw.decode("utf-8", "backslashreplace"))


def _new_key(raw: bytes) -> str:
    out = []
    for char in _nfc(raw.decode("utf-8", "surrogateescape")):
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        else:
            out.append(char)
    return "".join(out)


def _readings(old: str) -> Iterator[bytes]:
    """Every name the old key may have stood for, the all-bytes reading first."""
    parts = _OLD_ESCAPE.split(old)
    escapes = _OLD_ESCAPE.findall(old)
    if len(escapes) > _MAX_AMBIGUOUS:
        choices: Iterator[tuple[bool, ...]] = iter([(True,) * len(escapes)])
    else:
        choices = itertools.product((True, False), repeat=len(escapes))
    for as_bytes in choices:
        raw = parts[0].encode()
        for escape, byte, part in zip(escapes, as_bytes, parts[1:], strict=True):
            raw += bytes([int(escape[2:], 16)]) if byte else escape.encode()
            raw += part.encode()
        if _old_key(raw) == old:  # bytes that form valid UTF-8 were never escaped
            yield raw


def rekey(old: str, root: str) -> str:
    readings = list(_readings(old))
    if not readings:  # not something the old code wrote: its characters are the name
        return _new_key(old.encode("utf-8", "surrogateescape"))
    base = root.encode("utf-8", "surrogateescape").rstrip(b"/") + b"/"
    on_disk = [raw for raw in readings if os.path.lexists(base + raw)]
    return _new_key(on_disk[0] if len(on_disk) == 1 else readings[0])


def _unkey(new: str) -> str:
    raw = re.sub(
        r"\\(?:\\|x([89a-f][0-9a-f]))",
        lambda m: "\\" if m.group(1) is None else chr(0xDC00 + int(m.group(1), 16)),
        new,
    ).encode("utf-8", "surrogateescape")
    return _old_key(raw)


def _apply(convert: dict[str, str]) -> None:
    """Move each row (uuid -> new key) through a parking key, so no swap meets UNIQUE."""
    conn = op.get_bind()
    for uuid in convert:
        conn.exec_driver_sql(
            "UPDATE assets SET canonical_key = ? WHERE uuid = ?", (_TEMPORARY + uuid, uuid)
        )
    for uuid, key in convert.items():
        conn.exec_driver_sql("UPDATE assets SET canonical_key = ? WHERE uuid = ?", (key, uuid))


def _rows() -> list[tuple[str, str, str, str]]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT a.uuid, a.collection_uuid, a.canonical_key, c.root_path FROM assets a "
        "JOIN collections c ON c.uuid = a.collection_uuid "
        "WHERE instr(a.canonical_key, char(92)) > 0"
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _sqlite() -> bool:
    # Only SQLite catalogs can hold keys in the old format: PostgreSQL came after this revision.
    return bool(op.get_bind().dialect.name == "sqlite")


def upgrade() -> None:
    if not _sqlite():
        return
    _apply({uuid: rekey(key, root) for uuid, _, key, root in _rows()})


def downgrade() -> None:
    if not _sqlite():
        return
    convert: dict[str, str] = {}
    taken: dict[tuple[str, str], str] = {}
    for uuid, collection, key, _ in _rows():
        old = _unkey(key)
        if (collection, old) in taken:
            raise RuntimeError(
                f"cannot downgrade below 0005: the assets {taken[collection, old]} and {uuid} "
                f"are two files the old key format cannot tell apart ({old!r})"
            )
        taken[collection, old] = uuid
        convert[uuid] = old
    _apply(convert)
