"""The real ``sqlite3``, called directly: what interleave runs for itself is never a step.

Everything interleave runs on an application's connection for its own purposes (pragmas, the
schema query, ``EXPLAIN``, its TEMP triggers) goes through :func:`raw_execute`, on a plain
``sqlite3.Cursor``: not a yield point, not seen by the detectors, not buffered.
:data:`original_connect` is ``sqlite3.connect`` as it was when interleave was imported, before
the per-execution patch (``_patch.py``) replaces it.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final

__all__ = [
    "SQLITE_AUTH",
    "SQLITE_BUSY",
    "SQLITE_BUSY_SNAPSHOT",
    "is_busy",
    "original_connect",
    "raw_execute",
]

original_connect: Final = sqlite3.connect

# Result codes sqlite3 does not name (``sqlite_errorcode`` of an exception).
SQLITE_BUSY: Final = 5
SQLITE_AUTH: Final = 23
SQLITE_BUSY_SNAPSHOT: Final = 517


def raw_execute(conn: sqlite3.Connection, sql: str, params: Any = ()) -> sqlite3.Cursor:
    """Run ``sql`` on ``conn`` unscheduled, on a plain cursor."""
    return sqlite3.Cursor.execute(sqlite3.Cursor(conn), sql, params)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Did SQLite answer SQLITE_BUSY (another connection holds a conflicting lock)?"""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == SQLITE_BUSY
    return "database is locked" in str(exc)
