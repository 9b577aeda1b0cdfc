"""Cancellation as a choice (``explore(..., cancellation=True)``).

It adds a pair of daemon threads per task: a *canceller*, whose single step cancels the task
(a write of the task's cancellation state, which each of the task's suspension points reads, so
DPOR explores the cancellation arriving at every one of them), and a *decliner*, whose step
decides that the task is never cancelled; the first of the two to run takes the task's one-shot
decision. At most one cancellation happens per execution. A task blocked for good is cancelled
in some executions and stuck (a deadlock finding) in the others.
"""

from __future__ import annotations

from ..._core._ops import GIVE, TAKE, Operation, Resource
from ..._core._runtime import Runtime
from ..._core._threads import SimThread, Wait
from .._base import sim
from ._tasks import Task

__all__ = ["Canceller", "add_canceller", "cancellers", "explores_cancellation"]

_CANCELLATION: Resource = ("cancellation",)


def explores_cancellation(rt: Runtime) -> bool:
    program = rt.program
    return program is not None and getattr(program.options, "cancellation", False)


class _Cancellations:
    """This execution's cancellation state (a Runtime slot): whether its one cancellation has
    happened, and the tasks whose canceller pair has decided."""

    __slots__ = ("decided", "fired")

    def __init__(self) -> None:
        self.fired = False
        self.decided: set[int] = set()


class _CancellerWait(Wait):
    # Enabled by local state only (the one-shot tokens the pair's steps TAKE), so DPOR sees
    # every step that disables it: a rule such as "only while another thread can run" would
    # depend on every thread's state, which no footprint records.
    __slots__ = ("decline", "state", "target")

    def __init__(self, resource: Resource, state: _Cancellations, target: int, decline: bool):
        super().__init__(resource)
        self.state, self.target, self.decline = state, target, decline

    def is_ready(self) -> bool:
        if self.target in self.state.decided:
            return False
        return self.decline or not self.state.fired

    def describe(self) -> str:
        return "its turn to cancel"


class Canceller:
    """The function of a canceller thread for the task of thread ``target``: a pair of them
    (one cancels, one declines) race for the task's one-shot decision, so both "cancelled
    here" and "never cancelled" are explored (a deadlock is still found in the second)."""

    __slots__ = ("__name__", "decline", "target")

    def __init__(self, target: int, *, decline: bool = False) -> None:
        self.target = target
        self.decline = decline
        self.__name__ = "no-cancel" if decline else "cancel"

    def __call__(self) -> None:
        rt = sim()
        assert rt is not None
        me = rt.current
        assert me is not None
        rt.mark_daemon(me)  # it never keeps the execution alive
        target = rt.threads[self.target]
        resource = ("task", target.name)
        decision: Resource = ("cancellation", target.name)
        if self.decline:
            op = Operation(
                "update", decision, f"never cancel {target.name!r}", footprint=((decision, TAKE),)
            )
        else:
            op = Operation(
                "update",
                resource,
                f"cancel task {target.name!r}",
                footprint=((resource, GIVE), (decision, TAKE), (_CANCELLATION, TAKE)),
            )
        state = rt.slot(_Cancellations)
        rt.block(op, _CancellerWait(decision, state, self.target, self.decline))
        state.decided.add(self.target)
        if self.decline:
            return
        state.fired = True
        task = target.handle
        if isinstance(task, Task):
            task._request_cancel("cancelled by interleave (cancellation=True)")


def cancellers(target: int) -> tuple[Canceller, Canceller]:
    """The canceller pair of the task of thread ``target``."""
    return Canceller(target), Canceller(target, decline=True)


def add_canceller(rt: Runtime, thread: SimThread) -> None:
    """Give a task made by ``create_task`` its canceller pair."""
    for fn in cancellers(thread.tid):
        rt.mark_daemon(rt.new_thread(fn, (), None))
