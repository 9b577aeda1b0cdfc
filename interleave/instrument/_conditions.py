"""Condition variables with the ``threading.Condition`` API, on a scheduled (R)Lock."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from .._core._ops import GIVE, READ, WRITE, Operation, Resource
from .._core._runtime import Runtime
from .._core._threads import SimThread, Wait
from ._base import auto_name, sim
from ._locks import Lock, RLock
from ._sync import RealCondition, Releasable
from ._sync import op as _op

__all__ = ["Condition"]


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


class Condition(Releasable):
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
        self._real = RealCondition(lock._real)

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
