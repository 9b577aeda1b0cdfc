"""Install and remove the asyncio patch: process-wide (reference counted), once per exploration.

While it is on, ``asyncio.Lock`` & co. are factories that return the scheduled primitive when
called from an execution (a task, or the scenario factory) and asyncio's own anywhere else;
``asyncio.sleep``, ``gather``, ``create_task`` … are stand-ins that do asyncio's work when
called from anything but an execution's task. The names a project module bound with ``from
asyncio import Lock`` & co. are swapped too, by the first execution that finds them, and stay
swapped with the rest (:meth:`ModuleSwap.bind`). Each execution runs ``aiosqlite`` (if the
program imported it) on scheduled connections, and puts back the OS thread's running loop at
its end: that part is in :mod:`._execution` (compiled).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .._swap import ModuleSwap
from ..threading._scheduling import internal, scheduling
from . import _functions, _locks, _queues
from ._originals import MODULES, REAL

__all__ = ["ALIASES", "SWAP", "exploration_scope", "is_patched"]


class _Factory(type):
    """Metaclass of the stand-ins for ``asyncio.Lock`` & co.: a scheduled object when called
    from an execution, asyncio's own elsewhere; ``isinstance`` accepts both."""

    _real: Any
    _sched: Any

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        rt = scheduling()
        if rt is None:
            return cls._real(*args, **kwargs)
        with internal(rt):  # the threading primitives inside are interleave's own
            return cls._sched(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._real, name)

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls._sched | cls._real)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls._sched | cls._real)


def _factory(name: str, sched: type) -> Any:
    return _Factory(name, (), {"_real": REAL[name], "_sched": sched, "__module__": "asyncio"})


_STAND_INS: dict[str, object] = {
    "Lock": _factory("Lock", _locks.Lock),
    "Event": _factory("Event", _locks.Event),
    "Condition": _factory("Condition", _locks.Condition),
    "Semaphore": _factory("Semaphore", _locks.Semaphore),
    "BoundedSemaphore": _factory("BoundedSemaphore", _locks.BoundedSemaphore),
    "Queue": _factory("Queue", _queues.Queue),
    "LifoQueue": _factory("LifoQueue", _queues.LifoQueue),
    "PriorityQueue": _factory("PriorityQueue", _queues.PriorityQueue),
    "TaskGroup": _factory("TaskGroup", _functions.TaskGroup),
    "sleep": _functions.sleep,
    "create_task": _functions.create_task,
    "current_task": _functions.current_task,
    "all_tasks": _functions.all_tasks,
    "gather": _functions.gather,
    "wait_for": _functions.wait_for,
    "timeout": _functions.timeout,
    "timeout_at": _functions.timeout_at,
    "wait": _functions.wait,
    "as_completed": _functions.as_completed,
    "shield": _functions.shield,
    "to_thread": _functions.to_thread,
}

#: (module, attribute, real, stand-in): every attribute the module-wide swap sets.
_SETTERS = [
    (module, name, REAL[name], stand_in)
    for module in MODULES
    for name, stand_in in _STAND_INS.items()
    if getattr(module, name, None) is REAL[name]
]
ALIASES = {id(REAL[name]): (REAL[name], stand_in) for name, stand_in in _STAND_INS.items()}

# Executions may run in several OS threads at once: the swap is reference counted.
SWAP = ModuleSwap(_SETTERS)


def is_patched() -> bool:
    """Is the asyncio patch on (some execution or exploration scope is running)?"""
    return SWAP.active


@contextlib.contextmanager
def exploration_scope() -> Iterator[None]:
    """Keep the module-wide asyncio swap in place for many executions (as the threading
    patch's scope does): each execution then only counts itself in and out. Calls from
    anything but an execution's task get asyncio's own objects as always."""
    SWAP.install()
    try:
        yield
    finally:
        SWAP.uninstall()
