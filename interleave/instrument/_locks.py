"""Locks, semaphores, conditions and events with the ``threading`` API.

Inside an exploration every operation is a yield point and blocking is a scheduling decision
(a thread waiting for a held lock is simply not runnable). Outside an exploration each object
delegates to the real ``threading`` primitive, so it can live in production code.

Timeouts: a blocking call with a timeout may time out whenever it would otherwise wait; the
explorer tries both outcomes.
"""

from __future__ import annotations

import functools
import threading
from types import TracebackType
from typing import Any, NamedTuple

from .._core import _context
from .._core._findings import Hold
from .._core._ops import GIVE, READ, TAKE, WRITE, Location, Operation, Resource
from .._core._runtime import Runtime
from .._core._threads import SimThread, Wait
from ._base import auto_name, sim

__all__ = ["BoundedSemaphore", "Condition", "Event", "Lock", "RLock", "Semaphore"]

# The real primitives, bound at import: while threading is patched for an execution,
# ``threading.Lock`` & co. are interleave's shims, which must still build on the real ones.
_RealLock = threading.Lock
_RealRLock = threading.RLock
_RealSemaphore = threading.Semaphore
_RealBoundedSemaphore = threading.BoundedSemaphore
_RealCondition = threading.Condition
_RealEvent = threading.Event


def _finished(rt_of_object: Runtime | None) -> bool:
    """Is the caller the check() or teardown() of the execution that last used the object?

    They run after the threads, outside any simulated thread, and must see the state the
    execution left (not the real primitive, which the simulated threads never touched).
    """
    rt = _context.building()
    return rt is not None and rt is rt_of_object and rt.current is None


def _validate_acquire(blocking: bool, timeout: float | None) -> bool:
    """Return whether the call may time out; mirror threading's argument errors."""
    if timeout is None:
        timeout = -1
    if not blocking and timeout != -1:
        raise ValueError("can't specify a timeout for a non-blocking call")
    if timeout < 0 and timeout != -1:
        raise ValueError("timeout value must be a non-negative number")
    return timeout >= 0


def _validate_sem_acquire(blocking: bool, timeout: float | None) -> bool:
    """Like :func:`_validate_acquire`, with ``threading.Semaphore``'s rules: ``None`` means no
    timeout, and a negative timeout is allowed (it times out at once when no permit is free)."""
    if not blocking and timeout is not None:
        raise ValueError("can't specify timeout for non-blocking acquire")
    return timeout is not None


#: Stands for the scenario factory as the holder of a lock it left acquired.
_SETUP = SimThread(-1, "scenario setup", lambda: None, ())


def _op(kind: str, resource: Resource, label: str, mode: int) -> Operation:
    return Operation(kind, resource, label, footprint=((resource, mode),))


class _LockOps(NamedTuple):
    """What a lock's operations resolve to (shared by every lock of the same name)."""

    took: Operation  # acquire that took the free lock
    took_timed: Operation
    took_try: Operation
    reenter: Operation  # RLock owner acquiring again: touches nothing others see
    timed_out: Operation  # a timed acquire that found the lock held: it only read it
    busy: Operation  # a try-acquire that found the lock held
    freed: Operation  # release that frees the lock
    nested: Operation  # inner RLock release: still held, nothing others see changes


@functools.lru_cache(maxsize=4096)
def _lock_ops(resource: Resource) -> _LockOps:
    return _LockOps(
        took=_op("acquire", resource, "acquire", TAKE),
        took_timed=_op("acquire", resource, "acquire (timed)", TAKE),
        took_try=_op("acquire", resource, "try-acquire", TAKE),
        reenter=Operation("reenter", resource, "acquire (re-entry)"),
        timed_out=_op("acquire-failed", resource, "acquire (timed out)", READ),
        busy=_op("acquire-failed", resource, "try-acquire (busy)", READ),
        freed=_op("release", resource, "release", GIVE),
        nested=Operation("release-nested", resource, "release (still held)"),
    )


class _Releasable:
    """``with obj:`` releases on exit; the repr names the object (Lock, Semaphore)."""

    __slots__ = ()
    name: str

    def release(self) -> None:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class _Owned:
    """Owner bookkeeping shared by Lock and RLock (per runtime, so stale state never leaks)."""

    __slots__ = ("_count", "_owner", "_rt", "_step", "_where")

    def _init_owner(self) -> None:
        self._owner: SimThread | None = None
        self._rt: Runtime | None = None
        self._count = 0
        self._step: int | None = None
        self._where: Location | None = None

    def _real_locked(self) -> bool:
        return False

    def _sync(self, rt: Runtime) -> None:
        # First use in this execution: start free, or held by the scenario's setup when the
        # factory (run outside the scheduler) left the real lock acquired.
        self._rt, self._step, self._where = rt, None, None
        if self._real_locked():
            self._owner, self._count = _SETUP, 1
        else:
            self._owner, self._count = None, 0

    def _holder(self, rt: Runtime) -> SimThread | None:
        if self._rt is not rt:
            self._sync(rt)
        return self._owner

    def _take(self, rt: Runtime, thread: SimThread) -> None:
        if self._rt is not rt:
            self._sync(rt)
        self._owner = thread
        self._count += 1
        if self._count == 1:
            self._step, self._where = rt.step_index, thread.location

    def _drop(self) -> None:
        self._count -= 1
        if self._count <= 0:
            self._owner = None
            self._count = 0


class _LockWait(Wait):
    __slots__ = ("lock", "rt", "thread")

    def __init__(self, lock: Lock | RLock, rt: Runtime, thread: SimThread, timeout: bool):
        super().__init__(lock._resource, timeout=timeout)
        self.lock, self.rt, self.thread = lock, rt, thread

    def is_ready(self) -> bool:
        owner = self.lock._holder(self.rt)
        return owner is None or (self.lock._reentrant and owner is self.thread)

    def holders(self) -> list[Hold]:
        owner = self.lock._holder(self.rt)
        if owner is None:
            return []
        return [
            Hold(
                thread=owner.name,
                resource=self.describe(),
                step=self.lock._step,
                location=self.lock._where,
            )
        ]


class Lock(_Owned, _Releasable):
    """A mutual-exclusion lock with the ``threading.Lock`` API.

    Example::

        lock = interleave.Lock(name="accounts")
        with lock:
            balance.set(balance.get() - amount)
    """

    __slots__ = (
        "_acquire_op",
        "_ops",
        "_real",
        "_release_op",
        "_resource",
        "_timed_op",
        "_try_op",
        "name",
    )
    _reentrant = False
    _kind = "lock"

    def __init__(self, *, name: str | None = None) -> None:
        self.name = auto_name(self._kind, name)
        resource = self._resource = ("lock", self.name)
        ops = self._ops = _lock_ops(resource)
        self._acquire_op = Operation(
            "acquire", resource, "acquire", resolve=self._resolve_wait, potential=ops.took
        )
        self._timed_op = Operation(
            "acquire", resource, "acquire (timed)", resolve=self._resolve_timed, potential=ops.took
        )
        self._try_op = Operation(
            "acquire", resource, "try-acquire", resolve=self._resolve_try, potential=ops.took
        )
        self._release_op = Operation(
            "release", resource, "release", resolve=self._resolve_release, potential=ops.freed
        )
        self._real: Any = self._make_real()
        self._init_owner()

    # What an acquire or release does when it runs (see Operation.resolve). A blocked
    # acquire without a timeout resolves to what it will do once the lock is free.
    def _resolve_wait(self, rt: Runtime, thread: SimThread) -> Operation:
        owner = self._holder(rt)
        if owner is thread and self._reentrant:
            return self._ops.reenter
        return self._ops.took

    def _resolve_timed(self, rt: Runtime, thread: SimThread) -> Operation:
        owner = self._holder(rt)
        if owner is None:
            return self._ops.took_timed
        return self._ops.reenter if owner is thread and self._reentrant else self._ops.timed_out

    def _resolve_try(self, rt: Runtime, thread: SimThread) -> Operation:
        owner = self._holder(rt)
        if owner is None:
            return self._ops.took_try
        return self._ops.reenter if owner is thread and self._reentrant else self._ops.busy

    def _resolve_release(self, rt: Runtime, thread: SimThread) -> Operation:
        self._holder(rt)
        return self._ops.nested if self._count > 1 else self._ops.freed

    def _make_real(self) -> Any:
        return _RealLock()

    def _real_locked(self) -> bool:
        return bool(self._real.locked())

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire the lock; with ``blocking=False`` or a timeout it may return False."""
        may_time_out = _validate_acquire(blocking, timeout)
        rt = sim()
        if rt is None:
            return bool(self._real.acquire(blocking, timeout))
        me = rt.current
        assert me is not None
        if not blocking:
            rt.access(self._try_op)
            if _LockWait(self, rt, me, False).is_ready():
                self._take(rt, me)
                return True
            return False
        op = self._timed_op if may_time_out else self._acquire_op
        if rt.block(op, _LockWait(self, rt, me, may_time_out)):
            self._take(rt, me)
            return True
        return False

    def release(self) -> None:
        """Release the lock (a yield point: another thread may run just before it)."""
        rt = sim()
        if rt is None:
            self._real.release()
            return
        owner = self._holder(rt)
        if owner is None or (self._reentrant and owner is not rt.current):
            raise RuntimeError(
                "cannot release un-acquired lock" if self._reentrant else "release unlocked lock"
            )
        rt.access(self._release_op)
        self._drop()

    def locked(self) -> bool:
        """Is the lock held? (A read of the lock.)"""
        rt = sim()
        if rt is None:
            if _finished(self._rt):
                return self._owner is not None
            return bool(self._real.locked())
        rt.access(Operation("read", self._resource, "locked"))
        return self._holder(rt) is not None

    __enter__ = acquire

    # Used by Condition: release fully and restore later (RLock keeps its depth).
    def _release_save(self, rt: Runtime) -> int:
        count = self._count
        self._owner, self._count = None, 0
        return count

    def _acquire_restore(self, rt: Runtime, me: SimThread, count: int) -> None:
        rt.block(self._acquire_op, _LockWait(self, rt, me, False))
        self._take(rt, me)
        self._count = count

    def _is_owned(self, rt: Runtime) -> bool:
        return self._holder(rt) is rt.current


class RLock(Lock):
    """A re-entrant lock with the ``threading.RLock`` API: its owner may acquire it again."""

    __slots__ = ()
    _reentrant = True
    _kind = "rlock"

    def _make_real(self) -> Any:
        return _RealRLock()

    def _real_locked(self) -> bool:
        # threading.RLock has no locked() before Python 3.14: probe it. The owner's own
        # probe would succeed (re-entry), so ask about ownership first.
        if self._real._is_owned():
            return True
        if self._real.acquire(blocking=False):
            self._real.release()
            return False
        return True

    def locked(self) -> bool:
        """Is the lock held by any thread? (A read of the lock.)"""
        rt = sim()
        if rt is None:
            if _finished(self._rt):
                return self._owner is not None
            return self._real_locked()
        rt.access(Operation("read", self._resource, "locked"))
        return self._holder(rt) is not None


class _SemWait(Wait):
    __slots__ = ("rt", "sem")

    def __init__(self, sem: Semaphore, rt: Runtime, timeout: bool) -> None:
        super().__init__(sem._resource, timeout=timeout)
        self.sem, self.rt = sem, rt

    def is_ready(self) -> bool:
        return self.sem._sim_value(self.rt) > 0

    def holders(self) -> list[Hold]:
        sem = self.sem
        if sem._rt is not self.rt:
            return []
        return [
            Hold(thread=t.name, resource=self.describe(), step=step, location=where)
            for t, step, where in sem._holders
        ]


class _SemaphoreOps(NamedTuple):
    """What a semaphore's operations resolve to (shared by every semaphore of the name)."""

    took: Operation  # took a permit, others are left
    took_last: Operation  # took the last permit: the semaphore becomes unavailable
    took_timed: Operation
    took_timed_last: Operation
    took_try: Operation
    took_try_last: Operation
    timed_out: Operation  # found no permit: only read the count
    busy: Operation
    released: Operation  # permits were left already
    released_first: Operation  # returned a permit to an empty semaphore: available again


@functools.lru_cache(maxsize=4096)
def _semaphore_ops(resource: Resource) -> _SemaphoreOps:
    return _SemaphoreOps(
        took=_op("acquire", resource, "acquire", WRITE),
        took_last=_op("acquire", resource, "acquire", TAKE),
        took_timed=_op("acquire", resource, "acquire (timed)", WRITE),
        took_timed_last=_op("acquire", resource, "acquire (timed)", TAKE),
        took_try=_op("acquire", resource, "try-acquire", WRITE),
        took_try_last=_op("acquire", resource, "try-acquire", TAKE),
        timed_out=_op("acquire-failed", resource, "acquire (timed out)", READ),
        busy=_op("acquire-failed", resource, "try-acquire (busy)", READ),
        released=_op("release", resource, "release", WRITE),
        released_first=_op("release", resource, "release", GIVE),
    )


class Semaphore(_Releasable):
    """A counting semaphore with the ``threading.Semaphore`` API."""

    __slots__ = (
        "_acquire_op",
        "_holders",
        "_initial",
        "_ops",
        "_real",
        "_release_op",
        "_resource",
        "_rt",
        "_timed_op",
        "_try_op",
        "_value",
        "name",
    )
    _kind = "semaphore"

    def __init__(self, value: int = 1, *, name: str | None = None) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self.name = auto_name(self._kind, name)
        self._resource = ("semaphore", self.name)
        self._initial = value
        self._value = value
        self._rt: Runtime | None = None
        self._holders: list[tuple[SimThread, int | None, Location | None]] = []
        resource = self._resource
        ops = self._ops = _semaphore_ops(resource)
        self._acquire_op = Operation(
            "acquire", resource, "acquire", resolve=self._resolve_wait, potential=ops.took_last
        )
        self._timed_op = Operation(
            "acquire",
            resource,
            "acquire (timed)",
            resolve=self._resolve_timed,
            potential=ops.took_last,
        )
        self._try_op = Operation(
            "acquire", resource, "try-acquire", resolve=self._resolve_try, potential=ops.took_last
        )
        self._release_op = Operation(
            "release",
            resource,
            "release",
            resolve=self._resolve_release,
            potential=ops.released_first,
        )
        self._real: Any = self._make_real(value)

    # What an acquire or release does when it runs (see Operation.resolve). A blocked
    # acquire without a timeout resolves to what it will do once a permit is free.
    def _resolve_wait(self, rt: Runtime, thread: SimThread) -> Operation:
        return self._ops.took if self._sim_value(rt) > 1 else self._ops.took_last

    def _resolve_timed(self, rt: Runtime, thread: SimThread) -> Operation:
        value = self._sim_value(rt)
        if value <= 0:
            return self._ops.timed_out
        return self._ops.took_timed if value > 1 else self._ops.took_timed_last

    def _resolve_try(self, rt: Runtime, thread: SimThread) -> Operation:
        value = self._sim_value(rt)
        if value <= 0:
            return self._ops.busy
        return self._ops.took_try if value > 1 else self._ops.took_try_last

    def _resolve_release(self, rt: Runtime, thread: SimThread) -> Operation:
        return self._ops.released_first if self._sim_value(rt) <= 0 else self._ops.released

    def _make_real(self, value: int) -> Any:
        return _RealSemaphore(value)

    def _sim_value(self, rt: Runtime) -> int:
        if self._rt is not rt:
            # First use in this execution: start from the real semaphore's count, which the
            # scenario factory (run outside the scheduler) may have changed, as Event does.
            value = getattr(self._real, "_value", self._initial)
            self._rt, self._value, self._holders = rt, value, []
        return self._value

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit, waiting for one if needed (unless ``blocking=False``/timeout)."""
        may_time_out = _validate_sem_acquire(blocking, timeout)
        rt = sim()
        if rt is None:
            return bool(self._real.acquire(blocking, timeout))
        me = rt.current
        assert me is not None
        if not blocking:
            rt.access(self._try_op)
            ok = self._sim_value(rt) > 0
        else:
            op = self._timed_op if may_time_out else self._acquire_op
            ok = rt.block(op, _SemWait(self, rt, may_time_out))
        if ok:
            self._sim_value(rt)
            self._value -= 1
            self._holders.append((me, rt.step_index, me.location))
        return ok

    def release(self, n: int = 1) -> None:
        """Return ``n`` permits."""
        if n < 1:
            raise ValueError("n must be one or more")
        rt = sim()
        if rt is None:
            self._real.release(n)
            return
        me = rt.current
        rt.access(self._release_op)
        value = self._sim_value(rt) + n
        self._check_bound(value)
        self._value = value
        for _ in range(n):
            for k, (t, _step, _where) in enumerate(self._holders):
                if t is me:
                    del self._holders[k]
                    break
            else:
                if self._holders:
                    del self._holders[0]

    def _check_bound(self, value: int) -> None:
        pass

    __enter__ = acquire


class BoundedSemaphore(Semaphore):
    """A semaphore that raises ``ValueError`` when released more often than acquired."""

    __slots__ = ()
    _kind = "bounded-semaphore"

    def _make_real(self, value: int) -> Any:
        return _RealBoundedSemaphore(value)

    def _check_bound(self, value: int) -> None:
        if value > self._initial:
            raise ValueError("Semaphore released too many times")


class _Waiter:
    __slots__ = ("notified", "thread")

    def __init__(self, thread: SimThread) -> None:
        self.thread = thread
        self.notified = False


class _NotifyWait(Wait):
    __slots__ = ("waiter",)

    def __init__(self, resource: tuple[object, ...], waiter: _Waiter, timeout: bool) -> None:
        super().__init__(resource, timeout=timeout)
        self.waiter = waiter

    def is_ready(self) -> bool:
        return self.waiter.notified

    def describe(self) -> str:
        return f"a notify on condition {self.resource[1]!r}"


class _WakeOps(NamedTuple):
    woke: Operation  # notified: it read that a notify picked it
    timed_out: Operation  # took itself off the waiters: a later notify picks another


@functools.lru_cache(maxsize=4096)
def _wake_ops(resource: Resource) -> _WakeOps:
    return _WakeOps(
        woke=_op("wake", resource, "wake", READ),
        timed_out=_op("wake-timeout", resource, "wake (timed out)", WRITE),
    )


def _resolve_wake(rt: Runtime, thread: SimThread) -> Operation:
    wait = thread.wait
    assert isinstance(wait, _NotifyWait)
    ops = _wake_ops(wait.resource)
    if wait.waiter.notified or not wait.timeout:
        return ops.woke
    return ops.timed_out


class Condition:
    """A condition variable with the ``threading.Condition`` API.

    ``wait()`` is three steps: release the lock and start waiting; wake up (on a notify, or
    on a timeout when one was given); re-acquire the lock.
    """

    __slots__ = (
        "_lock",
        "_notify_op",
        "_real",
        "_resource",
        "_rt",
        "_timed_wake_op",
        "_wait_op",
        "_waiters",
        "_wake_op",
        "name",
    )

    def __init__(self, lock: Lock | RLock | None = None, *, name: str | None = None) -> None:
        if lock is None:
            lock = RLock(name=None)
        if not isinstance(lock, Lock):
            raise TypeError(
                "interleave.Condition needs an interleave.Lock or interleave.RLock, "
                f"not {type(lock).__name__}"
            )
        self.name = auto_name("condition", name)
        self._lock = lock
        resource = self._resource = ("condition", self.name)
        # The first step of wait() joins the waiters and frees the lock: it writes both.
        self._wait_op = Operation(
            "wait", resource, "wait", footprint=((resource, WRITE), (lock._resource, GIVE))
        )
        wake = _wake_ops(resource)
        self._wake_op = Operation(
            "wake", resource, "wake", resolve=_resolve_wake, potential=wake.woke
        )
        self._timed_wake_op = Operation(
            "wake", resource, "wake", resolve=_resolve_wake, potential=wake.timed_out
        )
        self._notify_op = Operation("notify", resource, "notify")
        self._waiters: list[_Waiter] = []
        self._rt: Runtime | None = None
        self._real = _RealCondition(lock._real)

    def _sim_waiters(self, rt: Runtime) -> list[_Waiter]:
        if self._rt is not rt:
            self._rt, self._waiters = rt, []
        return self._waiters

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire the underlying lock."""
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        """Release the underlying lock."""
        self._lock.release()

    __enter__ = acquire

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Release the lock, wait for a notify (or the timeout), re-acquire; True if notified."""
        rt = sim()
        if rt is None:
            return bool(self._real.wait(timeout))
        me = rt.current
        assert me is not None
        if not self._lock._is_owned(rt):
            raise RuntimeError("cannot wait on un-acquired lock")
        waiters = self._sim_waiters(rt)
        waiter = _Waiter(me)
        rt.access(self._wait_op)
        waiters.append(waiter)
        saved = self._lock._release_save(rt)
        try:
            timed = timeout is not None
            notified = rt.block(
                self._timed_wake_op if timed else self._wake_op,
                _NotifyWait(self._resource, waiter, timed),
            )
            if not notified and waiter in waiters:
                waiters.remove(waiter)
        finally:
            self._lock._acquire_restore(rt, me, saved)
        return notified

    def wait_for(self, predicate: Any, timeout: float | None = None) -> Any:
        """Wait until ``predicate()`` is true (or the timeout); return its last value."""
        result = predicate()
        while not result:
            if not self.wait(timeout) and timeout is not None:
                return predicate()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiting threads (the longest-waiting first)."""
        rt = sim()
        if rt is None:
            self._real.notify(n)
            return
        if not self._lock._is_owned(rt):
            raise RuntimeError("cannot notify on un-acquired lock")
        rt.access(self._notify_op)
        waiters = self._sim_waiters(rt)
        for waiter in waiters[:n]:
            waiter.notified = True
        del waiters[:n]

    def notify_all(self) -> None:
        """Wake up every waiting thread."""
        rt = sim()
        if rt is None:
            self._real.notify_all()
            return
        self.notify(len(self._sim_waiters(rt)) or 1)

    def __repr__(self) -> str:
        return f"<Condition {self.name!r}>"


class _EventOps(NamedTuple):
    set: Operation  # set an already set flag
    set_first: Operation  # set a clear flag: waiters can run
    clear: Operation  # cleared a clear flag
    clear_first: Operation  # cleared a set flag: waiters must wait
    waited: Operation
    timed_out: Operation


@functools.lru_cache(maxsize=4096)
def _event_ops(resource: Resource) -> _EventOps:
    # set/clear do not depend on a read of the flag: "update" (like an atomic write), so a
    # thread that checked is_set() and later sets it is not reported as a lost update.
    return _EventOps(
        set=_op("update", resource, "set", WRITE),
        set_first=_op("update", resource, "set", GIVE),
        clear=_op("update", resource, "clear", WRITE),
        clear_first=_op("update", resource, "clear", TAKE),
        waited=_op("wait", resource, "wait", READ),
        timed_out=_op("wait-timeout", resource, "wait (timed out)", READ),
    )


class _EventWait(Wait):
    __slots__ = ("event", "rt")

    def __init__(self, event: Event, rt: Runtime, timeout: bool) -> None:
        super().__init__(event._resource, timeout=timeout)
        self.event, self.rt = event, rt

    def is_ready(self) -> bool:
        return self.event._sim_flag(self.rt)


class Event:
    """An event flag with the ``threading.Event`` API."""

    __slots__ = (
        "_clear_op",
        "_flag",
        "_initial",
        "_ops",
        "_read_op",
        "_real",
        "_resource",
        "_rt",
        "_set_op",
        "_wait_op",
        "name",
    )

    def __init__(self, *, name: str | None = None) -> None:
        self.name = auto_name("event", name)
        resource = self._resource = ("event", self.name)
        ops = self._ops = _event_ops(resource)
        self._set_op = Operation(
            "update", resource, "set", resolve=self._resolve_set, potential=ops.set_first
        )
        self._clear_op = Operation(
            "update", resource, "clear", resolve=self._resolve_clear, potential=ops.clear_first
        )
        self._read_op = Operation("read", resource, "is_set")
        self._wait_op = Operation("wait", resource, "wait", resolve=self._resolve_wait)
        self._flag = False
        self._rt: Runtime | None = None
        self._real = _RealEvent()

    def _sim_flag(self, rt: Runtime) -> bool:
        if self._rt is not rt:  # first use in this execution: start from the real flag
            self._rt, self._flag = rt, self._real.is_set()
        return self._flag

    # What set, clear and wait do when they run (see Operation.resolve).
    def _resolve_set(self, rt: Runtime, thread: SimThread) -> Operation:
        return self._ops.set if self._sim_flag(rt) else self._ops.set_first

    def _resolve_clear(self, rt: Runtime, thread: SimThread) -> Operation:
        return self._ops.clear_first if self._sim_flag(rt) else self._ops.clear

    def _resolve_wait(self, rt: Runtime, thread: SimThread) -> Operation:
        wait = thread.wait
        if self._sim_flag(rt) or wait is None or not wait.timeout:
            return self._ops.waited
        return self._ops.timed_out

    def is_set(self) -> bool:
        """Is the flag set? (A read.)"""
        rt = sim()
        if rt is None:
            if _finished(self._rt):
                return self._flag
            return self._real.is_set()
        rt.access(self._read_op)
        return self._sim_flag(rt)

    def set(self) -> None:
        """Set the flag, waking every waiter."""
        rt = sim()
        if rt is None:
            self._real.set()
            return
        rt.access(self._set_op)
        self._sim_flag(rt)
        self._flag = True

    def clear(self) -> None:
        """Clear the flag."""
        rt = sim()
        if rt is None:
            self._real.clear()
            return
        rt.access(self._clear_op)
        self._sim_flag(rt)
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the flag is set (or the timeout); return the flag."""
        rt = sim()
        if rt is None:
            return self._real.wait(timeout)
        ok = rt.block(self._wait_op, _EventWait(self, rt, timeout is not None))
        return ok

    def __repr__(self) -> str:
        return f"<Event {self.name!r}>"
