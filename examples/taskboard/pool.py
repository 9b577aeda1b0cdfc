"""``ConnectionPool`` (at most ``size`` SQLite connections) and ``ReportService``, which uses it.

The pool hands out connections with ``with pool.connection() as conn:``; a thread that finds
every connection in use waits for one (an :class:`interleave.Semaphore` of ``size`` permits),
up to ``timeout`` seconds when one is given (then :class:`PoolExhausted`).

The planted bug of ``ReportService(variant="buggy")``: ``epic_report`` holds a pooled
connection while it calls ``task_summary``, which borrows a *second* one. With a pool of two
and two reports at once, each holds one connection and waits for a second that never comes: a
deadlock (resource exhaustion). Fixed: ``task_summary`` runs on the connection its caller
already holds.

Example::

    pool = ConnectionPool("board.db", size=2)
    reports = ReportService(pool, variant="fixed")
    print(reports.epic_report(1))
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import interleave

from .variant import FIXED, resolve

__all__ = ["ConnectionPool", "PoolExhausted", "ReportService"]


class PoolExhausted(RuntimeError):
    """No connection became free within the pool's timeout."""


class ConnectionPool:
    """At most ``size`` connections to ``path``, opened on demand and reused.

    Args:
        path: the database file.
        size: how many connections may be open at once.
        timeout: seconds to wait for a free connection (None: wait as long as it takes).

    Example::

        pool = ConnectionPool("board.db", size=2)
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        pool.close()
    """

    def __init__(self, path: str, *, size: int = 5, timeout: float | None = None) -> None:
        if size < 1:
            raise ValueError(f"size={size!r} must be at least 1")
        self.path = path
        self.size = size
        self.timeout = timeout
        self._permits = interleave.Semaphore(size, name="pool")
        self._lock = interleave.Lock(name="pool-idle")
        self._idle: list[sqlite3.Connection] = []
        self._opened: list[sqlite3.Connection] = []

    def __repr__(self) -> str:
        return f"<ConnectionPool {self.path!r} size={self.size}>"

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection (waiting for a free one); it goes back to the pool afterwards."""
        if not self._permits.acquire(timeout=self.timeout):
            raise PoolExhausted(
                f"connection pool exhausted: all {self.size} connections to {self.path!r} are "
                f"in use after waiting {self.timeout} s (does a holder ask for a second one?)"
            )
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = sqlite3.connect(self.path, check_same_thread=False)
                with self._lock:
                    self._opened.append(conn)
            try:
                yield conn
            finally:
                with self._lock:
                    self._idle.append(conn)
        finally:
            self._permits.release()

    def close(self) -> None:
        """Close every connection the pool opened."""
        for conn in self._opened:
            conn.close()
        self._opened.clear()
        self._idle.clear()


class ReportService:
    """Epic reports read through a :class:`ConnectionPool`.

    Args:
        pool: the pool to borrow connections from.
        variant: ``"buggy"`` or ``"fixed"`` (default: ``$TASKBOARD_VARIANT``, else buggy).

    Example::

        reports = ReportService(ConnectionPool("board.db", size=2), variant="fixed")
        report = reports.epic_report(1)
    """

    def __init__(self, pool: ConnectionPool, *, variant: str | None = None) -> None:
        self.pool = pool
        self.variant = resolve(variant)

    def epic_report(self, epic_id: int) -> dict[str, Any]:
        """The epic's title and its tasks' count and points."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT title FROM epics WHERE id = ?", (epic_id,)).fetchone()
            if self.variant == FIXED:
                summary = self.task_summary(epic_id, conn=conn)
            else:
                # The bug: a second connection while holding the first.
                summary = self.task_summary(epic_id)
        return {"epic_id": epic_id, "title": None if row is None else row[0], **summary}

    def task_summary(
        self, epic_id: int, *, conn: sqlite3.Connection | None = None
    ) -> dict[str, int]:
        """The count and total points of an epic's tasks (on ``conn``, or a pooled one)."""
        if conn is None:
            with self.pool.connection() as own:
                return self.task_summary(epic_id, conn=own)
        tasks, points = conn.execute(
            "SELECT count(*), coalesce(sum(points), 0) FROM tasks WHERE epic_id = ?", (epic_id,)
        ).fetchone()
        return {"tasks": int(tasks), "points": int(points)}
