"""Event flags with the ``threading.Event`` API."""

from __future__ import annotations

import functools
from typing import NamedTuple

from .._core._ops import GIVE, READ, TAKE, WRITE, Operation, Resource
from .._core._runtime import Runtime
from .._core._threads import SimThread, Wait
from ._base import auto_name, sim
from ._sync import RealEvent, finished
from ._sync import op as _op

__all__ = ["Event"]


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
        self._real = RealEvent()

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
            if finished(self._rt):
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
