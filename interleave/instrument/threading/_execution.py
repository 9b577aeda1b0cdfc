"""The threading patch's machinery: the reference-counted module-wide swap and the part of it
that runs around every execution.

Compiled (see ``_core/_native.py``): it runs around every execution. The public face of the
patch (``patch_threading``, ``exploration_scope``, ``is_patched``) is in :mod:`._patch`.
"""

from __future__ import annotations

import _thread
import queue
import threading
import time
from typing import Any

from ..._core._runtime import Runtime
from .._swap import ModuleSwap
from ._factories import (
    BoundedSemaphoreFactory,
    ConditionFactory,
    EventFactory,
    LockFactory,
    RLockFactory,
    SemaphoreFactory,
)
from ._globals import Undo, restore_globals, swap_project_globals
from ._originals import (
    REAL_BARRIER_INIT,
    REAL_BOUNDED_SEMAPHORE,
    REAL_CONDITION,
    REAL_CURRENT_THREAD,
    REAL_EVENT,
    REAL_GET_IDENT,
    REAL_GET_NATIVE_ID,
    REAL_LOCAL,
    REAL_LOCK,
    REAL_QUEUE_GET,
    REAL_QUEUE_INIT,
    REAL_QUEUE_PUT,
    REAL_RLOCK,
    REAL_SEMAPHORE,
    REAL_SIMPLE_QUEUE,
    REAL_SLEEP,
    REAL_THREAD_INIT,
    REAL_THREAD_IS_ALIVE,
    REAL_THREAD_JOIN,
    REAL_THREAD_START,
    THREAD,
)
from ._queues import SimpleQueue, barrier_init, queue_get, queue_init, queue_put
from ._threads import (
    Local,
    current_thread,
    get_ident,
    get_native_id,
    mark_all_stopped,
    sleep,
    thread_init,
    thread_is_alive,
    thread_join,
    thread_start,
)

__all__ = ["ALIASES", "SWAP", "ThreadingExecution"]


#: (owner, attribute, real, stand-in) for the module-level names of threading, time and queue.
_MODULE_NAMES: list[tuple[Any, str, object, object]] = [
    (threading, "Lock", REAL_LOCK, LockFactory),
    (threading, "RLock", REAL_RLOCK, RLockFactory),
    (threading, "Condition", REAL_CONDITION, ConditionFactory),
    (threading, "Semaphore", REAL_SEMAPHORE, SemaphoreFactory),
    (threading, "BoundedSemaphore", REAL_BOUNDED_SEMAPHORE, BoundedSemaphoreFactory),
    (threading, "Event", REAL_EVENT, EventFactory),
    (threading, "local", REAL_LOCAL, Local),
    (threading, "get_ident", REAL_GET_IDENT, get_ident),
    (threading, "get_native_id", REAL_GET_NATIVE_ID, get_native_id),
    (threading, "current_thread", REAL_CURRENT_THREAD, current_thread),
    (time, "sleep", REAL_SLEEP, sleep),
    (queue, "SimpleQueue", REAL_SIMPLE_QUEUE, SimpleQueue),
]

#: Everything the module-wide swap sets: those names and the methods of Thread, Barrier, Queue.
_SETTERS: list[tuple[Any, str, object, object]] = [
    *_MODULE_NAMES,
    (THREAD, "__init__", REAL_THREAD_INIT, thread_init),
    (THREAD, "start", REAL_THREAD_START, thread_start),
    (THREAD, "join", REAL_THREAD_JOIN, thread_join),
    (THREAD, "is_alive", REAL_THREAD_IS_ALIVE, thread_is_alive),
    (threading.Barrier, "__init__", REAL_BARRIER_INIT, barrier_init),
    (queue.Queue, "__init__", REAL_QUEUE_INIT, queue_init),
    (queue.Queue, "get", REAL_QUEUE_GET, queue_get),
    (queue.Queue, "put", REAL_QUEUE_PUT, queue_put),
]

# A module of the project may have bound one of those names with ``from threading import X``
# before the exploration: the first execution that finds it swaps it too, for as long as the
# module-wide swap stays (see _globals).
ALIASES = {id(real): (real, patched) for _owner, _name, real, patched in _MODULE_NAMES}
# ``from _thread import allocate_lock`` makes the same locks: up to Python 3.12 it is
# threading.Lock itself, from 3.13 a function of its own (threading.Lock is the lock type).
ALIASES.setdefault(id(_thread.allocate_lock), (_thread.allocate_lock, LockFactory))

# Executions may run in several OS threads at once: the swap is reference counted.
SWAP = ModuleSwap(_SETTERS)


class ThreadingExecution:
    """The per-execution patch (a class, not a generator: it runs once per execution): the
    project's primitives swapped for stand-ins, the execution's ``Thread`` objects marked
    stopped at the end."""

    __slots__ = ("rt", "undo")

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.undo: Undo = []

    def __enter__(self) -> None:
        SWAP.install()
        try:
            self.undo = swap_project_globals(self.rt, ALIASES, SWAP)
        except BaseException:
            self._restore()
            raise

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._restore()

    def _restore(self) -> None:
        restore_globals(self.undo)
        self.undo = []
        mark_all_stopped(self.rt)
        SWAP.uninstall()
