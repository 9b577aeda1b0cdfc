"""Cancellation as a choice (``explore(..., cancellation=True)``).

It adds one *canceller* per task: a daemon thread whose single step cancels its task (a write
of the task's cancellation state, which each of the task's suspension points reads, so DPOR
explores the cancellation arriving at every one of them). At most one cancellation happens per
execution, and a canceller may run only while some other thread can (so a deadlock is still a
deadlock, not cancelled away).
"""

from __future__ import annotations

from ..._core._ops import GIVE, TAKE, Operation, Resource
from ..._core._runtime import Runtime
from ..._core._threads import READY, SimThread, Wait
from .._base import sim
from ._tasks import Task

__all__ = ["Canceller", "add_canceller", "explores_cancellation"]

_CANCELLATION: Resource = ("cancellation",)


def explores_cancellation(rt: Runtime) -> bool:
    program = rt.program
    return program is not None and getattr(program.options, "cancellation", False)


class _Cancellations:
    """Whether this execution's one cancellation has happened (a Runtime slot)."""

    __slots__ = ("fired",)

    def __init__(self) -> None:
        self.fired = False


class _CancellerWait(Wait):
    __slots__ = ("rt", "state")

    def __init__(self, rt: Runtime, state: _Cancellations) -> None:
        super().__init__(_CANCELLATION)
        self.rt, self.state = rt, state

    def is_ready(self) -> bool:
        if self.state.fired:
            return False
        # Only while something else can run: a cancellation does not end a deadlock.
        for thread in self.rt.threads:
            if thread.state != READY or isinstance(thread.fn, Canceller):
                continue
            wait = thread.wait
            if wait is None or wait.timeout or wait.is_ready():
                return True
        return False

    def describe(self) -> str:
        return "its turn to cancel"


class Canceller:
    """The function of a canceller thread: cancel the task of thread ``target`` once."""

    __slots__ = ("__name__", "target")

    def __init__(self, target: int) -> None:
        self.target = target
        self.__name__ = "cancel"

    def __call__(self) -> None:
        rt = sim()
        assert rt is not None
        me = rt.current
        assert me is not None
        rt.mark_daemon(me)  # it never keeps the execution alive
        target = rt.threads[self.target]
        resource = ("task", target.name)
        op = Operation(
            "update",
            resource,
            f"cancel task {target.name!r}",
            footprint=((resource, GIVE), (_CANCELLATION, TAKE)),
        )
        state = rt.slot(_Cancellations)
        rt.block(op, _CancellerWait(rt, state))
        state.fired = True
        task = target.handle
        if isinstance(task, Task):
            task._request_cancel("cancelled by interleave (cancellation=True)")


def add_canceller(rt: Runtime, thread: SimThread) -> None:
    canceller = rt.new_thread(Canceller(thread.tid), (), None)
    rt.mark_daemon(canceller)
