"""Install and remove the threading patch: process-wide, and once per execution.

The module-wide swap (``threading.Lock`` & co., ``Thread`` methods, ``queue``, ``time.sleep``)
is reference counted, so that executions in several OS threads, and an exploration that keeps
it on between executions (:func:`exploration_scope`), share one installation; names that project
modules bound with ``from threading import Lock`` are swapped with it (:meth:`ModuleSwap.bind`).
Each execution adds its own part: the primitives in the project's globals swapped for
stand-ins, and its ``Thread`` objects marked stopped at the end.
"""

from __future__ import annotations

import _thread
import contextlib
import queue
import threading
import time
from collections.abc import Iterator
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

__all__ = ["exploration_scope", "is_patched", "patch_threading"]


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
_ALIASES = {id(real): (real, patched) for _owner, _name, real, patched in _MODULE_NAMES}
# ``from _thread import allocate_lock`` makes the same locks: up to Python 3.12 it is
# threading.Lock itself, from 3.13 a function of its own (threading.Lock is the lock type).
_ALIASES.setdefault(id(_thread.allocate_lock), (_thread.allocate_lock, LockFactory))

# Executions may run in several OS threads at once: the swap is reference counted.
_SWAP = ModuleSwap(_SETTERS)
_install = _SWAP.install
_uninstall = _SWAP.uninstall


def is_patched() -> bool:
    """Is the threading patch on (some execution or exploration scope is running)?"""
    return _SWAP.active


@contextlib.contextmanager
def exploration_scope() -> Iterator[None]:
    """Keep the module-wide swap in place for many executions.

    Optional: each execution installs and restores everything by itself. Wrapping a whole
    exploration in this scope makes that per-execution work cheap (a reference count) while
    still restoring everything when the scope ends. Between executions only the explorer runs,
    and calls from other OS threads get real objects as always.

    Example::

        with exploration_scope():
            for chooser in choosers:
                Runtime(build, chooser, contexts=[patch_threading]).run()
    """
    _install()
    try:
        yield
    finally:
        _uninstall()


class _ExecutionPatch:
    """The per-execution patch (a class, not a generator: it runs once per execution)."""

    __slots__ = ("rt", "undo")

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.undo: Undo = []

    def __enter__(self) -> None:
        _install()
        try:
            self.undo = swap_project_globals(self.rt, _ALIASES, _SWAP)
        except BaseException:
            self._restore()
            raise

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._restore()

    def _restore(self) -> None:
        restore_globals(self.undo)
        self.undo = []
        mark_all_stopped(self.rt)
        _uninstall()


def patch_threading(rt: Runtime) -> contextlib.AbstractContextManager[None]:
    """Run ``threading``/``queue``/``time.sleep`` code of one execution under ``rt``."""
    return _ExecutionPatch(rt)
