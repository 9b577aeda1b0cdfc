"""Unmodified ``threading``/``queue``/``time.sleep`` code under the scheduler.

While one execution runs (scenario factory, threads, ``check`` and ``teardown``), this patch
swaps in scheduled versions of the threading API:

- ``threading.Lock``, ``RLock``, ``Condition``, ``Semaphore``, ``BoundedSemaphore`` and
  ``Event`` return the scheduled primitives of :mod:`interleave.instrument._locks` when called
  from the execution (a simulated thread, the factory, ``check`` or ``teardown``), and the real
  objects when called from anywhere else (another OS thread, the scheduler itself), so pytest,
  greenlet and the rest of the process keep working.
- ``threading.Thread.start`` starts a simulated thread; ``join``, ``is_alive``, ``name``,
  ``ident`` and ``daemon`` work on it. ``current_thread()``, ``get_ident()`` and
  ``get_native_id()`` return stable per-simulated-thread values (derived from the thread's
  index, so they are the same in every execution).
- ``threading.Barrier`` and ``queue.Queue``/``LifoQueue``/``PriorityQueue`` built during the
  execution run on scheduled locks and conditions; ``queue.SimpleQueue`` is replaced by a
  scheduled equivalent. ``threading.local`` keeps one namespace per simulated thread.
- ``time.sleep`` is a yield point and returns at once (no real sleeping).
- Locks, conditions, semaphores and events that modules of the project (see
  :mod:`interleave.instrument._project`) created *before* the exploration (module globals and
  class attributes) are swapped for scheduled stand-ins named ``module.NAME`` for the
  execution, and so are names bound with ``from threading import Lock``.

A blocking call with a timeout may time out: a scheduling choice like any other. Everything is
restored when the execution ends, also on errors and ``KeyboardInterrupt``.

A call this patch cannot schedule (a real socket read, a lock from another OS thread, a C call)
is the watchdog's business (:mod:`interleave._core._watchdog`), which is on with or without
this patch.
"""

from __future__ import annotations

import _thread
import collections
import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from .._core import _context
from .._core._ops import Operation
from .._core._runtime import Runtime
from .._core._threads import DONE, SimThread
from . import _conditions, _events, _locks, _semaphores
from ._base import sim
from ._project import project_of
from ._spawn import _JoinWait, join_operation, spawn_operation

__all__ = [
    "IDENT_BASE",
    "exploration_scope",
    "is_patched",
    "patch_threading",
]

# ---------------------------------------------------------------------------------- originals
# Captured once, at import: the patch always restores exactly these.
_REAL_LOCK = threading.Lock
_REAL_RLOCK = threading.RLock
_REAL_CONDITION = threading.Condition
_REAL_SEMAPHORE = threading.Semaphore
_REAL_BOUNDED_SEMAPHORE = threading.BoundedSemaphore
_REAL_EVENT = threading.Event
_REAL_LOCAL = threading.local
_REAL_GET_IDENT = threading.get_ident
_REAL_GET_NATIVE_ID = threading.get_native_id
_REAL_CURRENT_THREAD = threading.current_thread
_REAL_SLEEP = time.sleep
_REAL_SIMPLE_QUEUE = queue.SimpleQueue
_THREAD = threading.Thread
_REAL_THREAD_INIT = _THREAD.__init__
_REAL_THREAD_START = _THREAD.start
_REAL_THREAD_JOIN = _THREAD.join
_REAL_THREAD_IS_ALIVE = _THREAD.is_alive
_REAL_BARRIER_INIT = threading.Barrier.__init__
_REAL_QUEUE_INIT = queue.Queue.__init__
_REAL_QUEUE_GET = queue.Queue.get
_REAL_QUEUE_PUT = queue.Queue.put
_LOCK_TYPE = type(_REAL_LOCK())
_RLOCK_TYPE = type(_REAL_RLOCK())

#: ``get_ident()`` of simulated thread number k is ``IDENT_BASE + k``: stable across executions
#: and distinct from each other (real idents are addresses, rarely this small or this round).
IDENT_BASE = 1 << 48

# Keys of per-execution state in ``Runtime.scratch``.
_INTERNAL = "threading.internal"  # >0 while interleave builds its own objects
_THREAD_OBJECTS = "threading.objects"  # tid -> threading.Thread standing for it
_DAEMONS = "threading.daemons"  # tids of simulated threads started as daemon threads
_COUNTERS = "threading.counters"  # "Thread" -> next number (for stable default names)


# ---------------------------------------------------------------------------------- context
def _scheduling() -> Runtime | None:
    """The runtime when the caller is part of an execution and should get scheduled objects.

    That is: a simulated thread, or the scenario factory / check / teardown on the OS thread
    that runs the execution. ``None`` for other OS threads, for the scheduler's own code
    (between steps) and while interleave builds the real parts of its own objects.
    """
    rt = _context.building()
    if rt is None or rt.scratch.get(_INTERNAL):
        return None
    if rt.current is None and _context.active() is rt:
        return None  # the scheduler itself, between steps
    return rt


@contextlib.contextmanager
def _internal(rt: Runtime | None) -> Iterator[None]:
    # While interleave builds an object, nested ``threading.X()`` calls (the real parts of our
    # primitives, Thread.__init__'s own Event) must get real objects, not recurse into ours.
    if rt is None:
        yield
        return
    rt.scratch[_INTERNAL] = rt.scratch.get(_INTERNAL, 0) + 1
    try:
        yield
    finally:
        rt.scratch[_INTERNAL] -= 1


def _next_number(rt: Runtime, kind: str) -> int:
    counters: dict[str, int] = rt.scratch.setdefault(_COUNTERS, {})
    n = counters.get(kind, 0) + 1
    counters[kind] = n
    return n


# ---------------------------------------------------------------------------------- factories
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
        rt = _scheduling()
        if rt is None or _built_for_interleave(sys._getframe(1)):
            return cls._real(*args, **kwargs)
        scratch = rt.scratch
        scratch[_INTERNAL] = scratch.get(_INTERNAL, 0) + 1
        try:
            return cls._make(*args, **kwargs)
        finally:
            scratch[_INTERNAL] -= 1

    def __getattr__(cls, name: str) -> Any:
        # ``threading.Semaphore.__init__`` & co. as threading's own code uses them.
        return getattr(cls._real, name)

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls._sched) or (
            isinstance(cls._real, type) and isinstance(obj, cls._real)
        )

    def _make(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._sched(*args, **kwargs)


class _LockFactory(metaclass=_Factory):
    _real = _REAL_LOCK
    _sched = _locks.Lock


class _RLockFactory(metaclass=_Factory):
    _real = _REAL_RLOCK
    _sched = _locks.RLock


class _SemaphoreFactory(metaclass=_Factory):
    _real = _REAL_SEMAPHORE
    __init__ = _REAL_SEMAPHORE.__init__  # threading calls it directly
    _sched = _semaphores.Semaphore


class _BoundedSemaphoreFactory(metaclass=_Factory):
    _real = _REAL_BOUNDED_SEMAPHORE
    __init__ = _REAL_BOUNDED_SEMAPHORE.__init__  # threading calls it directly
    _sched = _semaphores.BoundedSemaphore


class _EventFactory(metaclass=_Factory):
    _real = _REAL_EVENT
    __init__ = _REAL_EVENT.__init__  # threading calls it directly
    _sched = _events.Event


class _ConditionMeta(_Factory):
    def _make(cls, lock: Any = None) -> Any:
        if lock is None or isinstance(lock, _locks.Lock):
            return _conditions.Condition(lock)
        rt = _context.building()
        assert rt is not None
        return _conditions.Condition(_adopt(rt, lock))


class _ConditionFactory(metaclass=_ConditionMeta):
    _real = _REAL_CONDITION
    __init__ = _REAL_CONDITION.__init__  # threading calls it directly
    _sched = _conditions.Condition


# ---------------------------------------------------------------------------------- adoption
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


_ADOPTED = "threading.adopted"  # id(real object) -> (real object, stand-in)


def _adopt(rt: Runtime, real: Any, name: str | None = None) -> Any:
    """The scheduled stand-in of a real primitive for this execution (one per object).

    Outside simulated threads the stand-in delegates to ``real``, so code running elsewhere
    keeps real mutual exclusion.
    """
    adopted: dict[int, tuple[Any, Any]] = rt.scratch.setdefault(_ADOPTED, {})
    entry = adopted.get(id(real))
    if entry is not None:
        return entry[1]
    with _internal(rt):
        stand_in: Any
        if isinstance(real, _LOCK_TYPE):
            stand_in = _AdoptedLock(real, name or rt.next_name("lock"))
        elif isinstance(real, _RLOCK_TYPE):
            stand_in = _AdoptedRLock(real, name or rt.next_name("rlock"))
        elif isinstance(real, _REAL_CONDITION):
            stand_in = _conditions.Condition(_adopt(rt, real._lock), name=name)  # type: ignore[attr-defined]
            stand_in._real = real
        elif isinstance(real, _REAL_BOUNDED_SEMAPHORE):
            stand_in = _semaphores.BoundedSemaphore(real._initial_value, name=name)  # type: ignore[attr-defined]
            stand_in._real = real
        elif isinstance(real, _REAL_SEMAPHORE):
            stand_in = _semaphores.Semaphore(real._value, name=name)
            stand_in._real = real
        elif isinstance(real, _REAL_EVENT):
            stand_in = _events.Event(name=name)
            stand_in._real = real
        else:  # pragma: no cover - callers check _is_adoptable first
            raise TypeError(f"cannot adopt {real!r}")
    adopted[id(real)] = (real, stand_in)
    return stand_in


def _is_adoptable(value: object) -> bool:
    return isinstance(
        value, _LOCK_TYPE | _RLOCK_TYPE | _REAL_CONDITION | _REAL_SEMAPHORE | _REAL_EVENT
    )


# ---------------------------------------------------------------------------------- threads
class _SimInfo:
    """Links a ``threading.Thread`` object to its simulated thread."""

    __slots__ = ("rt", "thread")

    def __init__(self, rt: Runtime, thread: SimThread) -> None:
        self.rt = rt
        self.thread = thread


def _info(thread: threading.Thread) -> _SimInfo | None:
    info = thread.__dict__.get("_interleave_sim")
    return info if isinstance(info, _SimInfo) else None


def _thread_init(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
    rt = _scheduling()
    with _internal(rt):
        _REAL_THREAD_INIT(self, *args, **kwargs)
    if rt is not None:
        given = kwargs.get("name", args[2] if len(args) > 2 else None)
        if not given:
            # threading numbers unnamed threads from a process-wide counter, so names would
            # change from one execution to the next: number them per execution instead.
            # One made by a running thread is numbered per thread, so that the name does not
            # depend on the order in which threads run (see Runtime.next_name).
            _, sep, rest = self._name.partition(" ")  # type: ignore[attr-defined]
            creator = rt.current
            key = "Thread" if creator is None else f"Thread@{creator.name}"
            suffix = "" if creator is None else f"@{creator.name}"
            self._name = f"Thread-{_next_number(rt, key)}{suffix}{sep}{rest}"  # type: ignore[attr-defined]


def _thread_objects(rt: Runtime) -> dict[int, threading.Thread]:
    objects: dict[int, threading.Thread] = rt.scratch.setdefault(_THREAD_OBJECTS, {})
    return objects


def _bind(obj: threading.Thread, rt: Runtime, thread: SimThread) -> None:
    obj.__dict__["_interleave_sim"] = _SimInfo(rt, thread)
    if not rt.scratch.get(_INTERNAL):
        # Its Thread object can be joined: it ends in a step of its own. (Not when
        # threading's own code asks, as Thread.__init__ does for current_thread().)
        rt.observable(thread)
    obj._ident = obj._native_id = IDENT_BASE + thread.tid  # type: ignore[attr-defined]
    obj._started.set()  # type: ignore[attr-defined]  # a real Event (built while internal)
    _thread_objects(rt)[thread.tid] = obj


def _thread_start(self: threading.Thread) -> None:
    rt = _scheduling()
    building_factory = rt is not None and rt.program is None and rt.current is None
    if rt is None or not (rt.current is not None or building_factory):
        # Another OS thread, or check()/teardown(): a real thread.
        _REAL_THREAD_START(self)
        return
    if not self._initialized:  # type: ignore[attr-defined]
        raise RuntimeError("thread.__init__() not called")
    if self._started.is_set():  # type: ignore[attr-defined]
        raise RuntimeError("threads can only be started once")
    me = rt.current
    if me is not None:
        rt.access(spawn_operation(me, "start"))

    def run() -> None:
        try:
            self.run()
        finally:
            _mark_stopped(self)

    run.__name__ = "run"
    child = rt.new_thread(run, (), self.name)
    if self.daemon:
        # A process ends when only daemon threads are left: the runtime ends the execution
        # there instead of reporting a daemon blocked forever as a deadlock.
        rt.mark_daemon(child)
        rt.scratch.setdefault(_DAEMONS, set()).add(child.tid)
    _bind(self, rt, child)


def _mark_stopped(obj: threading.Thread) -> None:
    # So that the real join()/is_alive() see a finished thread once the patch is off.
    if hasattr(obj, "_is_stopped"):
        obj._is_stopped = True


def _thread_join(self: threading.Thread, timeout: float | None = None) -> None:
    info = _info(self)
    if info is None:
        _REAL_THREAD_JOIN(self, timeout)
        return
    rt, target = info.rt, info.thread
    if sim() is not rt:
        if target.state != DONE and rt.program is None and _context.building() is rt:
            raise RuntimeError(
                f"the scenario factory cannot join {target.name!r}: simulated threads only run "
                "once the factory has returned. Join it from one of the scenario's threads"
            )
        return  # after its execution a simulated thread has finished or been unwound
    if rt.current is target:
        raise RuntimeError("cannot join current thread")
    rt.block(join_operation(target), _JoinWait(target, timeout is not None))


def _thread_is_alive(self: threading.Thread) -> bool:
    info = _info(self)
    if info is None:
        return _REAL_THREAD_IS_ALIVE(self)
    rt, target = info.rt, info.thread
    if sim() is rt:
        rt.access(Operation("read", ("thread", target.name), "is_alive"))
    return target.state != DONE


def _current_thread() -> threading.Thread:
    rt = sim()
    if rt is None:
        return _REAL_CURRENT_THREAD()
    me = rt.current
    assert me is not None
    objects = _thread_objects(rt)
    obj = objects.get(me.tid)
    if obj is None:
        # A thread of the scenario itself: a Thread object that stands for it.
        obj = _THREAD.__new__(_THREAD)
        with _internal(rt):
            _REAL_THREAD_INIT(obj, name=me.name, daemon=False)
        _bind(obj, rt, me)
    elif not rt.scratch.get(_INTERNAL):
        rt.observable(me)  # made for threading's own code first; now the program has it
    return obj


def _get_ident() -> int:
    rt = sim()
    if rt is None:
        return _REAL_GET_IDENT()
    assert rt.current is not None
    return IDENT_BASE + rt.current.tid


def _get_native_id() -> int:
    rt = sim()
    if rt is None:
        return _REAL_GET_NATIVE_ID()
    assert rt.current is not None
    return IDENT_BASE + rt.current.tid


def _sleep(secs: float) -> None:
    rt = sim()
    if rt is None:
        _REAL_SLEEP(secs)
        return
    secs = float(secs)
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    # A yield point touching nothing: other threads may run; no real time passes.
    rt.access(Operation("yield", (), f"sleep({secs:g})"))


# ---------------------------------------------------------------------------------- local
class _LocalImpl:
    __slots__ = ("args", "dicts", "kwargs")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args, self.kwargs = args, kwargs
        self.dicts: dict[object, dict[str, Any]] = {}


def _local_key() -> object:
    rt = sim()
    if rt is None:
        return ("os", _REAL_GET_IDENT())
    return rt.current


def _local_dict(self: _Local) -> None:
    impl: _LocalImpl = object.__getattribute__(self, "_interleave_impl")
    key = _local_key()
    d = impl.dicts.get(key)
    if d is None:
        d = impl.dicts[key] = {}
        object.__setattr__(self, "__dict__", d)
        init = type(self).__init__
        if init is not object.__init__:
            init(self, *impl.args, **impl.kwargs)  # first use in this thread, as threading does
        return
    object.__setattr__(self, "__dict__", d)


_READ_ONLY_DICT = "{!r} object attribute '__dict__' is read-only"


class _Local:
    """``threading.local`` with one namespace per simulated thread (and per OS thread).

    Greenlets share their OS thread's ``threading.local`` storage, so the real one would
    leak values between simulated threads.
    """

    __slots__ = ("__dict__", "__weakref__", "_interleave_impl")

    def __new__(cls, *args: Any, **kwargs: Any) -> _Local:
        if (args or kwargs) and cls.__init__ is object.__init__:
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        impl = _LocalImpl(args, kwargs)
        object.__setattr__(self, "_interleave_impl", impl)
        # The creating thread's namespace exists already, so __init__ runs once for it.
        d = impl.dicts[_local_key()] = {}
        object.__setattr__(self, "__dict__", d)
        return self

    def __getattribute__(self, name: str) -> Any:
        if name not in ("__dict__", "_interleave_impl"):
            _local_dict(self)
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "__dict__":
            raise AttributeError(_READ_ONLY_DICT.format(type(self).__name__))
        _local_dict(self)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name == "__dict__":
            raise AttributeError(_READ_ONLY_DICT.format(type(self).__name__))
        _local_dict(self)
        object.__delattr__(self, name)


_Local.__name__ = _Local.__qualname__ = "local"
_Local.__module__ = "threading"


# ---------------------------------------------------------------------------------- barrier
def _barrier_init(
    self: threading.Barrier, parties: int, action: Any = None, timeout: Any = None
) -> None:
    rt = _scheduling()
    with _internal(rt):
        _REAL_BARRIER_INIT(self, parties, action, timeout)
        if rt is not None:
            name = rt.next_name("barrier")
            lock = _locks.Lock(name=f"{name}.lock")
            self._cond = _conditions.Condition(lock, name=name)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------- queues
def _queue_init(self: queue.Queue[Any], maxsize: int = 0) -> None:
    rt = _scheduling()
    with _internal(rt):
        _REAL_QUEUE_INIT(self, maxsize)
        if rt is not None:
            name = rt.next_name("queue")
            self.mutex = _locks.Lock(name=f"{name}.mutex")  # type: ignore[assignment]
            self.not_empty = _conditions.Condition(self.mutex, name=f"{name}.not_empty")  # type: ignore[arg-type,assignment]
            self.not_full = _conditions.Condition(self.mutex, name=f"{name}.not_full")  # type: ignore[arg-type,assignment]
            self.all_tasks_done = _conditions.Condition(self.mutex, name=f"{name}.all_tasks_done")  # type: ignore[arg-type,assignment]


def _is_scheduled_queue(q: queue.Queue[Any]) -> bool:
    return isinstance(q.__dict__.get("mutex"), _locks.Lock) and sim() is not None


def _queue_get(self: queue.Queue[Any], block: bool = True, timeout: float | None = None) -> Any:
    if not _is_scheduled_queue(self):
        return _REAL_QUEUE_GET(self, block, timeout)
    # queue.Queue.get measures its timeout with the real clock; a timed-out wait here is a
    # scheduling choice, so it must give up at once (else it would spin until real time passes).
    if block and timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    with self.not_empty:
        while not self._qsize():
            if getattr(self, "is_shutdown", False):
                raise queue.ShutDown  # type: ignore[attr-defined]  # pragma: no cover - 3.13+
            if not block:
                raise queue.Empty
            if not self.not_empty.wait(timeout) and timeout is not None and not self._qsize():
                raise queue.Empty
        item = self._get()
        self.not_full.notify()
        return item


def _queue_put(
    self: queue.Queue[Any], item: Any, block: bool = True, timeout: float | None = None
) -> None:
    if not _is_scheduled_queue(self):
        _REAL_QUEUE_PUT(self, item, block, timeout)
        return
    if block and timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    with self.not_full:
        if self.maxsize > 0:
            while self._qsize() >= self.maxsize:
                if not block:
                    raise queue.Full
                if (
                    not self.not_full.wait(timeout)
                    and timeout is not None
                    and self._qsize() >= self.maxsize
                ):
                    raise queue.Full
        self._put(item)
        self.unfinished_tasks += 1
        self.not_empty.notify()


class _SimpleQueue:
    """A scheduled ``queue.SimpleQueue`` (the real one is written in C)."""

    _items: collections.deque[Any]
    _cond: _conditions.Condition

    def __new__(cls) -> Any:
        rt = _scheduling()
        if rt is None:
            return _REAL_SIMPLE_QUEUE()
        self = object.__new__(cls)
        with _internal(rt):
            name = rt.next_name("simple-queue")
            self._items = collections.deque()
            self._cond = _conditions.Condition(_locks.Lock(name=f"{name}.mutex"), name=name)
        return self

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Put ``item``; never blocks (the arguments exist for compatibility)."""
        with self._cond:
            self._items.append(item)
            self._cond.notify()

    def put_nowait(self, item: Any) -> None:
        """Same as ``put(item)``."""
        self.put(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Remove and return an item, waiting for one unless ``block=False``/timeout."""
        if block and timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        with self._cond:
            while not self._items:
                if not block:
                    raise queue.Empty
                if not self._cond.wait(timeout) and timeout is not None and not self._items:
                    raise queue.Empty
            return self._items.popleft()

    def get_nowait(self) -> Any:
        """Same as ``get(False)``."""
        return self.get(False)

    def empty(self) -> bool:
        """Is the queue empty? (not reliable, as in the real one)."""
        with self._cond:
            return not self._items

    def qsize(self) -> int:
        """The approximate size."""
        with self._cond:
            return len(self._items)


_SimpleQueue.__name__ = _SimpleQueue.__qualname__ = "SimpleQueue"
_SimpleQueue.__module__ = "queue"


# ---------------------------------------------------------------------------------- project
_INTERLEAVE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# Functions and classes that ``from threading import X`` may have bound in a module before
# the exploration, mapped to their patched counterparts.
_ALIASES: dict[int, tuple[object, object]] = {}


def _init_aliases() -> None:
    pairs: list[tuple[object, object]] = [
        (_REAL_LOCK, _LockFactory),
        (_REAL_RLOCK, _RLockFactory),
        (_REAL_CONDITION, _ConditionFactory),
        (_REAL_SEMAPHORE, _SemaphoreFactory),
        (_REAL_BOUNDED_SEMAPHORE, _BoundedSemaphoreFactory),
        (_REAL_EVENT, _EventFactory),
        (_REAL_LOCAL, _Local),
        (_REAL_GET_IDENT, _get_ident),
        (_REAL_GET_NATIVE_ID, _get_native_id),
        (_REAL_CURRENT_THREAD, _current_thread),
        (_REAL_SLEEP, _sleep),
        (_REAL_SIMPLE_QUEUE, _SimpleQueue),
    ]
    for real, patched in pairs:
        _ALIASES[id(real)] = (real, patched)


_init_aliases()


# module name -> (size of its namespace when scanned, names that may need a swap, and
# (class name, attribute) pairs of its classes that hold primitives). Rescanned when the
# namespace grows or shrinks; a swap re-checks each candidate, so stale entries are harmless.
_candidates: dict[str, tuple[int, list[str], list[tuple[str, str]]]] = {}


def _scan(module: ModuleType) -> tuple[int, list[str], list[tuple[str, str]]]:
    modname = module.__name__
    namespace = vars(module)
    entry = _candidates.get(modname)
    if entry is not None and entry[0] == len(namespace):
        return entry
    names: list[str] = []
    members: list[tuple[str, str]] = []
    for name, value in list(namespace.items()):
        if isinstance(value, type) and value.__module__ == modname:
            members.extend((name, a) for a, m in list(vars(value).items()) if _is_adoptable(m))
        elif id(value) in _ALIASES or _is_adoptable(value):
            names.append(name)
    entry = (len(namespace), names, members)
    _candidates[modname] = entry
    return entry


def _swap_project_globals(rt: Runtime) -> list[tuple[object, str, object]]:
    """Replace pre-existing primitives and ``from threading import X`` names in project
    modules (globals, and attributes of classes defined there); return what to restore."""
    undo: list[tuple[object, str, object]] = []
    for module in project_of(rt).modules():
        modname = module.__name__
        namespace = vars(module)
        _, names, members = _scan(module)
        for name in names:
            value = namespace.get(name)
            alias = _ALIASES.get(id(value))
            if alias is not None and alias[0] is value:
                undo.append((module, name, value))
                namespace[name] = alias[1]
            elif _is_adoptable(value):
                undo.append((module, name, value))
                namespace[name] = _adopt(rt, value, f"{modname}.{name}")
        for cls_name, attr in members:
            cls = namespace.get(cls_name)
            member = vars(cls).get(attr) if isinstance(cls, type) else None
            if member is not None and _is_adoptable(member):
                undo.append((cls, attr, member))
                setattr(cls, attr, _adopt(rt, member, f"{modname}.{cls_name}.{attr}"))
    return undo


# ---------------------------------------------------------------------------------- the patch
_SETTERS: list[tuple[Any, str, object, object]] = [
    (threading, "Lock", _REAL_LOCK, _LockFactory),
    (threading, "RLock", _REAL_RLOCK, _RLockFactory),
    (threading, "Condition", _REAL_CONDITION, _ConditionFactory),
    (threading, "Semaphore", _REAL_SEMAPHORE, _SemaphoreFactory),
    (threading, "BoundedSemaphore", _REAL_BOUNDED_SEMAPHORE, _BoundedSemaphoreFactory),
    (threading, "Event", _REAL_EVENT, _EventFactory),
    (threading, "local", _REAL_LOCAL, _Local),
    (threading, "get_ident", _REAL_GET_IDENT, _get_ident),
    (threading, "get_native_id", _REAL_GET_NATIVE_ID, _get_native_id),
    (threading, "current_thread", _REAL_CURRENT_THREAD, _current_thread),
    (time, "sleep", _REAL_SLEEP, _sleep),
    (queue, "SimpleQueue", _REAL_SIMPLE_QUEUE, _SimpleQueue),
    (_THREAD, "__init__", _REAL_THREAD_INIT, _thread_init),
    (_THREAD, "start", _REAL_THREAD_START, _thread_start),
    (_THREAD, "join", _REAL_THREAD_JOIN, _thread_join),
    (_THREAD, "is_alive", _REAL_THREAD_IS_ALIVE, _thread_is_alive),
    (threading.Barrier, "__init__", _REAL_BARRIER_INIT, _barrier_init),
    (queue.Queue, "__init__", _REAL_QUEUE_INIT, _queue_init),
    (queue.Queue, "get", _REAL_QUEUE_GET, _queue_get),
    (queue.Queue, "put", _REAL_QUEUE_PUT, _queue_put),
]

# Executions may run in several OS threads at once: the module-wide swap is reference counted.
_install_lock = _thread.allocate_lock()
_installed = 0


def _install() -> None:
    global _installed
    with _install_lock:
        _installed += 1
        if _installed == 1:
            for owner, name, _real, patched in _SETTERS:
                setattr(owner, name, patched)


def _uninstall() -> None:
    global _installed
    with _install_lock:
        _installed -= 1
        if _installed == 0:
            for owner, name, real, _patched in _SETTERS:
                setattr(owner, name, real)


def is_patched() -> bool:
    """Is the threading patch on (some execution or exploration scope is running)?"""
    return _installed > 0


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
        self.undo: list[tuple[object, str, object]] = []

    def __enter__(self) -> None:
        _install()
        try:
            self.undo = _swap_project_globals(self.rt)
        except BaseException:
            self._restore()
            raise

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._restore()

    def _restore(self) -> None:
        for owner, name, value in reversed(self.undo):
            if isinstance(owner, ModuleType):
                vars(owner)[name] = value
            else:
                setattr(owner, name, value)
        self.undo = []
        for obj in _thread_objects(self.rt).values():
            _mark_stopped(obj)
        _uninstall()


def patch_threading(rt: Runtime) -> contextlib.AbstractContextManager[None]:
    """Run ``threading``/``queue``/``time.sleep`` code of one execution under ``rt``."""
    return _ExecutionPatch(rt)
