"""Opening scheduled connections: ``connect()``, and ``sqlite3.connect`` patched to call it.

Two per-execution patches, listed in ``instrument/_patches.py`` (outermost first):

- :class:`sqlite_execution` ends the execution's SQLite state (closes the connections it
  opened, hands back the ones it adopted, removes its database copies), whatever else was
  swapped in;
- :class:`patch_sqlite` (``explore(patch_sqlite=True)``, the default) makes ``sqlite3.connect``
  return scheduled connections for the code of the execution, so unmodified applications are
  explored too. Other OS threads, and code outside the execution, get the real thing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..._core import _context
from ..._core._runtime import Runtime
from ...errors import InvalidArgument
from ._connection import Connection
from ._raw import original_connect
from ._state import Execution, TemplateBase, execution

__all__ = ["connect", "patch_sqlite", "sqlite_execution"]

_connection_classes: dict[type, type] = {}


def _connection_class(factory: type) -> type:
    if issubclass(factory, Connection):
        return factory
    if factory is sqlite3.Connection:
        return Connection
    if not (isinstance(factory, type) and issubclass(factory, sqlite3.Connection)):
        raise InvalidArgument(
            f"factory={factory!r} must be a subclass of sqlite3.Connection (interleave derives "
            "a scheduled class from it)"
        )
    cls = _connection_classes.get(factory)
    if cls is None:
        cls = type(f"Interleave{factory.__name__}", (Connection, factory), {})
        _connection_classes[factory] = cls
    return cls


def connect(
    database: Any,
    timeout: float = 5.0,
    detect_types: int = 0,
    isolation_level: str | None = "",
    check_same_thread: bool = True,
    factory: type[sqlite3.Connection] = sqlite3.Connection,
    cached_statements: int = 128,
    uri: bool = False,
    **kwargs: Any,
) -> Connection:
    """Open a SQLite connection whose statements are yield points inside an exploration.

    Takes the arguments of ``sqlite3.connect`` (and any it gains later, such as Python 3.12's
    ``autocommit``); ``database`` may also be a :class:`Template`: the connection then opens
    this execution's copy of it. Outside an exploration the result
    is a plain ``sqlite3`` connection. Inside one it is opened with no busy timeout: SQLITE_BUSY
    makes the thread wait for the lock's holder (a scheduling decision) instead of sleeping, and
    the connection is closed when the execution ends.

    Returns:
        A :class:`Connection` (a ``sqlite3.Connection`` subclass).

    Example::

        def scenario():
            path = BANK.path()                  # this execution's copy of a template
            def withdraw():
                with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                    sql = "SELECT balance FROM accounts WHERE id = 1"
                    (balance,) = conn.execute(sql).fetchone()
                    conn.execute("UPDATE accounts SET balance = ? WHERE id = 1", (balance - 10,))
                    conn.commit()
            return interleave.Scenario(threads=[withdraw, withdraw])
    """
    params: dict[str, Any] = {
        "timeout": timeout,
        "detect_types": detect_types,
        "isolation_level": isolation_level,
        "check_same_thread": check_same_thread,
        "cached_statements": cached_statements,
        "uri": uri,
        **kwargs,
    }
    cls = _connection_class(factory)
    if isinstance(database, TemplateBase):
        database = database.path()
    rt = _context.building()
    if rt is not None:
        params["timeout"] = 0.0  # SQLITE_BUSY at once: it becomes a scheduling decision
    conn: Connection = original_connect(database, factory=cls, **params)
    if rt is not None:
        # Durability is not what an exploration tests, and fsync at every commit would make it
        # a disk benchmark: no syncing, and the TEMP schema (our row-logging triggers) in
        # memory. Locking and visibility are unchanged.
        # (The pragmas load the schema, which needs a SHARED lock another thread may block:
        # then they are applied after the connection's first statement instead.)
        conn._il_apply_settings()
        conn._il_born = rt
        execution(rt).opened.append(conn._il_close_at_end)
    return conn


def _patched_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
    # Installed as sqlite3.connect while an execution runs; other OS threads (and code outside
    # the execution) get the real thing.
    if _context.building() is None:
        conn: sqlite3.Connection = original_connect(database, *args, **kwargs)
        return conn
    return connect(database, *args, **kwargs)


class sqlite_execution:
    """Per-execution cleanup of scheduled connections: at the end of the execution, close the
    connections it opened and remove its database copies.

    The state itself (``_state.Execution``: database registry, SQL-aware lost-update observer)
    is made on first use, so a scenario without SQLite pays only this object.
    """

    __slots__ = ("rt",)

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        ex = self.rt.peek(Execution)
        if ex is not None:
            ex.close()


# Explorations may run in several OS threads at once: sqlite3.connect is swapped by the first
# execution to enter and restored by the last to leave.
_installed = 0


class patch_sqlite:
    """Per-execution patch: ``sqlite3.connect`` makes scheduled connections (for the code of
    the execution only; other OS threads get the real thing)."""

    __slots__ = ()

    def __init__(self, rt: Runtime) -> None:
        pass

    def __enter__(self) -> None:
        global _installed
        _installed += 1
        if _installed == 1:
            sqlite3.connect = _patched_connect  # type: ignore[assignment]
            sqlite3.dbapi2.connect = _patched_connect  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        global _installed
        _installed -= 1
        if _installed == 0:
            sqlite3.connect = original_connect
            sqlite3.dbapi2.connect = original_connect
