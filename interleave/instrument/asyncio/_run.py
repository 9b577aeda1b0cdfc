"""Running tasks: a scenario's ``async def`` threads, ``create_task``, and the loop they share.

A task's simulated thread runs :func:`drive`, which steps its coroutine; the coroutine
suspends inside the runtime's calls (see :mod:`._tasks`), so ``drive`` only sees a bare
``yield`` (``asyncio.sleep(0)``: a pure scheduling point) or a foreign future (refused).
"""

from __future__ import annotations

import asyncio
from asyncio import CancelledError
from typing import Any

from ..._core._findings import Finding
from ..._core._observer import Observer
from ..._core._ops import GIVE, WRITE, Operation
from ..._core._outcomes import crash_finding
from ..._core._runtime import Runtime
from ..._core._views import ExecutionView
from ...errors import ScenarioError
from .._base import sim
from .._spawn import spawn_operation
from ._cancel import add_canceller, explores_cancellation
from ._loop import LoopState, ScheduledLoop
from ._tasks import Future, Task, current

__all__ = ["AsyncMain", "UnretrievedExceptions", "drive", "loop_of", "start_task"]


def loop_of(rt: Runtime) -> ScheduledLoop:
    """This execution's loop, made on first use and made the OS thread's running loop."""
    state = rt.slot(LoopState)
    loop = state.loop
    if loop is None:
        loop = state.loop = ScheduledLoop(  # type: ignore[abstract]  # no I/O methods
            rt, new_future=Future, start_task=start_task
        )
        rt.add_observer(UnretrievedExceptions(loop.tasks))
    state.install(loop)
    return loop


class AsyncMain:
    """A scenario thread that is an ``async def`` function: it runs as a task."""

    __slots__ = ("__name__", "args", "fn")

    def __init__(self, fn: Any, args: tuple[Any, ...] = ()) -> None:
        self.fn = fn
        self.args = args
        self.__name__ = getattr(fn, "__name__", None) or "task"

    def __call__(self) -> Any:
        rt = sim()
        if rt is None:
            raise ScenarioError("an async scenario thread runs only inside an exploration")
        thread = rt.current
        assert thread is not None
        coro = self.fn(*self.args)
        if not asyncio.iscoroutine(coro):
            raise ScenarioError(
                f"{self.__name__}() returned {type(coro).__name__}, not a coroutine"
            )
        task = Task(coro, loop_of(rt), thread)
        return drive(rt, task, top=True)


class _TaskMain:
    """The function of a task made by ``create_task``: drive its coroutine."""

    __slots__ = ("__name__", "task")

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self.task: Task | None = None

    def __call__(self) -> Any:
        rt = sim()
        assert rt is not None and self.task is not None
        return drive(rt, self.task, top=False)


def _coro_name(coro: Any) -> str:
    name = getattr(coro, "__name__", None) or type(coro).__name__
    return str(name)


def start_task(coro: Any, *, name: str | None = None, group: Any = None) -> Task:
    """``asyncio.create_task`` in an execution: a new task (and its canceller, when the
    exploration explores cancellation); starting it is a step."""
    rt = sim()
    me = current(rt)
    if me is None or rt is None:
        if asyncio.iscoroutine(coro):
            coro.close()
        raise ScenarioError(
            "create_task() in an exploration must be called from one of the scenario's tasks "
            "(the scenario factory and threads have no running event loop)"
        )
    if not asyncio.iscoroutine(coro):
        raise TypeError(f"a coroutine was expected, got {coro!r}")
    spawn = spawn_operation(rt.current, "create_task")  # type: ignore[arg-type]
    if group is not None:
        # The group's state (its tasks, whether it is shutting down) is read here.
        spawn = Operation(
            spawn.kind,
            spawn.resource,
            spawn.label,
            footprint=(*spawn.footprint, (group._resource, WRITE)),
        )
    rt.access(spawn)
    main = _TaskMain(_coro_name(coro))
    thread = rt.new_thread(main, (), name)
    task = main.task = Task(coro, loop_of(rt), thread)
    task._observed = True
    task._group = group
    if group is not None:
        resource = group._resource
        task._end_op = Operation(
            "end",
            task._end_resource,
            "end",
            footprint=((task._end_resource, GIVE), (resource, WRITE)),
        )
    if explores_cancellation(rt):
        add_canceller(rt, thread)
    return task


def drive(rt: Runtime, task: Task, *, top: bool) -> Any:
    """Run ``task``'s coroutine to its end in the current greenlet (the task's thread)."""
    coro = task._coro
    throw: BaseException | None = None
    outcome: Any = None
    error: BaseException | None = None
    cancelled: CancelledError | None = None
    while True:
        try:
            yielded = coro.send(None) if throw is None else coro.throw(throw)
        except StopIteration as stop:
            outcome = stop.value
            break
        except CancelledError as exc:
            cancelled = exc
            break
        except Exception as exc:
            error = exc
            break
        throw = None
        # The coroutine gave control to the event loop itself: a bare ``yield`` (what
        # ``asyncio.sleep(0)`` does) is a pure scheduling point; anything else is a future
        # of another loop, which interleave cannot schedule.
        if yielded is None:
            try:
                task.checkpoint(rt, "yield")
            except CancelledError as exc:
                throw = exc
        else:
            throw = ScenarioError(
                f"task {task._name_!r} awaited {yielded!r}, which interleave does not schedule "
                "(a future of another event loop, or of a library that bypasses asyncio's "
                "primitives): use asyncio's own primitives, or explore this code with threads"
            )
    # The task's end: a step of its own when someone holds its handle (await, gather).
    if task._observed:
        rt.access(task._end_op)
    if cancelled is not None:
        Future.cancel(task, msg=cancelled.args[0] if cancelled.args else None)
    elif error is not None:
        _set(task, error, failed=True)
    else:
        _set(task, outcome, failed=False)
    group = task._group
    if group is not None:
        group._on_task_done(task)
    if error is not None and (top or not task._observed):
        task._log_traceback = False  # reported right here
        raise error  # a scenario task crashed: the runtime's crash finding
    return outcome


def _set(task: Task, value: Any, *, failed: bool) -> None:
    # The end step was taken already: complete the future without another one.
    if failed:
        asyncio.Future.set_exception(task, value)
    else:
        asyncio.Future.set_result(task, value)
    task._run_callbacks()


class UnretrievedExceptions(Observer):
    """A task that failed with nobody retrieving its exception: a crash finding."""

    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks

    def on_finish(self, execution: ExecutionView) -> list[Finding]:
        findings: list[Finding] = []
        for task in self.tasks:
            if task.done() and not task.cancelled() and task._log_traceback:
                exc = task.exception()
                assert isinstance(exc, Exception)
                findings.append(crash_finding(task._name_, exc, None))
        return findings
