"""The event loop of one execution: the running loop its tasks see, and its virtual clock.

It runs nothing by itself: every task is a simulated thread (see :mod:`._tasks`), and the
scheduler decides which one goes on. The loop exists because asyncio code asks for one
(``asyncio.get_running_loop()``, ``loop.create_future()``, ``loop.time()``) and because futures
schedule their done callbacks on it; those run in the step that completed the future, right
after it.

Time is virtual: ``loop.time()`` starts at 0 and only ``asyncio.sleep(d)`` moves it, by ``d``;
no real time passes. A timeout fires where the clock passes its deadline, or at a wait that
cannot go on (a choice, as a timed wait is for threads).
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
from asyncio import events
from collections.abc import Callable
from typing import Any

from ..._core._ops import READ, WRITE, Operation, Resource
from ..._core._runtime import Runtime
from ...errors import ScenarioError
from .._base import sim

__all__ = ["CLOCK", "LoopState", "ScheduledLoop", "unsupported"]

#: The virtual clock: sleeps write it, timeouts and ``loop.time()`` read it.
CLOCK: Resource = ("clock",)
_READ_CLOCK = Operation("read", CLOCK, "loop.time()", footprint=((CLOCK, READ),))
WRITE_CLOCK = ((CLOCK, WRITE),)


def unsupported(what: str, instead: str) -> ScenarioError:
    """The error for an asyncio feature interleave does not schedule (yet)."""
    return ScenarioError(
        f"{what} is not supported in an interleave exploration: its steps would not be "
        f"scheduled, so the result would prove nothing. {instead}"
    )


class ScheduledLoop(asyncio.AbstractEventLoop):
    """The running loop of one execution's tasks (see the module docs)."""

    def __init__(
        self,
        rt: Runtime,
        *,
        new_future: Callable[..., asyncio.Future[Any]],
        start_task: Callable[..., Any],
    ) -> None:
        # The future and task classes live in modules that build on this one (no cycle).
        self._rt = rt
        self._new_future = new_future
        self._start_task = start_task
        self.clock = 0.0
        self._ready: collections.deque[asyncio.Handle] = collections.deque()
        self._running_callbacks = False
        self.unretrieved: list[Any] = []
        #: Every task of the execution (for the findings of exceptions nobody retrieved).
        self.tasks: list[Any] = []

    # --- what asyncio code asks of a running loop
    def time(self) -> float:
        """The virtual clock (a read of it: sleeps of other tasks move it)."""
        rt = sim()
        if rt is not None:
            rt.access(_READ_CLOCK)
        return self.clock

    def create_future(self) -> asyncio.Future[Any]:
        return self._new_future(loop=self)

    def create_task(
        self, coro: Any, *, name: str | None = None, context: Any = None, **_options: Any
    ) -> Any:  # _options: eager_start (newer Pythons): a scheduled loop starts tasks its own way
        return self._start_task(coro, name=name)

    def call_soon(  # type: ignore[override]
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def run_ready(self) -> None:
        """Run the callbacks futures scheduled (in the step that completed them)."""
        if self._running_callbacks:
            return
        self._running_callbacks = True
        try:
            while self._ready:
                handle = self._ready.popleft()
                if not handle.cancelled():
                    handle._run()
        finally:
            self._running_callbacks = False

    def call_later(  # type: ignore[override]
        self, delay: float, callback: Callable[..., object], *args: Any, **kw: Any
    ) -> Any:
        raise unsupported(
            "loop.call_later()", "Use asyncio.sleep(), asyncio.timeout() or asyncio.wait_for()"
        )

    def call_at(self, when: float, callback: Callable[..., object], *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        raise unsupported(
            "loop.call_at()", "Use asyncio.sleep(), asyncio.timeout() or asyncio.wait_for()"
        )

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        raise unsupported("loop.call_soon_threadsafe()", "Explore threads and tasks apart")

    def run_in_executor(self, executor: Any, func: Callable[..., object], *args: Any) -> Any:  # type: ignore[override]
        raise unsupported(
            "loop.run_in_executor()",
            "Explore the blocking code as threads in a scenario of its own",
        )

    def get_debug(self) -> bool:
        return False

    def set_debug(self, enabled: bool) -> None:
        pass

    def is_running(self) -> bool:
        return True

    def is_closed(self) -> bool:
        return False

    def get_exception_handler(self) -> None:
        return None

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        # asyncio reports a task's exception nobody retrieved here: it becomes a finding.
        self.unretrieved.append(context)

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.call_exception_handler(context)

    def __repr__(self) -> str:
        return f"<interleave ScheduledLoop time={self.clock:g}>"


class LoopState:
    """One execution's loop, and the running loop to put back when it ends (a Runtime slot)."""

    __slots__ = ("installed", "loop", "previous")

    def __init__(self) -> None:
        self.loop: ScheduledLoop | None = None
        self.installed = False
        self.previous: asyncio.AbstractEventLoop | None = None

    def install(self, loop: ScheduledLoop) -> None:
        """Make ``loop`` the OS thread's running loop until :meth:`restore`."""
        if not self.installed:
            # explore() may be called from an async test (its loop is running on this OS
            # thread): the execution's tasks see this loop, and the test's comes back at the end.
            self.previous = events._get_running_loop()
            events._set_running_loop(loop)
            self.installed = True

    def restore(self) -> None:
        """Put back the running loop of the OS thread (the execution is over)."""
        if self.installed:
            events._set_running_loop(self.previous)
            self.installed = False
            self.previous = None
