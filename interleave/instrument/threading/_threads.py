"""``threading.Thread``, ``current_thread()``, idents, ``time.sleep`` and ``threading.local``.

``Thread.start`` starts a simulated thread; ``join``, ``is_alive``, ``name``, ``ident`` and
``daemon`` work on it. ``current_thread()``, ``get_ident()`` and ``get_native_id()`` return
stable per-simulated-thread values (derived from the thread's index, so they are the same in
every execution). ``time.sleep`` is a yield point that returns at once, and
``threading.local`` keeps one namespace per simulated thread.
"""

from __future__ import annotations

import threading
from typing import Any

from ..._core import _context
from ..._core._ops import Operation
from ..._core._runtime import Runtime
from ..._core._threads import DONE, SimThread
from .._base import sim
from .._spawn import _JoinWait, join_operation, spawn_operation
from ._originals import (
    REAL_CURRENT_THREAD,
    REAL_GET_IDENT,
    REAL_GET_NATIVE_ID,
    REAL_SLEEP,
    REAL_THREAD_INIT,
    REAL_THREAD_IS_ALIVE,
    REAL_THREAD_JOIN,
    REAL_THREAD_START,
    THREAD,
)
from ._scheduling import internal, is_internal, scheduling

__all__ = [
    "IDENT_BASE",
    "Local",
    "current_thread",
    "get_ident",
    "get_native_id",
    "mark_all_stopped",
    "sleep",
    "thread_init",
    "thread_is_alive",
    "thread_join",
    "thread_start",
]


#: ``get_ident()`` of simulated thread number k is ``IDENT_BASE + k``: stable across executions
#: and distinct from each other (real idents are addresses, rarely this small or this round).
IDENT_BASE = 1 << 48


class _Threads:
    """One execution's ``Thread`` objects and default thread names (a Runtime slot)."""

    __slots__ = ("numbers", "objects")

    def __init__(self) -> None:
        self.objects: dict[int, threading.Thread] = {}  # tid -> the Thread standing for it
        self.numbers: dict[str, int] = {}  # "Thread" or "Thread@creator" -> last number given


def _next_number(rt: Runtime, kind: str) -> int:
    counters = rt.slot(_Threads).numbers
    n = counters.get(kind, 0) + 1
    counters[kind] = n
    return n


class _SimInfo:
    """Links a ``threading.Thread`` object to its simulated thread."""

    __slots__ = ("rt", "thread")

    def __init__(self, rt: Runtime, thread: SimThread) -> None:
        self.rt = rt
        self.thread = thread


def _info(thread: threading.Thread) -> _SimInfo | None:
    info = thread.__dict__.get("_interleave_sim")
    return info if isinstance(info, _SimInfo) else None


def thread_init(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
    """``Thread.__init__``: a default name numbered per execution (and per creating thread)."""
    rt = scheduling()
    with internal(rt):
        REAL_THREAD_INIT(self, *args, **kwargs)
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


def _bind(obj: threading.Thread, rt: Runtime, thread: SimThread) -> None:
    obj.__dict__["_interleave_sim"] = _SimInfo(rt, thread)
    if not is_internal(rt):
        # Its Thread object can be joined: it ends in a step of its own. (Not when
        # threading's own code asks, as Thread.__init__ does for current_thread().)
        rt.observable(thread)
    obj._ident = obj._native_id = IDENT_BASE + thread.tid  # type: ignore[attr-defined]
    obj._started.set()  # type: ignore[attr-defined]  # a real Event (built while internal)
    rt.slot(_Threads).objects[thread.tid] = obj


def thread_start(self: threading.Thread) -> None:
    """``Thread.start``: a simulated thread when called from the execution, else a real one."""
    rt = scheduling()
    building_factory = rt is not None and rt.program is None and rt.current is None
    if rt is None or not (rt.current is not None or building_factory):
        # Another OS thread, or check()/teardown(): a real thread.
        REAL_THREAD_START(self)
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
    _bind(self, rt, child)


def _mark_stopped(obj: threading.Thread) -> None:
    # So that the real join()/is_alive() see a finished thread once the patch is off.
    if hasattr(obj, "_is_stopped"):
        obj._is_stopped = True


def mark_all_stopped(rt: Runtime) -> None:
    """Mark every ``Thread`` object of the execution finished (when its patch is undone)."""
    threads = rt.peek(_Threads)
    if threads is not None:
        for obj in threads.objects.values():
            _mark_stopped(obj)


def thread_join(self: threading.Thread, timeout: float | None = None) -> None:
    """``Thread.join``: on a simulated thread, a wait the scheduler resolves."""
    info = _info(self)
    if info is None:
        REAL_THREAD_JOIN(self, timeout)
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


def thread_is_alive(self: threading.Thread) -> bool:
    """``Thread.is_alive``: on a simulated thread, a read of its state."""
    info = _info(self)
    if info is None:
        return REAL_THREAD_IS_ALIVE(self)
    rt, target = info.rt, info.thread
    if sim() is rt:
        rt.access(Operation("read", ("thread", target.name), "is_alive"))
    return target.state != DONE


def current_thread() -> threading.Thread:
    """``threading.current_thread()``: one ``Thread`` object per simulated thread."""
    rt = sim()
    if rt is None:
        return REAL_CURRENT_THREAD()
    me = rt.current
    assert me is not None
    obj = rt.slot(_Threads).objects.get(me.tid)
    if obj is None:
        # A thread of the scenario itself: a Thread object that stands for it.
        obj = THREAD.__new__(THREAD)
        with internal(rt):
            REAL_THREAD_INIT(obj, name=me.name, daemon=False)
        _bind(obj, rt, me)
    elif not is_internal(rt):
        rt.observable(me)  # made for threading's own code first; now the program has it
    return obj


def get_ident() -> int:
    """``threading.get_ident()``: ``IDENT_BASE + tid`` in a simulated thread."""
    rt = sim()
    if rt is None:
        return REAL_GET_IDENT()
    assert rt.current is not None
    return IDENT_BASE + rt.current.tid


def get_native_id() -> int:
    """``threading.get_native_id()``: ``IDENT_BASE + tid`` in a simulated thread."""
    rt = sim()
    if rt is None:
        return REAL_GET_NATIVE_ID()
    assert rt.current is not None
    return IDENT_BASE + rt.current.tid


def sleep(secs: float) -> None:
    """``time.sleep``: in a simulated thread, a yield point that returns at once."""
    rt = sim()
    if rt is None:
        REAL_SLEEP(secs)
        return
    secs = float(secs)
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    # A yield point touching nothing: other threads may run; no real time passes.
    rt.access(Operation("yield", (), f"sleep({secs:g})"))


class _LocalImpl:
    __slots__ = ("args", "dicts", "kwargs")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args, self.kwargs = args, kwargs
        self.dicts: dict[object, dict[str, Any]] = {}


def _local_key() -> object:
    rt = sim()
    if rt is None:
        return ("os", REAL_GET_IDENT())
    return rt.current


def _local_dict(self: Local) -> None:
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


class Local:
    """``threading.local`` with one namespace per simulated thread (and per OS thread).

    Greenlets share their OS thread's ``threading.local`` storage, so the real one would
    leak values between simulated threads.
    """

    __slots__ = ("__dict__", "__weakref__", "_interleave_impl")

    def __new__(cls, *args: Any, **kwargs: Any) -> Local:
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


Local.__name__ = Local.__qualname__ = "local"
Local.__module__ = "threading"
