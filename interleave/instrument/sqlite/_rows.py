"""Row tracking: which rows a statement changed, told by SQLite through TEMP triggers.

The authorizer (``_analysis.py``) says which tables a statement writes, not which rows. For the
rows, a connection gets a TEMP trigger per (table, event) its statements fire, made on first
use, ``AFTER UPDATE ON accounts BEGIN SELECT _interleave_row_0(NEW.rowid); … END``, which hands
each changed row's key (its ``rowid``, or the primary key of a ``WITHOUT ROWID`` table) to a SQL
function that appends it to that table's list. The connection empties the lists before each
statement and reads them after it. TEMP objects belong to the connection, not to the database:
other connections (and the application's ``sqlite_schema``) never see them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

from ._analysis import MAX_CACHED, OWN_PREFIX, Analysis
from ._raw import is_busy, raw_execute

__all__ = ["RowTracker"]

_ROW_FUNCTION: Final = OWN_PREFIX + "row"
#: (schema signature, table) -> SQL of a changed row's key (NEW side, OLD side).
_ROW_KEYS: dict[tuple[object, str], tuple[str, str]] = {}


class RowTracker:
    """One connection's row tracking: its triggers and, per table, the keys of changed rows.

    ``changes[n]`` collects the keys of the rows of table ``tables[n]`` changed by the running
    statement.
    """

    __slots__ = ("_numbers", "_tracked", "changes", "tables")

    def __init__(self) -> None:
        self.changes: list[list[object]] = []  # per table number: keys of changed rows
        self.tables: list[str] = []
        self._numbers: dict[str, int] = {}
        self._tracked: set[tuple[str, str]] = set()

    def forget_triggers(self) -> None:
        """The transaction rolled back: TEMP triggers created inside it are gone too."""
        self._tracked.clear()

    def track(
        self, conn: sqlite3.Connection, analysis: Analysis, sig: Callable[[], object]
    ) -> None:
        """Make the triggers for the events ``analysis`` may fire (``sig``: the schema's)."""
        # The SQL function is the C method ``list.append`` of that table's list, not a Python
        # function: an exception raised inside an sqlite3 callback is swallowed by sqlite3 (and
        # a Ctrl-C is raised at the first line of whatever Python function runs next), while a
        # C callback runs no Python code at all.
        for table, event in analysis.events:
            if (table, event) in self._tracked or table.startswith("sqlite_"):
                continue
            number = self._numbers.get(table)
            if number is None:
                number = len(self.tables)
                rows: list[object] = []
                conn.create_function(f"{_ROW_FUNCTION}_{number}", 1, rows.append)
                self.changes.append(rows)
                self.tables.append(table)
                self._numbers[table] = number
            function = f"{_ROW_FUNCTION}_{number}"
            quoted = '"' + table.replace('"', '""') + '"'
            try:
                key_new, key_old = _row_key(conn, sig(), table)
                if event == "INSERT":
                    body = f"SELECT {function}({key_new});"
                elif event == "DELETE":
                    body = f"SELECT {function}({key_old});"
                else:
                    body = (
                        f"SELECT {function}({key_new}); "
                        f"SELECT {function}({key_old}) WHERE {key_old} IS NOT {key_new};"
                    )
                raw_execute(
                    conn,
                    f'CREATE TEMP TRIGGER IF NOT EXISTS "{OWN_PREFIX}{number}_{event[0].lower()}" '
                    f"AFTER {event} ON main.{quoted} BEGIN {body} END",
                )
            except sqlite3.OperationalError as exc:
                if is_busy(exc):
                    continue  # the schema is locked: try again before the retry
            except sqlite3.Error:
                pass  # a view or virtual table: its rows stay unknown
            self._tracked.add((table, event))


def _row_key(conn: sqlite3.Connection, sig: object, table: str) -> tuple[str, str]:
    """SQL for a changed row's key: ``rowid``, or the primary key of a WITHOUT ROWID table."""
    cache_key = (sig, table)
    cached = _ROW_KEYS.get(cache_key)
    if cached is not None:
        return cached
    without_rowid = False
    literal = "'" + table.replace("'", "''") + "'"  # pragma arguments cannot be bound
    try:
        info = raw_execute(conn, f"PRAGMA main.table_list({literal})").fetchall()
        without_rowid = any(row[4] for row in info if row[1] == table)
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise
        # SQLite before 3.37 has no table_list: assume a rowid table.
    if not without_rowid:
        result = ("NEW.rowid", "OLD.rowid")
    else:
        pk = [
            row[1]
            for row in sorted(
                raw_execute(conn, f"PRAGMA main.table_info({literal})").fetchall(),
                key=lambda r: r[5],
            )
            if row[5]
        ]
        cols = ['"' + c.replace('"', '""') + '"' for c in pk]

        def key(side: str) -> str:
            return " || ',' || ".join(f"quote({side}.{c})" for c in cols)

        result = (key("NEW"), key("OLD"))
    if len(_ROW_KEYS) >= MAX_CACHED:
        _ROW_KEYS.clear()
    _ROW_KEYS[cache_key] = result
    return result
