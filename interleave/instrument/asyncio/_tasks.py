"""asyncio tasks as simulated threads: each task's coroutine is driven by its own greenlet.

A task is a simulated thread whose function runs the coroutine (:func:`._run.drive`). The
scheduled primitives (:mod:`._locks`, :mod:`._queues`, ``asyncio.sleep`` …) never hand a future
to the event loop: awaiting one calls the runtime (``access``/``block``) from inside the
coroutine, and the greenlet switch suspends the whole stack, coroutine frames included. So a
task's steps are the same kind of steps as a thread's, with footprints by the same rules, and
DPOR, the detectors, the minimiser, the reports and the schedule IDs work on them unchanged.

Every ``await`` of a scheduled primitive is a *suspension point* of the task
(:meth:`Task.suspend`): the step also reads the task's cancellation state (``("task", name)``),
so a ``task.cancel()`` (a write of it) is ordered against each of the task's suspension points
and DPOR explores the cancellation arriving at every one of them. A task's end is a step of
its own (a write of ``("thread", name)``, which ``await task`` and ``gather`` read), as for a
joined thread.
"""

from __future__ import annotations

import asyncio
from asyncio import CancelledError
from collections.abc import Coroutine
from typing import Any

from ..._core._ops import GIVE, READ, WRITE, Operation, Resource
from ..._core._runtime import Runtime
from ..._core._threads import SimThread, Wait
from ...errors import EventLoopBlocked
from .._base import auto_name, sim
from ._loop import CLOCK, ScheduledLoop

__all__ = ["Future", "Task", "TaskWait", "current"]


class TaskWait(Wait):
    """A wait of a task at a suspension point: other tasks run meanwhile (``cooperative``),
    and a cancellation ends it."""

    __slots__ = ("task",)
    cooperative = True

    def __init__(self, resource: Resource, task: Task) -> None:
        super().__init__(resource)
        self.task = task

    def is_ready(self) -> bool:
        return self.task._must_cancel or self.inner_ready()

    def inner_ready(self) -> bool:
        """Could the awaited operation itself go on (cancellation aside)?"""
        raise NotImplementedError


class _FutureWait(TaskWait):
    __slots__ = ("future",)

    def __init__(self, future: Future, task: Task) -> None:
        super().__init__(future._end_resource, task)
        self.future = future

    def inner_ready(self) -> bool:
        return self.future.done()

    def describe(self) -> str:
        return self.future._describe()


class Future(asyncio.Future):  # type: ignore[type-arg]
    """A future of the execution's loop: completing it is a step, awaiting it is one too.

    ``set_result``/``set_exception``/``cancel`` write ``("future", name)`` (making it available:
    a give), and an ``await`` reads it: DPOR orders them.
    """

    _end_resource: Resource

    def __init__(self, *, loop: Any = None, name: str | None = None) -> None:
        super().__init__(loop=loop)
        if name is None:
            name = auto_name("future", None)
        self._name_ = name
        self._end_resource = ("future", name)
        self._done_op = Operation(
            "update", self._end_resource, "set", footprint=((self._end_resource, GIVE),)
        )
        self._await_op = Operation("join", self._end_resource, "await")

    def _describe(self) -> str:
        return f"future {self._name_!r}"

    def _complete(self) -> None:
        rt = sim()
        if rt is not None:
            rt.access(self._done_op)

    def set_result(self, result: Any) -> None:
        self._complete()
        super().set_result(result)
        self._run_callbacks()

    def set_exception(self, exception: Any) -> None:
        self._complete()
        super().set_exception(exception)
        self._run_callbacks()

    def cancel(self, msg: Any = None) -> bool:
        if self.done():
            return False
        self._complete()
        done = super().cancel(msg)
        self._run_callbacks()
        return done

    def add_done_callback(self, fn: Any, *, context: Any = None) -> None:
        super().add_done_callback(fn, context=context)
        if self.done():
            self._run_callbacks()

    def _run_callbacks(self) -> None:
        loop = self.get_loop()
        if isinstance(loop, ScheduledLoop):
            loop.run_ready()

    def __await__(self) -> Any:
        # In a task, awaiting is a suspension point (a step) whether or not the future is done:
        # a done future's state was written by another step, which must be ordered with it.
        rt = sim()
        task = current(rt)
        if task is not None:
            assert rt is not None
            task._fut_waiter = self
            try:
                task.suspend(rt, self._await_op, _FutureWait(self, task))
            finally:
                task._fut_waiter = None
            return self.result()
        return (yield from super().__await__())

    __iter__ = __await__


class _Scope:
    """A timeout scope (``asyncio.timeout``, ``wait_for``) of one task."""

    __slots__ = ("deadline", "expired")

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.expired = False


class Task(Future):
    """A task of the execution: a simulated thread running a coroutine.

    It has ``asyncio.Task``'s interface (``cancel``, ``cancelling``, ``uncancel``,
    ``get_name``, ``get_coro``, …) and is an ``asyncio.Future`` (``await task``, ``done()``,
    ``result()``).
    """

    def __init__(self, coro: Coroutine[Any, Any, Any], loop: ScheduledLoop, thread: SimThread):
        name = thread.name
        super().__init__(loop=loop, name=name)
        self._display_name = name
        self._coro = coro
        self._thread = thread
        self._end_resource = ("thread", name)
        self._await_op = Operation("join", self._end_resource, "await task")
        self._resource: Resource = ("task", name)
        self._must_cancel = False
        self._cancel_message: Any = None
        self._num_cancels_requested = 0
        self._fut_waiter: Future | None = None
        self._scopes: list[_Scope] = []
        self._observed = False  # someone holds a handle: its end is a step of its own
        self._group: Any = None
        self._cooperative = 0  # > 0: inside a call that does not block the loop (aiosqlite)
        self._extended: dict[tuple[int, bool], Operation] = {}
        resource = self._resource
        self._end_op = Operation(
            "end", self._end_resource, "end", footprint=((self._end_resource, GIVE),)
        )
        self._cancel_op = Operation("update", resource, "cancel", footprint=((resource, GIVE),))
        self._cancelled_op = Operation("wake", resource, "cancelled", footprint=((resource, READ),))
        self._expired_op = Operation(
            "wake", resource, "timed out", footprint=((resource, READ), (CLOCK, READ))
        )
        thread.handle = self
        loop.tasks.append(self)

    def _describe(self) -> str:
        return f"task {self._name_!r} to finish"

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<Task {self._display_name!r} {state}>"

    # --- asyncio.Task's interface
    def get_name(self) -> str:
        return self._display_name

    def set_name(self, value: object) -> None:
        # Only the name shown: the thread keeps its name (resources and IDs use it).
        self._display_name = str(value)

    def get_coro(self) -> Coroutine[Any, Any, Any]:
        return self._coro

    def get_context(self) -> None:
        return None

    def get_stack(self, *, limit: int | None = None) -> list[Any]:
        return []

    def cancelling(self) -> int:
        return self._num_cancels_requested

    def uncancel(self) -> int:
        if self._num_cancels_requested > 0:
            self._num_cancels_requested -= 1
        return self._num_cancels_requested

    def cancel(self, msg: Any = None) -> bool:
        """Request the task's cancellation: ``CancelledError`` is raised in it at its next
        suspension point (a step: a write of the task's cancellation state)."""
        rt = sim()
        if rt is not None:
            rt.access(self._cancel_op)
        return self._request_cancel(msg)

    def _request_cancel(self, msg: Any) -> bool:
        if self.done():
            return False
        self._num_cancels_requested += 1
        waiter = self._fut_waiter
        if waiter is not None and waiter.cancel(msg=msg):
            # As asyncio does: the awaited future (or task) is cancelled instead, and this
            # task wakes up when it is done.
            return True
        self._must_cancel = True
        self._cancel_message = msg
        return True

    # --- suspension points
    def suspend(self, rt: Runtime, op: Operation, wait: TaskWait | None = None) -> None:
        """One suspension point: the step ``op`` (waiting with ``wait``), where a cancellation
        or a timeout may arrive; they raise ``CancelledError`` here."""
        scoped = any(not s.expired and s.deadline is not None for s in self._scopes)
        step = self._extend(op, scoped)
        if wait is None:
            rt.access(step)
        else:
            # Inside a timeout a wait may time out: always enabled, as a timed wait.
            wait.timeout = scoped
            rt.block(step, wait)
        self._after_suspend(wait, scoped)

    def checkpoint(self, rt: Runtime, label: str) -> None:
        """A suspension point that waits for nothing (an ``await`` that touches nothing else)."""
        self.suspend(rt, _yield_op(label))

    def _deadline(self) -> _Scope | None:
        best = None
        for scope in self._scopes:
            if scope.expired or scope.deadline is None:
                continue
            if best is None or scope.deadline < best.deadline:  # type: ignore[operator]
                best = scope
        return best

    def _after_suspend(self, wait: TaskWait | None, scoped: bool) -> None:
        # The same decisions as _resolve, in the same order: nothing ran in between.
        if self._must_cancel:
            self._must_cancel = False
            raise self._cancelled_error()
        if not scoped:
            return
        scope = self._deadline()
        assert scope is not None and scope.deadline is not None
        loop = self.get_loop()
        assert isinstance(loop, ScheduledLoop)
        if loop.clock >= scope.deadline or (wait is not None and not wait.inner_ready()):
            loop.clock = max(loop.clock, scope.deadline)
            scope.expired = True
            raise CancelledError()

    def _cancelled_error(self) -> CancelledError:
        msg = self._cancel_message
        self._cancel_message = None
        return CancelledError() if msg is None else CancelledError(msg)

    def _extend(self, op: Operation, scoped: bool) -> Operation:
        """``op`` as a suspension point of this task: it also reads the task's cancellation
        state (and the clock, inside a timeout); it resolves to "cancelled" or "timed out"."""
        key = (id(op), scoped)
        found = self._extended.get(key)
        if found is not None:
            return found
        extra: tuple[tuple[Resource, int], ...] = ((self._resource, READ),)
        if scoped:
            extra += ((CLOCK, WRITE),)
        potential = op.potential
        widest = Operation(
            potential.kind,
            potential.resource,
            potential.label,
            footprint=potential.footprint + extra,
        )
        task = self

        def resolve(rt: Runtime, thread: SimThread) -> Operation:
            if task._must_cancel:
                return task._cancelled_op
            if scoped:
                scope = task._deadline()
                loop = task.get_loop()
                assert scope is not None and scope.deadline is not None
                assert isinstance(loop, ScheduledLoop)
                if loop.clock >= scope.deadline:
                    return task._expired_op
                wait = thread.wait
                if isinstance(wait, TaskWait) and not wait.inner_ready():
                    return _timed_out_op(task._resource, wait.resource)
            inner = op if op.resolve is None else op.resolve(rt, thread)
            return task._plain(inner, scoped)

        found = Operation(
            op.kind,
            op.resource,
            op.label,
            footprint=op.footprint + extra,
            resolve=resolve,
            potential=widest,
        )
        self._extended[key] = found
        return found

    def _plain(self, op: Operation, scoped: bool) -> Operation:
        # A resolved outcome, with the task's cancellation state (and the clock) read.
        key = (id(op), scoped)
        found = self._extended.get(key)
        if found is None:
            extra: tuple[tuple[Resource, int], ...] = ((self._resource, READ),)
            if scoped:
                extra += ((CLOCK, READ),)
            found = Operation(op.kind, op.resource, op.label, footprint=op.footprint + extra)
            self._extended[key] = found
        return found

    def check_blocking_wait(self, wait: Wait) -> None:
        """Called by the runtime when this task is about to block its OS thread (a threading
        lock, a SQLite lock): the whole event loop would stop, so no other task could end
        the wait. Raise ``EventLoopBlocked`` when it cannot go on now."""
        if self._cooperative or wait.timeout or wait.is_ready():
            return
        raise EventLoopBlocked(
            f"task {self._name_!r} would block the event loop waiting for "
            f"{wait.describe()}: no other task can run while the loop is blocked, so it would "
            "wait forever. Use the asyncio primitive (asyncio.Lock, asyncio.Event …) in async "
            "code, or run the blocking call in a thread"
        )


def _timed_out_op(task_resource: Resource, waited: Resource) -> Operation:
    # A wait that timed out: it observed the resource unavailable, and time passed.
    return Operation(
        "wake-timeout",
        task_resource,
        "timed out",
        footprint=((task_resource, READ), (waited, READ), (CLOCK, WRITE)),
    )


_YIELDS: dict[str, Operation] = {}


def _yield_op(label: str) -> Operation:
    op = _YIELDS.get(label)
    if op is None:
        op = _YIELDS[label] = Operation("yield", (), label)
    return op


def current(rt: Runtime | None) -> Task | None:
    """The task the caller runs in, or None (not an execution's task)."""
    if rt is None:
        return None
    thread = rt.current
    if thread is None:
        return None
    handle = thread.handle
    return handle if isinstance(handle, Task) else None
