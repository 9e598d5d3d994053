"""One line per file, `"<size> <seconds>.<nanoseconds>0 <key>"`, written three ways that must
agree byte for byte: by GNU find over the tree, by SQLite over the catalog, and by Python.

A rescan compares the two sets of lines: a line in both is a file whose size, mtime and key are
what the catalog holds, decided without building an object for it. Defined side by side here so
a change to one is a change to all three (tests/integration/test_stat_lines.py runs them on an
awkward tree). find's `%T@` prints the mtime as seconds, a dot and ten digits: the nanoseconds
and a trailing 0.
"""

from __future__ import annotations

# find -printf: a regular file's line, and a symlink (whose stat is its target's: described in
# Python) as `L<relative path>`. Both NUL-terminated.
FIND_FILE_FORMAT = r"%s %T@ %P\0"
FIND_LINK_FORMAT = r"L%P\0"
LINK_MARK = "L"

# The same line for a catalog row (SQLite `printf`), over the columns size, mtime_ns and
# canonical_key. Rows with a negative mtime_ns are left out by the caller (find never prints
# one).
SQL_LINE = (
    "printf('%d %d.%09d0 %s', size, mtime_ns / 1000000000, mtime_ns % 1000000000, canonical_key)"
)


def stat_line(size: int, mtime_ns: int, key: str) -> str:
    """The line in Python (what the two others print)."""
    seconds, nanoseconds = divmod(mtime_ns, 1_000_000_000)
    return f"{size} {seconds}.{nanoseconds:09d}0 {key}"


def key_of(line: str) -> str:
    """The key (relative path) a line ends with."""
    return line.split(" ", 2)[2]
