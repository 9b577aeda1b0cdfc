"""``DatabaseManager``: clients, epics and tasks in SQLite, and the archive.

The schema declares the foreign keys with ``ON DELETE CASCADE``. The code is plain ``sqlite3``
(it knows nothing about interleave): inside :func:`interleave.explore` the ``sqlite3.connect``
patch makes every statement a yield point, so this file is explored unmodified.

The planted bugs of ``variant="buggy"`` (each with its fix in ``variant="fixed"``):

``create_epic``
    Inserts on one connection shared by every thread, then asks that connection for
    ``SELECT last_insert_rowid()``: when another thread inserts in between, the new epic's id
    is the *other* epic's id. Fixed: a connection per call and the inserting cursor's
    ``lastrowid`` (one statement, nothing in between).
``get_or_create_client``
    Check-then-insert: ``SELECT`` the client by name, ``INSERT`` when absent. Two threads both
    see no client and both insert it. Fixed: ``BEGIN IMMEDIATE`` around the check and the
    insert.
``complete_task``
    Read-modify-write of the epic's ``points_done``: read the total, add the task's points in
    Python, write the total back. Two completions at once lose one of them. Fixed: one
    ``UPDATE ... SET points_done = points_done + ?`` in the same transaction as the task's
    status.
``delete_epic`` / ``create_task``
    SQLite leaves foreign keys off unless each connection turns them on, so the cascade never
    ran and the code deletes the tasks by hand, then the epic; ``create_task`` checks that the
    epic exists, then inserts. A task created between the two deletes (or after the check)
    survives its epic: an orphan. Fixed: ``PRAGMA foreign_keys = ON`` on every connection, one
    ``DELETE`` of the epic (the schema's cascade removes its tasks in the same statement), and
    a task insert that the foreign key rejects once the epic is gone.
``restore_epic``
    Locks the archive database, then the main one (``BEGIN EXCLUSIVE`` on each), while
    ``archive_epic`` locks main, then archive: opposite orders, a deadlock. Fixed: both take
    main first.

Example::

    db = DatabaseManager("board.db", archive_path="archive.db", variant="fixed")
    db.create_schema()
    client = db.get_or_create_client("acme")
    epic = db.create_epic({"title": "Login", "client_id": client, "points_value": 8})
    db.create_task({"title": "form", "epic_id": epic, "points": 3})
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any

from .variant import FIXED, resolve

__all__ = ["ARCHIVE_SCHEMA", "SCHEMA", "DatabaseManager", "TaskboardError"]

SCHEMA = """
CREATE TABLE clients(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE epics(
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    points_value INTEGER NOT NULL DEFAULT 0,
    points_done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tasks(
    id INTEGER PRIMARY KEY,
    epic_id INTEGER NOT NULL REFERENCES epics(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    tdd_phase TEXT NOT NULL DEFAULT 'red',
    status TEXT NOT NULL DEFAULT 'todo',
    points INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT
);
"""

ARCHIVE_SCHEMA = """
CREATE TABLE archived_epics(
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    points_value INTEGER NOT NULL
);
"""

_EPIC_COLUMNS = ("id", "client_id", "title", "description", "points_value", "points_done")
_TASK_COLUMNS = ("id", "epic_id", "title", "tdd_phase", "status", "points", "updated_at")
_TASK_UPDATABLE = frozenset({"title", "tdd_phase", "status", "points", "updated_at"})
_EPIC_UPDATABLE = frozenset({"title", "description", "points_value"})


class TaskboardError(Exception):
    """A request the taskboard cannot carry out (unknown column, missing row)."""


class DatabaseManager:
    """Clients, epics and tasks on one SQLite file (and archived epics on another).

    Args:
        path: the database file (see :data:`SCHEMA`; :meth:`create_schema` creates it).
        archive_path: the archive database file (see :data:`ARCHIVE_SCHEMA`), for
            :meth:`archive_epic` and :meth:`restore_epic`.
        variant: ``"buggy"`` or ``"fixed"`` (default: ``$TASKBOARD_VARIANT``, else buggy).
        timeout: SQLite's busy timeout in seconds (how long a statement waits for a lock
            before ``database is locked``); inside an exploration waiting is a scheduling
            decision instead.

    Example::

        db = DatabaseManager("board.db", variant="fixed")
        epic_id = db.create_epic({"title": "Search", "client_id": 1})
        assert db.get_epic(epic_id)["title"] == "Search"
    """

    def __init__(
        self,
        path: str,
        *,
        archive_path: str | None = None,
        variant: str | None = None,
        timeout: float = 1.0,
    ) -> None:
        self.path = path
        self.archive_path = archive_path
        self.variant = resolve(variant)
        self.timeout = timeout
        self._shared: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"<DatabaseManager {self.path!r} variant={self.variant!r}>"

    @property
    def fixed(self) -> bool:
        """Is this the fixed variant?"""
        return self.variant == FIXED

    # -- connections ---------------------------------------------------------------------

    def _connect(self, *, autocommit: bool = False) -> sqlite3.Connection:
        conn = (
            sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            if autocommit
            else sqlite3.connect(self.path, timeout=self.timeout)
        )
        if self.fixed:
            conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A new connection for one operation, closed afterwards (not committed)."""
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    def shared_connection(self) -> sqlite3.Connection:
        """The one connection the buggy variant shares between threads (opened on first use)."""
        if self._shared is None:
            self._shared = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False)
        return self._shared

    def close(self) -> None:
        """Close the shared connection, if one was opened."""
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    def create_schema(self) -> None:
        """Create the tables (and the archive's, when there is an archive)."""
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            conn.executescript(SCHEMA)
        if self.archive_path is not None:
            with contextlib.closing(sqlite3.connect(self.archive_path)) as conn:
                conn.executescript(ARCHIVE_SCHEMA)

    # -- clients ---------------------------------------------------------------------------

    def get_or_create_client(self, name: str) -> int:
        """The id of the client called ``name``, created if there is none."""
        with self.connection() as conn:
            if self.fixed:
                # The write lock is taken before the check: no other writer can slip in.
                conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT id FROM clients WHERE name = ?", (name,)).fetchone()
            if row is not None:
                conn.commit()
                return int(row[0])
            cursor = conn.execute("INSERT INTO clients(name) VALUES (?)", (name,))
            conn.commit()
            return int(cursor.lastrowid or 0)

    def count_clients(self, name: str) -> int:
        """How many clients are called ``name``."""
        with self.connection() as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM clients WHERE name = ?", (name,)
            ).fetchone()
            return int(count)

    # -- epics -----------------------------------------------------------------------------

    def create_epic(self, data: Mapping[str, Any]) -> int:
        """Insert an epic (``title``, ``client_id``, optional ``description``,
        ``points_value``) and return its id."""
        values = (
            data["client_id"],
            data["title"],
            data.get("description", ""),
            data.get("points_value", 0),
        )
        insert = (
            "INSERT INTO epics(client_id, title, description, points_value) VALUES (?, ?, ?, ?)"
        )
        if self.fixed:
            with self.connection() as conn:
                cursor = conn.execute(insert, values)
                conn.commit()
                return int(cursor.lastrowid or 0)
        # The bug: one connection for every thread, and its last_insert_rowid() asked in a
        # separate statement, after another thread may have inserted.
        conn = self.shared_connection()
        conn.execute(insert, values)
        conn.commit()
        (epic_id,) = conn.execute("SELECT last_insert_rowid()").fetchone()
        return int(epic_id)

    def get_epic(self, epic_id: int) -> dict[str, Any] | None:
        """The epic as a dict, or None."""
        with self.connection() as conn:
            row = conn.execute(
                f"SELECT {', '.join(_EPIC_COLUMNS)} FROM epics WHERE id = ?", (epic_id,)
            ).fetchone()
        return None if row is None else dict(zip(_EPIC_COLUMNS, row, strict=True))

    def list_epics(self, client_id: int | None = None) -> list[dict[str, Any]]:
        """Every epic (of one client), by id."""
        sql = f"SELECT {', '.join(_EPIC_COLUMNS)} FROM epics"
        params: tuple[Any, ...] = ()
        if client_id is not None:
            sql += " WHERE client_id = ?"
            params = (client_id,)
        with self.connection() as conn:
            rows = conn.execute(sql + " ORDER BY id", params).fetchall()
        return [dict(zip(_EPIC_COLUMNS, row, strict=True)) for row in rows]

    def update_epic(self, epic_id: int, data: Mapping[str, Any]) -> bool:
        """Set the given columns (``title``, ``description``, ``points_value``) of an epic;
        False when there is no such epic."""
        return self._update("epics", _EPIC_UPDATABLE, epic_id, data)

    def delete_epic(self, epic_id: int) -> bool:
        """Delete an epic and its tasks; False when there was no such epic."""
        with self.connection() as conn:
            if self.fixed:
                # Foreign keys are on: the schema's ON DELETE CASCADE removes the tasks in the
                # same statement, atomically.
                cursor = conn.execute("DELETE FROM epics WHERE id = ?", (epic_id,))
                conn.commit()
                return cursor.rowcount > 0
            # The bug: the cascade by hand, in two steps, with foreign keys off.
            conn.execute("DELETE FROM tasks WHERE epic_id = ?", (epic_id,))
            conn.commit()
            cursor = conn.execute("DELETE FROM epics WHERE id = ?", (epic_id,))
            conn.commit()
            return cursor.rowcount > 0

    # -- tasks -----------------------------------------------------------------------------

    def create_task(self, data: Mapping[str, Any]) -> int | None:
        """Insert a task (``title``, ``epic_id``, optional ``tdd_phase``, ``points``) and
        return its id; None when the epic does not exist (any more)."""
        values = (
            data["epic_id"],
            data["title"],
            data.get("tdd_phase", "red"),
            data.get("points", 0),
        )
        insert = "INSERT INTO tasks(epic_id, title, tdd_phase, points) VALUES (?, ?, ?, ?)"
        with self.connection() as conn:
            if self.fixed:
                try:
                    cursor = conn.execute(insert, values)
                except sqlite3.IntegrityError:
                    return None  # the foreign key: the epic is gone
                conn.commit()
                return int(cursor.lastrowid or 0)
            # The bug: check, then insert; nothing stops a delete in between.
            exists = conn.execute("SELECT 1 FROM epics WHERE id = ?", (data["epic_id"],))
            if exists.fetchone() is None:
                return None
            cursor = conn.execute(insert, values)
            conn.commit()
            return int(cursor.lastrowid or 0)

    def get_task(self, task_id: int) -> dict[str, Any] | None:
        """The task as a dict, or None."""
        with self.connection() as conn:
            row = conn.execute(
                f"SELECT {', '.join(_TASK_COLUMNS)} FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
        return None if row is None else dict(zip(_TASK_COLUMNS, row, strict=True))

    def get_tasks(self, epic_id: int | None = None) -> list[dict[str, Any]]:
        """Every task (of one epic), by id."""
        sql = f"SELECT {', '.join(_TASK_COLUMNS)} FROM tasks"
        params: tuple[Any, ...] = ()
        if epic_id is not None:
            sql += " WHERE epic_id = ?"
            params = (epic_id,)
        with self.connection() as conn:
            rows = conn.execute(sql + " ORDER BY id", params).fetchall()
        return [dict(zip(_TASK_COLUMNS, row, strict=True)) for row in rows]

    def update_task(self, task_id: int, data: Mapping[str, Any]) -> bool:
        """Set the given columns (``title``, ``tdd_phase``, ``status``, ``points``,
        ``updated_at``) of a task; False when there is no such task."""
        return self._update("tasks", _TASK_UPDATABLE, task_id, data)

    def delete_task(self, task_id: int) -> bool:
        """Delete a task; False when there was no such task."""
        with self.connection() as conn:
            cursor = conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
            conn.commit()
            return cursor.rowcount > 0

    def complete_task(self, task_id: int) -> bool:
        """Mark a task done and add its points to its epic's ``points_done``."""
        with self.connection() as conn:
            row = conn.execute("SELECT epic_id, points FROM tasks WHERE id = ?", (task_id,))
            found = row.fetchone()
            if found is None:
                return False
            epic_id, points = found
            if self.fixed:
                conn.execute("UPDATE tasks SET status = 'done' WHERE id = ?", (task_id,))
                conn.execute(
                    "UPDATE epics SET points_done = points_done + ? WHERE id = ?",
                    (points, epic_id),
                )
                conn.commit()
                return True
            # The bug: read the total, add in Python, write it back.
            (done,) = conn.execute(
                "SELECT points_done FROM epics WHERE id = ?", (epic_id,)
            ).fetchone()
            conn.execute("UPDATE tasks SET status = 'done' WHERE id = ?", (task_id,))
            conn.execute("UPDATE epics SET points_done = ? WHERE id = ?", (done + points, epic_id))
            conn.commit()
            return True

    def orphan_tasks(self) -> int:
        """How many tasks point to an epic that does not exist (always 0 when correct)."""
        with self.connection() as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM tasks WHERE epic_id NOT IN (SELECT id FROM epics)"
            ).fetchone()
            return int(count)

    # -- the archive -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _both(self, first: str) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection]]:
        """Exclusive transactions on main and archive, ``first`` ("main" or "archive") locked
        first; committed together at the end."""
        if self.archive_path is None:
            raise TaskboardError("this DatabaseManager has no archive_path= to archive into")
        main = self._connect(autocommit=True)
        archive = sqlite3.connect(self.archive_path, timeout=self.timeout, isolation_level=None)
        try:
            order = (main, archive) if first == "main" or self.fixed else (archive, main)
            for conn in order:
                conn.execute("BEGIN EXCLUSIVE")
            yield main, archive
            archive.execute("COMMIT")
            main.execute("COMMIT")
        finally:
            for conn in (archive, main):
                # Close both even when a rollback fails (closing rolls back anyway).
                with contextlib.suppress(sqlite3.Error):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                conn.close()

    def archive_epic(self, epic_id: int) -> bool:
        """Move an epic (not its tasks) to the archive; False when there is no such epic."""
        with self._both("main") as (main, archive):
            row = main.execute(
                "SELECT id, client_id, title, points_value FROM epics WHERE id = ?", (epic_id,)
            ).fetchone()
            if row is None:
                return False
            archive.execute("INSERT INTO archived_epics VALUES (?, ?, ?, ?)", row)
            main.execute("DELETE FROM epics WHERE id = ?", (epic_id,))
            return True

    def restore_epic(self, epic_id: int) -> bool:
        """Move an archived epic back; False when it is not in the archive.

        The buggy variant locks the archive first (the order it reads in), the fixed one
        main first, as :meth:`archive_epic` does.
        """
        with self._both("archive") as (main, archive):
            row = archive.execute(
                "SELECT id, client_id, title, points_value FROM archived_epics WHERE id = ?",
                (epic_id,),
            ).fetchone()
            if row is None:
                return False
            main.execute(
                "INSERT INTO epics(id, client_id, title, points_value) VALUES (?, ?, ?, ?)", row
            )
            archive.execute("DELETE FROM archived_epics WHERE id = ?", (epic_id,))
            return True

    # -- helpers -----------------------------------------------------------------------------

    def _update(
        self, table: str, allowed: frozenset[str], row_id: int, data: Mapping[str, Any]
    ) -> bool:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise TaskboardError(
                f"cannot update {table} column(s) {', '.join(unknown)}; "
                f"updatable: {', '.join(sorted(allowed))}"
            )
        if not data:
            return False
        columns = sorted(data)
        assignments = ", ".join(f"{c} = ?" for c in columns)
        with self.connection() as conn:
            cursor = conn.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ?",
                (*(data[c] for c in columns), row_id),
            )
            conn.commit()
            return cursor.rowcount > 0
