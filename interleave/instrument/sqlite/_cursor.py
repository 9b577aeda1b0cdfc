"""The scheduled cursor: statements go to its connection, rows are buffered per statement.

Inside an exploration a statement is one atomic step, so its rows are fetched when it runs and
the cursor hands them out of a buffer. A cursor does not run statements itself: it hands them to
its connection (``_connection.Connection._il_statement``), which owns the locks, the analysis
and the steps. The connection module imports this one, so the cursor finds a scheduled
connection by that method rather than by its class.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any, Final

from .._base import sim

__all__ = ["NO_ROWS", "Cursor", "cursor_class"]

#: The rows of a statement that returns none (shared: never modified).
NO_ROWS: Final[list[Any]] = []


class Cursor(sqlite3.Cursor):
    """A ``sqlite3.Cursor`` whose statements are yield points inside an exploration.

    Returned by :meth:`Connection.cursor`. Inside an exploration a statement's rows are fetched
    when it runs (the statement is one atomic step), and ``fetchone``/``fetchmany``/
    ``fetchall``/iteration hand them out; outside, everything is plain ``sqlite3``.

    Example::

        cur = conn.cursor()
        cur.execute("SELECT balance FROM accounts WHERE id = ?", (1,))
        (balance,) = cur.fetchone()
    """

    _il_rows: list[Any] | None = None
    _il_pos = 0

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        """Run one statement (a yield point inside an exploration)."""
        rt = sim()
        run = None if rt is None else getattr(self.connection, "_il_statement", None)
        if run is None:
            self._il_rows = None
            super().execute(sql, parameters)
            return self
        run(rt, self, sql, parameters, many=False)
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Cursor:
        """Run one statement for each parameter set: one yield point for all of them."""
        rt = sim()
        run = None if rt is None else getattr(self.connection, "_il_statement", None)
        if run is None:
            self._il_rows = None
            super().executemany(sql, seq_of_parameters)
            return self
        run(rt, self, sql, list(seq_of_parameters), many=True)
        return self

    def executescript(self, sql_script: str, /) -> Cursor:
        """Run a script: inside an exploration each statement is its own yield point."""
        rt = sim()
        run = None if rt is None else getattr(self.connection, "_il_script", None)
        if run is None:
            self._il_rows = None
            super().executescript(sql_script)
            return self
        run(rt, self, sql_script)
        return self

    def fetchone(self) -> Any:
        """The next row, or None."""
        rows = self._il_rows
        if rows is None:
            return super().fetchone()
        if self._il_pos < len(rows):
            self._il_pos += 1
            return rows[self._il_pos - 1]
        return None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` (default ``arraysize``) next rows."""
        rows = self._il_rows
        if rows is None:
            return super().fetchmany(self.arraysize if size is None else size)
        n = self.arraysize if size is None else size
        chunk = rows[self._il_pos : self._il_pos + max(n, 0)]
        self._il_pos += len(chunk)
        return chunk

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        rows = self._il_rows
        if rows is None:
            return super().fetchall()
        chunk = rows[self._il_pos :]
        self._il_pos = len(rows)
        return chunk

    def __iter__(self) -> Cursor:
        return self

    def __next__(self) -> Any:
        rows = self._il_rows
        if rows is None:
            return super().__next__()
        if self._il_pos < len(rows):
            self._il_pos += 1
            return rows[self._il_pos - 1]
        raise StopIteration

    def close(self) -> None:
        """Close the cursor."""
        self._il_rows = None
        super().close()

    def _il_buffer(self) -> None:
        # Fetch the rows now, inside the statement's step: an unfinished SELECT would otherwise
        # keep a SHARED lock that no step of the schedule took.
        self._il_rows = super().fetchall() if self.description is not None else NO_ROWS
        self._il_pos = 0


_cursor_classes: dict[type, type] = {}


def cursor_class(factory: type) -> type:
    """A scheduled cursor class for ``factory`` (a ``sqlite3.Cursor`` subclass), made once."""
    if issubclass(factory, Cursor):
        return factory
    cls = _cursor_classes.get(factory)
    if cls is None:
        cls = type(f"Interleave{factory.__name__}", (Cursor, factory), {})
        _cursor_classes[factory] = cls
    return cls
