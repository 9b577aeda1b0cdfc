"""``asyncio.Lock``, ``Event``, ``Condition``, ``Semaphore`` and ``BoundedSemaphore``, scheduled.

Each is built on interleave's threading primitive of the same kind (its state, its operations
and their footprints, its lock-wait edges for the deadlock detector), so a task's steps on it
are exactly a thread's: the dependency table of ``docs/strategies.md`` holds as it is. What
differs is that awaiting is a suspension point of the task (:meth:`Task.suspend`: it may be
cancelled or time out there) and that a wait lets the other tasks run.

Made only inside an execution (the patch's ``asyncio.Lock()`` & co.); the non-awaiting methods
(``release``, ``locked``, ``set``, ``is_set``, ``notify`` …) are steps as for threads. Used
outside a task (the scenario's ``check()``) they read the state the execution left.
"""

from __future__ import annotations

from asyncio import CancelledError
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from ..._core._ops import Operation
from ..._core._runtime import Runtime
from .. import _conditions, _events, _locks, _semaphores
from .._base import auto_name, sim
from ._tasks import Task, TaskWait, current

__all__ = ["BoundedSemaphore", "Condition", "Event", "Lock", "Semaphore"]

_T = TypeVar("_T")


def _in_task(what: str) -> tuple[Runtime, Task]:
    rt = sim()
    task = current(rt)
    if task is None or rt is None:
        raise RuntimeError(f"{what} must be awaited in one of the exploration's tasks")
    return rt, task


class _LockWait(_locks._LockWait):
    __slots__ = ("task",)
    task: Task
    cooperative = True

    def is_ready(self) -> bool:
        return self.task._must_cancel or super().is_ready()

    def inner_ready(self) -> bool:
        return super().is_ready()


class _ContextManager:
    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    async def acquire(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class Lock(_ContextManager):
    """``asyncio.Lock`` in an execution (see the module docs)."""

    def __init__(self) -> None:
        self._lock = _locks.Lock(name=auto_name("lock", None))
        self.name = self._lock.name

    def __repr__(self) -> str:
        return f"<asyncio.Lock {self.name!r} (interleave)>"

    async def acquire(self) -> bool:
        """Wait until the lock is free and take it (a suspension point)."""
        rt, task = _in_task("Lock.acquire()")
        me = rt.current
        assert me is not None
        wait = _LockWait(self._lock, rt, me, False)
        wait.task = task
        task.suspend(rt, self._lock._acquire_op, wait)  # type: ignore[arg-type]
        self._lock._take(rt, me)
        return True

    def release(self) -> None:
        """Release the lock (a step; any task may release it, as in asyncio)."""
        rt = sim()
        if rt is None or rt.current is None:
            raise RuntimeError("Lock.release() must be called from one of the exploration's tasks")
        if self._lock._holder(rt) is None:
            raise RuntimeError("Lock is not acquired.")
        rt.access(self._lock._release_op)
        self._lock._drop()

    def locked(self) -> bool:
        """Is the lock held? (A read of the lock.)"""
        return self._lock.locked()


class _EventWait(TaskWait):
    __slots__ = ("event", "rt")

    def __init__(self, event: _events.Event, rt: Runtime, task: Task) -> None:
        super().__init__(event._resource, task)
        self.event, self.rt = event, rt

    def inner_ready(self) -> bool:
        return self.event._sim_flag(self.rt)


class Event:
    """``asyncio.Event`` in an execution (see the module docs)."""

    def __init__(self) -> None:
        self._event = _events.Event(name=auto_name("event", None))
        self.name = self._event.name

    def __repr__(self) -> str:
        return f"<asyncio.Event {self.name!r} (interleave)>"

    def is_set(self) -> bool:
        """Is the flag set? (A read.)"""
        return self._event.is_set()

    def set(self) -> None:
        """Set the flag (a step), waking every waiter."""
        self._event.set()

    def clear(self) -> None:
        """Clear the flag (a step)."""
        self._event.clear()

    async def wait(self) -> bool:
        """Wait until the flag is set (a suspension point)."""
        rt, task = _in_task("Event.wait()")
        task.suspend(rt, self._event._wait_op, _EventWait(self._event, rt, task))
        return True


class _NotifyWait(_conditions._NotifyWait):
    __slots__ = ("task",)
    task: Task
    cooperative = True

    def is_ready(self) -> bool:
        return self.task._must_cancel or super().is_ready()

    def inner_ready(self) -> bool:
        return super().is_ready()


class Condition(_ContextManager):
    """``asyncio.Condition`` in an execution: ``wait()`` frees the lock and waits for a notify
    (a suspension point), then takes the lock back whatever happened (as asyncio does)."""

    def __init__(self, lock: Lock | None = None) -> None:
        if lock is None:
            lock = Lock()
        if not isinstance(lock, Lock):
            raise TypeError(f"asyncio.Condition needs an asyncio.Lock, not {type(lock).__name__}")
        self._alock = lock
        self._cond = _conditions.Condition(lock._lock, name=auto_name("condition", None))
        self.name = self._cond.name

    def __repr__(self) -> str:
        return f"<asyncio.Condition {self.name!r} (interleave)>"

    def locked(self) -> bool:
        return self._alock.locked()

    async def acquire(self) -> bool:
        return await self._alock.acquire()

    def release(self) -> None:
        self._alock.release()

    async def wait(self) -> bool:
        """Free the lock, wait for a notify, take the lock back; True."""
        rt, task = _in_task("Condition.wait()")
        lock = self._alock._lock
        me = rt.current
        assert me is not None
        if lock._holder(rt) is None:
            raise RuntimeError("cannot wait on un-acquired lock")
        cond = self._cond
        waiters = cond._sim_waiters(rt)
        waiter = _conditions._Waiter(me)
        rt.access(cond._wait_op)
        waiters.append(waiter)
        lock._release_save(rt)
        cancelled: BaseException | None = None
        try:
            wait = _NotifyWait(cond._resource, waiter, False)
            wait.task = task
            task.suspend(rt, cond._wake_op, wait)  # type: ignore[arg-type]
        except CancelledError as exc:
            cancelled = exc
            if waiter in waiters:
                waiters.remove(waiter)
        # Take the lock back even when cancelled (asyncio does): a plain wait, not cancelled.
        back = _locks._LockWait(lock, rt, me, False)
        rt.block(lock._acquire_op, back)
        lock._take(rt, me)
        if cancelled is not None:
            raise cancelled
        return True

    async def wait_for(self, predicate: Callable[[], _T]) -> _T:
        """Wait until ``predicate()`` is true; return its value."""
        result = predicate()
        while not result:
            await self.wait()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiting tasks (a step; the lock must be held)."""
        rt = sim()
        if rt is None or rt.current is None:
            raise RuntimeError("Condition.notify() must be called from one of the tasks")
        if self._alock._lock._holder(rt) is None:
            raise RuntimeError("cannot notify on un-acquired lock")
        cond = self._cond
        rt.access(cond._notify_op)
        waiters = cond._sim_waiters(rt)
        for waiter in waiters[:n]:
            waiter.notified = True
        del waiters[:n]

    def notify_all(self) -> None:
        """Wake up every waiting task."""
        rt = sim()
        assert rt is not None
        self.notify(len(self._cond._sim_waiters(rt)) or 1)


class _SemWait(_semaphores._SemWait):
    __slots__ = ("task",)
    task: Task
    cooperative = True

    def is_ready(self) -> bool:
        return self.task._must_cancel or super().is_ready()

    def inner_ready(self) -> bool:
        return super().is_ready()


class Semaphore(_ContextManager):
    """``asyncio.Semaphore`` in an execution (see the module docs)."""

    _kind: Any = _semaphores.Semaphore

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError(f"Semaphore initial value must be >= 0, got {value}")
        self._sem = self._kind(value, name=auto_name(self._kind._kind, None))
        self.name = self._sem.name

    def __repr__(self) -> str:
        return f"<asyncio.{type(self).__name__} {self.name!r} (interleave)>"

    def locked(self) -> bool:
        """Would ``acquire()`` wait? (A read.)"""
        rt = sim()
        if rt is not None:
            rt.access(Operation("read", self._sem._resource, "locked"))
            return bool(self._sem._sim_value(rt) == 0)
        return bool(self._sem._value == 0)

    async def acquire(self) -> bool:
        """Take a permit, waiting for one (a suspension point)."""
        rt, task = _in_task("Semaphore.acquire()")
        me = rt.current
        assert me is not None
        sem = self._sem
        wait = _SemWait(sem, rt, False)
        wait.task = task
        task.suspend(rt, sem._acquire_op, wait)  # type: ignore[arg-type]
        sem._sim_value(rt)
        sem._value -= 1
        sem._holders.append((me, rt.step_index, me.location))
        return True

    def release(self) -> None:
        """Return a permit (a step)."""
        try:
            self._sem.release()
        except ValueError:
            raise ValueError("BoundedSemaphore released too many times") from None


class BoundedSemaphore(Semaphore):
    """``asyncio.BoundedSemaphore`` in an execution: releasing too often raises ValueError."""

    _kind = _semaphores.BoundedSemaphore
