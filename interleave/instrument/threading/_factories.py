"""The stand-ins for ``threading.Lock`` & co., and adoption of locks made before the execution.

While the patch is on, ``threading.Lock``, ``RLock``, ``Condition``, ``Semaphore``,
``BoundedSemaphore`` and ``Event`` are the factories defined here: called from an execution
they return interleave's scheduled primitives, called from anywhere else the real ones.
A real primitive that project code made before the exploration (a module global, a class
attribute) is *adopted*: given one scheduled stand-in per execution that keeps the real object
for callers outside the simulated threads.
"""

from __future__ import annotations

import sys
from typing import Any

from ..._core import _context
from ..._core._runtime import Runtime
from .. import _conditions, _events, _locks, _semaphores
from ._originals import (
    LOCK_TYPE,
    REAL_BOUNDED_SEMAPHORE,
    REAL_CONDITION,
    REAL_EVENT,
    REAL_LOCK,
    REAL_RLOCK,
    REAL_SEMAPHORE,
    RLOCK_TYPE,
)
from ._scheduling import Internal, internal, scheduling

__all__ = [
    "BoundedSemaphoreFactory",
    "ConditionFactory",
    "EventFactory",
    "LockFactory",
    "RLockFactory",
    "SemaphoreFactory",
    "adopt",
    "is_adoptable",
]


def _built_for_interleave(frame: Any) -> bool:
    """Is ``threading``'s own code building this for one of interleave's objects?

    The real Semaphore, Event or Thread that interleave's shims wrap build an inner
    ``Condition(Lock())`` inside ``threading``: those stay real (they are not the program's
    locks, and scheduling them would use up the program's auto names). The same internals built
    for the program (a ``threading.Timer``'s event) are scheduled.
    """
    if frame.f_globals.get("__name__") != "threading":
        return False
    caller = frame.f_back
    while caller is not None and caller.f_globals.get("__name__") == "threading":
        caller = caller.f_back
    return caller is not None and str(caller.f_globals.get("__name__", "")).startswith(
        "interleave."
    )


class _Factory(type):
    """Metaclass of the stand-ins for ``threading.Lock`` & co. while the patch is on.

    Calling the stand-in returns a scheduled object inside an execution and a real one
    elsewhere; ``isinstance`` accepts both, so type checks in user code keep working.
    """

    _real: Any
    _sched: Any

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        rt = scheduling()
        if rt is None or _built_for_interleave(sys._getframe(1)):
            return cls._real(*args, **kwargs)
        # internal(rt), inlined: this runs for every primitive the program makes.
        state = rt.slot(Internal)
        state.depth += 1
        try:
            return cls._make(*args, **kwargs)
        finally:
            state.depth -= 1

    def __getattr__(cls, name: str) -> Any:
        # ``threading.Semaphore.__init__`` & co. as threading's own code uses them.
        return getattr(cls._real, name)

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls._sched) or (
            isinstance(cls._real, type) and isinstance(obj, cls._real)
        )

    def _make(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._sched(*args, **kwargs)


class LockFactory(metaclass=_Factory):
    _real = REAL_LOCK
    _sched = _locks.Lock


class RLockFactory(metaclass=_Factory):
    _real = REAL_RLOCK
    _sched = _locks.RLock


class SemaphoreFactory(metaclass=_Factory):
    _real = REAL_SEMAPHORE
    __init__ = REAL_SEMAPHORE.__init__  # threading calls it directly
    _sched = _semaphores.Semaphore


class BoundedSemaphoreFactory(metaclass=_Factory):
    _real = REAL_BOUNDED_SEMAPHORE
    __init__ = REAL_BOUNDED_SEMAPHORE.__init__  # threading calls it directly
    _sched = _semaphores.BoundedSemaphore


class EventFactory(metaclass=_Factory):
    _real = REAL_EVENT
    __init__ = REAL_EVENT.__init__  # threading calls it directly
    _sched = _events.Event


class _ConditionMeta(_Factory):
    def _make(cls, lock: Any = None) -> Any:
        if lock is None or isinstance(lock, _locks.Lock):
            return _conditions.Condition(lock)
        rt = _context.building()
        assert rt is not None
        return _conditions.Condition(adopt(rt, lock))


class ConditionFactory(metaclass=_ConditionMeta):
    _real = REAL_CONDITION
    __init__ = REAL_CONDITION.__init__  # threading calls it directly
    _sched = _conditions.Condition


class _AdoptedLock(_locks.Lock):
    """A scheduled stand-in for a real lock created before the exploration."""

    __slots__ = ("_adopted",)

    def __init__(self, real: Any, name: str) -> None:
        self._adopted = real
        super().__init__(name=name)

    def _make_real(self) -> Any:
        return self._adopted


class _AdoptedRLock(_locks.RLock):
    __slots__ = ("_adopted",)

    def __init__(self, real: Any, name: str) -> None:
        self._adopted = real
        super().__init__(name=name)

    def _make_real(self) -> Any:
        return self._adopted


class _Adopted:
    """One execution's stand-ins for real primitives (a Runtime slot)."""

    __slots__ = ("stand_ins",)

    def __init__(self) -> None:
        # id(real) -> (real, stand-in): holding the real object keeps its id from being reused
        # by another object while the execution runs.
        self.stand_ins: dict[int, tuple[Any, Any]] = {}


def adopt(rt: Runtime, real: Any, name: str | None = None) -> Any:
    """The scheduled stand-in of a real primitive for this execution (one per object).

    Outside simulated threads the stand-in delegates to ``real``, so code running elsewhere
    keeps real mutual exclusion.
    """
    adopted = rt.slot(_Adopted).stand_ins
    entry = adopted.get(id(real))
    if entry is not None:
        return entry[1]
    with internal(rt):
        stand_in: Any
        if isinstance(real, LOCK_TYPE):
            stand_in = _AdoptedLock(real, name or rt.next_name("lock"))
        elif isinstance(real, RLOCK_TYPE):
            stand_in = _AdoptedRLock(real, name or rt.next_name("rlock"))
        elif isinstance(real, REAL_CONDITION):
            stand_in = _conditions.Condition(adopt(rt, real._lock), name=name)  # type: ignore[attr-defined]
            stand_in._real = real
        elif isinstance(real, REAL_BOUNDED_SEMAPHORE):
            stand_in = _semaphores.BoundedSemaphore(real._initial_value, name=name)  # type: ignore[attr-defined]
            stand_in._real = real
        elif isinstance(real, REAL_SEMAPHORE):
            stand_in = _semaphores.Semaphore(real._value, name=name)
            stand_in._real = real
        elif isinstance(real, REAL_EVENT):
            stand_in = _events.Event(name=name)
            stand_in._real = real
        else:  # pragma: no cover - callers check is_adoptable first
            raise TypeError(f"cannot adopt {real!r}")
    adopted[id(real)] = (real, stand_in)
    return stand_in


def is_adoptable(value: object) -> bool:
    """Is ``value`` a real primitive that :func:`adopt` can stand in for?"""
    return isinstance(value, LOCK_TYPE | RLOCK_TYPE | REAL_CONDITION | REAL_SEMAPHORE | REAL_EVENT)
