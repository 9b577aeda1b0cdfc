"""The stand-ins for asyncio's functions: ``sleep``, ``create_task``, ``gather``, ``wait_for``,
``timeout``, ``TaskGroup``, ``current_task`` … and those interleave does not schedule (they raise
a clear error instead of running unscheduled).

Each one behaves as asyncio's does when called from one of the execution's tasks; anywhere else
(another OS thread, a real event loop) it is asyncio's own.
"""

from __future__ import annotations

import asyncio
import functools
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from ..._core._ops import READ, WRITE, Operation, Resource
from ..._core._runtime import Runtime
from .._base import auto_name, sim
from ._loop import CLOCK, WRITE_CLOCK, ScheduledLoop, unsupported
from ._originals import REAL
from ._run import loop_of, start_task
from ._tasks import Future, Task, TaskWait, _Scope, current

__all__ = [
    "TaskGroup",
    "all_tasks",
    "as_completed",
    "create_task",
    "current_task",
    "gather",
    "shield",
    "sleep",
    "timeout",
    "timeout_at",
    "to_thread",
    "wait",
    "wait_for",
]

_real: dict[str, Any] = REAL
_CLOCK_READ = Operation("read", CLOCK, "timeout", footprint=((CLOCK, READ),))


def _task(rt: Runtime | None) -> Task | None:
    return current(rt)


@functools.lru_cache(maxsize=256)
def _sleep_op(delay: float) -> Operation:
    if delay <= 0:
        return Operation("yield", (), "sleep(0)")
    # Moves the clock: ordered with timeouts and other sleeps (they read and move it).
    return Operation("update", CLOCK, f"sleep({delay:g})", footprint=WRITE_CLOCK)


async def sleep(delay: float, result: Any = None) -> Any:
    """``asyncio.sleep``: a suspension point; virtual time moves on by ``delay``."""
    rt = sim()
    task = _task(rt)
    if task is None:
        return await _real["sleep"](delay, result)
    assert rt is not None
    delay = float(delay)
    task.suspend(rt, _sleep_op(delay))
    loop = task.get_loop()
    assert isinstance(loop, ScheduledLoop)
    if delay > 0:
        scope = task._deadline()
        end = loop.clock + delay
        if scope is not None and scope.deadline is not None and end >= scope.deadline:
            # The timeout fires during the sleep: the clock stops at the deadline.
            loop.clock = max(loop.clock, scope.deadline)
            scope.expired = True
            raise CancelledError()
        loop.clock = end
    return result


def create_task(coro: Any, *, name: str | None = None, context: Any = None) -> Any:
    """``asyncio.create_task``: in an execution, a new task scheduled like the others."""
    rt = sim()
    if _task(rt) is None:
        return _real["create_task"](coro, name=name, context=context)
    return start_task(coro, name=name)


def current_task(loop: Any = None) -> Any:
    """``asyncio.current_task``: the execution's task the caller runs in."""
    task = _task(sim())
    if task is None:
        return _real["current_task"](loop)
    task._observed = True  # a handle exists now: its end must be a step
    return task


def all_tasks(loop: Any = None) -> set[Any]:
    """``asyncio.all_tasks``: the execution's unfinished tasks."""
    rt = sim()
    if _task(rt) is None:
        return set(_real["all_tasks"](loop))
    assert rt is not None
    found = set()
    for task in loop_of(rt).tasks:
        if not task.done():
            task._observed = True
            found.add(task)
    return found


def _ensure(aw: Any, rt: Runtime) -> Future:
    if isinstance(aw, Future):
        return aw
    if asyncio.iscoroutine(aw):
        return start_task(aw)
    if isinstance(aw, asyncio.Future):
        raise unsupported(f"awaiting {aw!r} (a future of another event loop)", "")
    if hasattr(aw, "__await__"):

        async def wrap() -> Any:
            return await aw

        return start_task(wrap())
    raise TypeError(f"An asyncio.Future, a coroutine or an awaitable is required, not {aw!r}")


class _AnyDone(TaskWait):
    __slots__ = ("futures",)

    def __init__(self, futures: list[Future], task: Task) -> None:
        super().__init__(futures[0]._end_resource, task)
        self.futures = futures

    def inner_ready(self) -> bool:
        return any(f.done() for f in self.futures)

    def describe(self) -> str:
        return " or ".join(f._describe() for f in self.futures)


def _any_done_op(futures: list[Future], label: str) -> Operation:
    return Operation(
        "join",
        futures[0]._end_resource,
        label,
        footprint=tuple((f._end_resource, READ) for f in futures),
    )


def _wait_all(rt: Runtime, task: Task, futures: list[Future], label: str) -> None:
    """Wait, without being cancelled, until every future is done (cleanup after a cancel)."""
    pending = [f for f in futures if not f.done()]
    while pending:
        wait = _AnyDone(pending, task)
        wait.task = _NOT_CANCELLED
        rt.block(_any_done_op(pending, label), wait)
        pending = [f for f in pending if not f.done()]


class _NeverCancelled:
    _must_cancel = False


_NOT_CANCELLED: Any = _NeverCancelled()


async def gather(*aws: Awaitable[Any], return_exceptions: bool = False) -> list[Any]:
    """``asyncio.gather``: run the awaitables as tasks; their results in order.

    The first exception is raised as soon as its task ends (the others go on), unless
    ``return_exceptions``; cancelling the gathering task cancels every child.
    """
    rt = sim()
    task = _task(rt)
    if task is None:
        return await _real["gather"](*aws, return_exceptions=return_exceptions)  # type: ignore[no-any-return]
    assert rt is not None
    futures = [_ensure(aw, rt) for aw in aws]
    children = list(dict.fromkeys(futures))  # a future given twice is awaited once
    seen: set[int] = set()
    pending = list(children)
    while True:
        for child in children:
            if child.done() and id(child) not in seen:
                seen.add(id(child))
                if not return_exceptions:
                    if child.cancelled():
                        raise CancelledError()
                    exc = child.exception()
                    if exc is not None:
                        raise exc
        pending = [c for c in pending if not c.done()]
        if not pending:
            break
        try:
            task.suspend(rt, _any_done_op(pending, "gather"), _AnyDone(pending, task))
        except CancelledError:
            for child in pending:
                if not child.done():
                    child.cancel()
            _wait_all(rt, task, pending, "gather (cancelled)")
            raise
    results: list[Any] = []
    for future in futures:
        if future.cancelled():
            results.append(CancelledError())
        else:
            exc = future.exception()
            results.append(exc if exc is not None else future.result())
    return results


class Timeout:
    """``asyncio.timeout``/``timeout_at``: a scope whose deadline is on the virtual clock."""

    def __init__(self, when: float | None) -> None:
        self._when = when
        self._scope: Any = None
        self._task: Task | None = None

    def when(self) -> float | None:
        return self._when

    def reschedule(self, when: float | None) -> None:
        self._when = when
        if self._scope is not None:
            self._scope.deadline = when

    def expired(self) -> bool:
        return self._scope is not None and bool(self._scope.expired)

    async def __aenter__(self) -> Timeout:

        rt = sim()
        task = _task(rt)
        if task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._task = task
        self._scope = _Scope(self._when)
        task._scopes.append(self._scope)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        task = self._task
        assert task is not None
        task._scopes.remove(self._scope)
        if self._scope.expired and exc_type is CancelledError:
            raise TimeoutError from exc
        return None


def _now(rt: Runtime) -> float:
    rt.access(_CLOCK_READ)
    return loop_of(rt).clock


def timeout(delay: float | None) -> Any:
    """``asyncio.timeout``: the deadline is ``delay`` after now, on the virtual clock."""
    rt = sim()
    if _task(rt) is None:
        return _real["timeout"](delay)
    assert rt is not None
    return Timeout(None if delay is None else _now(rt) + delay)


def timeout_at(when: float | None) -> Any:
    """``asyncio.timeout_at``: a deadline on the virtual clock (``loop.time()``)."""
    if _task(sim()) is None:
        return _real["timeout_at"](when)
    return Timeout(when)


async def wait_for(aw: Awaitable[Any], timeout: float | None) -> Any:
    """``asyncio.wait_for`` (as Python 3.12 has it): ``aw`` inside a timeout scope."""
    rt = sim()
    task = _task(rt)
    if task is None:
        return await _real["wait_for"](aw, timeout)
    assert rt is not None
    if timeout is not None and timeout <= 0:
        future = _ensure(aw, rt)
        if future.done():
            return future.result()
        future.cancel()
        _wait_all(rt, task, [future], "wait_for (cancel)")
        try:
            return future.result()
        except CancelledError as exc:
            raise TimeoutError from exc
    async with Timeout(None if timeout is None else _now(rt) + timeout):
        if isinstance(aw, Future):
            return await _await_cancelling(rt, task, aw)
        return await aw


async def _await_cancelling(rt: Runtime, task: Task, future: Future) -> Any:
    # Awaiting a task in a timeout: when the timeout fires, the task is cancelled and waited
    # for, as asyncio does (the timeout cancels the awaiting task, which cancels what it awaits).
    try:
        return await future
    except CancelledError:
        if not future.done():
            future.cancel()
            _wait_all(rt, task, [future], "wait_for (cancel)")
        raise


class TaskGroup:
    """``asyncio.TaskGroup``: tasks that end together; a failure cancels the others and the
    body, and the failures are raised as an ``ExceptionGroup``."""

    def __init__(self) -> None:
        self._name = auto_name("taskgroup", None)
        self._resource: Resource = ("taskgroup", self._name)
        self._exit_op = Operation(
            "update", self._resource, "exit", footprint=((self._resource, WRITE),)
        )
        self._tasks: list[Task] = []
        self._errors: list[BaseException] = []
        self._entered = False
        self._exiting = False
        self._aborting = False
        self._parent: Task | None = None
        self._parent_cancel_requested = False

    def __repr__(self) -> str:
        return f"<TaskGroup {self._name!r} tasks={len(self._tasks)}>"

    async def __aenter__(self) -> TaskGroup:
        if self._entered:
            raise RuntimeError(f"TaskGroup {self!r} has already been entered")
        parent = _task(sim())
        if parent is None:
            raise RuntimeError(f"TaskGroup {self!r} cannot determine the parent task")
        self._parent = parent
        self._entered = True
        return self

    def create_task(self, coro: Any, *, name: str | None = None, context: Any = None) -> Task:
        if not self._entered:
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} has not been entered")
        if self._exiting and not any(not t.done() for t in self._tasks):
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} is finished")
        if self._aborting:
            coro.close()
            raise RuntimeError(f"TaskGroup {self!r} is shutting down")
        task = start_task(coro, name=name, group=self)
        self._tasks.append(task)
        return task

    def _abort(self) -> None:
        self._aborting = True
        for task in self._tasks:
            if not task.done():
                task.cancel()

    def _on_task_done(self, task: Task) -> None:
        # Runs in the child's thread, right after its end step (which writes the group).
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        self._errors.append(exc)
        task._log_traceback = False  # the group raises it
        if not self._aborting:
            self._abort()
        parent = self._parent
        if not self._exiting and parent is not None and not self._parent_cancel_requested:
            self._parent_cancel_requested = True
            parent.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        rt = sim()
        task = self._parent
        assert rt is not None and task is not None
        rt.access(self._exit_op)
        self._exiting = True
        # As Python 3.11's TaskGroup: a cancellation of the body that the group itself
        # requested is swallowed (the errors say why); any other one propagates.
        propagate: BaseException | None = None
        if exc_type is not None:
            if exc_type is CancelledError and not (
                self._parent_cancel_requested and task.uncancel() == 0
            ):
                propagate = exc
            if not self._aborting:
                self._abort()
        while True:
            pending: list[Future] = [t for t in self._tasks if not t.done()]
            if not pending:
                break
            try:
                task.suspend(rt, _any_done_op(pending, "TaskGroup exit"), _AnyDone(pending, task))
            except CancelledError as cancelled:
                if not self._aborting:
                    propagate = cancelled
                    self._abort()
        if exc is not None and not isinstance(exc, Exception | CancelledError):
            raise exc  # KeyboardInterrupt, SystemExit: as asyncio does
        if propagate is not None:
            raise propagate
        if exc is not None and exc_type is not CancelledError:
            self._errors.append(exc)
        if self._errors:
            errors = self._errors
            self._errors = []
            raise BaseExceptionGroup("unhandled errors in a TaskGroup", errors)
        return None


def _refuse(name: str, instead: str) -> Callable[..., Any]:
    real = _real[name]

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        if _task(sim()) is None:
            return real(*args, **kwargs)
        raise unsupported(f"asyncio.{name}()", instead)

    stand_in.__name__ = stand_in.__qualname__ = name
    stand_in.__doc__ = f"``asyncio.{name}``: refused in an execution's tasks ({instead})."
    return stand_in


# Annotated: the compiled core's build type-checks this module inside an import cycle, where
# mypy cannot infer them in time ("Cannot determine type").
wait: Callable[..., Any] = _refuse("wait", "Use asyncio.gather() or a TaskGroup")
as_completed: Callable[..., Any] = _refuse("as_completed", "Use asyncio.gather() or a TaskGroup")
shield: Callable[..., Any] = _refuse("shield", "Explore the shielded code without shield()")
to_thread: Callable[..., Any] = _refuse(
    "to_thread", "Explore the blocking code as threads in a scenario of its own"
)
