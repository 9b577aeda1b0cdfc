"""``aiosqlite`` in an execution: each call runs its statement at once, in the task.

aiosqlite runs every call of a connection on a thread of its own and hands the result back
through a future; the event loop is not blocked meanwhile. In an execution the call runs in
the task itself, on the scheduled connection that ``sqlite3.connect`` returns there (see the
SQLite guide: every statement is a step with SQLite's read and write sets and lock levels),
without blocking the loop (a wait for a database lock lets the other tasks run), and the
``await`` is then a suspension point of the task (where a cancellation arrives: the statement
has run, as it has in aiosqlite's thread).

Only two methods of ``aiosqlite.Connection`` are swapped, for the execution: ``_execute`` (every
call goes through it) and ``__await__`` (opening the connection); the rest is aiosqlite's own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .._base import sim
from ._tasks import Task, current

__all__ = ["patch"]


def _run(task: Task, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    rt = sim()
    assert rt is not None
    task._cooperative += 1  # aiosqlite's thread waits for the database, not the loop
    try:
        result = fn(*args, **kwargs)
    finally:
        task._cooperative -= 1
    task.checkpoint(rt, "aiosqlite")
    return result


def _patched_execute(real: Any) -> Any:
    async def _execute(self: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        task = current(sim())
        if task is None:
            return await real(self, fn, *args, **kwargs)
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return _run(task, fn, *args, **kwargs)

    return _execute


def _patched_await(real: Any) -> Any:
    def __await__(self: Any) -> Any:
        task = current(sim())
        if task is None:
            return real(self)
        return _connect(self, task).__await__()

    return __await__


async def _connect(conn: Any, task: Task) -> Any:
    if conn._connection is None:
        conn._connection = _run(task, conn._connector)
    return conn


def _patched_stop(real: Any) -> Any:
    def stop(self: Any) -> Any:
        if current(sim()) is None:
            return real(self)
        # No worker thread was started: close the connection here.
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None

    return stop


def patch(module: ModuleType) -> list[Callable[[], None]]:
    """Swap ``aiosqlite.Connection``'s thread hand-off for the execution; return the undo."""
    cls = getattr(module, "Connection", None)
    if not isinstance(cls, type) or not hasattr(cls, "_execute"):
        return []  # an aiosqlite this module does not know: left alone
    undo: list[Callable[[], None]] = []
    for name, make in (
        ("_execute", _patched_execute),
        ("__await__", _patched_await),
        ("stop", _patched_stop),
    ):
        real = cls.__dict__.get(name)
        if real is None:
            continue
        setattr(cls, name, make(real))
        undo.append(functools.partial(setattr, cls, name, real))
    return undo
