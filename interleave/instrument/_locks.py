"""Locks and re-entrant locks with the ``threading.Lock``/``threading.RLock`` API.

Inside an exploration every operation is a yield point and blocking is a scheduling decision
(a thread waiting for a held lock is simply not runnable). Outside an exploration each object
delegates to the real ``threading`` primitive, so it can live in production code.

Timeouts: a blocking call with a timeout may time out whenever it would otherwise wait; the
explorer tries both outcomes. Semaphores, conditions and events follow the same rules in
:mod:`._semaphores`, :mod:`._conditions` and :mod:`._events`.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from .._core._findings import Hold
from .._core._ops import GIVE, READ, TAKE, Location, Operation, Resource
from .._core._runtime import Runtime
from .._core._threads import SimThread, Wait
from ._base import auto_name, sim
from ._sync import RealLock, RealRLock, Releasable, finished
from ._sync import op as _op

__all__ = ["Lock", "RLock"]


def _validate_acquire(blocking: bool, timeout: float | None) -> bool:
    """Return whether the call may time out; mirror threading's argument errors."""
    if timeout is None:
        timeout = -1
    if not blocking and timeout != -1:
        raise ValueError("can't specify a timeout for a non-blocking call")
    if timeout < 0 and timeout != -1:
        raise ValueError("timeout value must be a non-negative number")
    return timeout >= 0


#: Stands for the scenario factory as the holder of a lock it left acquired.
_SETUP = SimThread(-1, "scenario setup", lambda: None, ())


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


class Lock(_Owned, Releasable):
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
        return RealLock()

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
            if finished(self._rt):
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
        return RealRLock()

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
            if finished(self._rt):
                return self._owner is not None
            return self._real_locked()
        rt.access(Operation("read", self._resource, "locked"))
        return self._holder(rt) is not None
