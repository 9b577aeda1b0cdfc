"""Counting and bounded semaphores with the ``threading.Semaphore`` API.

Inside an exploration every acquire and release is a yield point and a thread waiting for a
permit is not runnable; outside one each object delegates to the real ``threading`` semaphore.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from .._core._findings import Hold
from .._core._ops import GIVE, READ, TAKE, WRITE, Location, Operation, Resource
from .._core._runtime import Runtime
from .._core._threads import SimThread, Wait
from ._base import auto_name, sim
from ._sync import RealBoundedSemaphore, RealSemaphore, Releasable
from ._sync import op as _op

__all__ = ["BoundedSemaphore", "Semaphore"]


def _validate_sem_acquire(blocking: bool, timeout: float | None) -> bool:
    """Return whether the call may time out, with ``threading.Semaphore``'s argument rules:
    ``None`` means no timeout, and a negative timeout is allowed (it times out at once when no
    permit is free). Locks have stricter ones (``_locks._validate_acquire``)."""
    if not blocking and timeout is not None:
        raise ValueError("can't specify timeout for non-blocking acquire")
    return timeout is not None


class _SemWait(Wait):
    __slots__ = ("rt", "sem")

    def __init__(self, sem: Semaphore, rt: Runtime, timeout: bool) -> None:
        super().__init__(sem._resource, timeout=timeout)
        self.sem, self.rt = sem, rt

    def is_ready(self) -> bool:
        return self.sem._sim_value(self.rt) > 0

    def holders(self) -> list[Hold]:
        sem = self.sem
        if sem._rt is not self.rt:
            return []
        return [
            Hold(thread=t.name, resource=self.describe(), step=step, location=where)
            for t, step, where in sem._holders
        ]


class _SemaphoreOps(NamedTuple):
    """What a semaphore's operations resolve to (shared by every semaphore of the name)."""

    took: Operation  # took a permit, others are left
    took_last: Operation  # took the last permit: the semaphore becomes unavailable
    took_timed: Operation
    took_timed_last: Operation
    took_try: Operation
    took_try_last: Operation
    timed_out: Operation  # found no permit: only read the count
    busy: Operation
    released: Operation  # permits were left already
    released_first: Operation  # returned a permit to an empty semaphore: available again


@functools.lru_cache(maxsize=4096)
def _semaphore_ops(resource: Resource) -> _SemaphoreOps:
    return _SemaphoreOps(
        took=_op("acquire", resource, "acquire", WRITE),
        took_last=_op("acquire", resource, "acquire", TAKE),
        took_timed=_op("acquire", resource, "acquire (timed)", WRITE),
        took_timed_last=_op("acquire", resource, "acquire (timed)", TAKE),
        took_try=_op("acquire", resource, "try-acquire", WRITE),
        took_try_last=_op("acquire", resource, "try-acquire", TAKE),
        timed_out=_op("acquire-failed", resource, "acquire (timed out)", READ),
        busy=_op("acquire-failed", resource, "try-acquire (busy)", READ),
        released=_op("release", resource, "release", WRITE),
        released_first=_op("release", resource, "release", GIVE),
    )


class Semaphore(Releasable):
    """A counting semaphore with the ``threading.Semaphore`` API."""

    __slots__ = (
        "_acquire_op",
        "_holders",
        "_initial",
        "_ops",
        "_real",
        "_release_op",
        "_resource",
        "_rt",
        "_timed_op",
        "_try_op",
        "_value",
        "name",
    )
    _kind = "semaphore"

    def __init__(self, value: int = 1, *, name: str | None = None) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self.name = auto_name(self._kind, name)
        self._resource = ("semaphore", self.name)
        self._initial = value
        self._value = value
        self._rt: Runtime | None = None
        self._holders: list[tuple[SimThread, int | None, Location | None]] = []
        resource = self._resource
        ops = self._ops = _semaphore_ops(resource)
        self._acquire_op = Operation(
            "acquire", resource, "acquire", resolve=self._resolve_wait, potential=ops.took_last
        )
        self._timed_op = Operation(
            "acquire",
            resource,
            "acquire (timed)",
            resolve=self._resolve_timed,
            potential=ops.took_last,
        )
        self._try_op = Operation(
            "acquire", resource, "try-acquire", resolve=self._resolve_try, potential=ops.took_last
        )
        self._release_op = Operation(
            "release",
            resource,
            "release",
            resolve=self._resolve_release,
            potential=ops.released_first,
        )
        self._real: Any = self._make_real(value)

    # What an acquire or release does when it runs (see Operation.resolve). A blocked
    # acquire without a timeout resolves to what it will do once a permit is free.
    def _resolve_wait(self, rt: Runtime, thread: SimThread) -> Operation:
        return self._ops.took if self._sim_value(rt) > 1 else self._ops.took_last

    def _resolve_timed(self, rt: Runtime, thread: SimThread) -> Operation:
        value = self._sim_value(rt)
        if value <= 0:
            return self._ops.timed_out
        return self._ops.took_timed if value > 1 else self._ops.took_timed_last

    def _resolve_try(self, rt: Runtime, thread: SimThread) -> Operation:
        value = self._sim_value(rt)
        if value <= 0:
            return self._ops.busy
        return self._ops.took_try if value > 1 else self._ops.took_try_last

    def _resolve_release(self, rt: Runtime, thread: SimThread) -> Operation:
        return self._ops.released_first if self._sim_value(rt) <= 0 else self._ops.released

    def _make_real(self, value: int) -> Any:
        return RealSemaphore(value)

    def _sim_value(self, rt: Runtime) -> int:
        if self._rt is not rt:
            # First use in this execution: start from the real semaphore's count, which the
            # scenario factory (run outside the scheduler) may have changed, as Event does.
            value = getattr(self._real, "_value", self._initial)
            self._rt, self._value, self._holders = rt, value, []
        return self._value

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a permit, waiting for one if needed (unless ``blocking=False``/timeout)."""
        may_time_out = _validate_sem_acquire(blocking, timeout)
        rt = sim()
        if rt is None:
            return bool(self._real.acquire(blocking, timeout))
        me = rt.current
        assert me is not None
        if not blocking:
            rt.access(self._try_op)
            ok = self._sim_value(rt) > 0
        else:
            op = self._timed_op if may_time_out else self._acquire_op
            ok = rt.block(op, _SemWait(self, rt, may_time_out))
        if ok:
            self._sim_value(rt)
            self._value -= 1
            self._holders.append((me, rt.step_index, me.location))
        return ok

    def release(self, n: int = 1) -> None:
        """Return ``n`` permits."""
        if n < 1:
            raise ValueError("n must be one or more")
        rt = sim()
        if rt is None:
            self._real.release(n)
            return
        me = rt.current
        rt.access(self._release_op)
        value = self._sim_value(rt) + n
        self._check_bound(value)
        self._value = value
        for _ in range(n):
            for k, (t, _step, _where) in enumerate(self._holders):
                if t is me:
                    del self._holders[k]
                    break
            else:
                if self._holders:
                    del self._holders[0]

    def _check_bound(self, value: int) -> None:
        pass

    __enter__ = acquire


class BoundedSemaphore(Semaphore):
    """A semaphore that raises ``ValueError`` when released more often than acquired."""

    __slots__ = ()
    _kind = "bounded-semaphore"

    def _make_real(self, value: int) -> Any:
        return RealBoundedSemaphore(value)

    def _check_bound(self, value: int) -> None:
        if value > self._initial:
            raise ValueError("Semaphore released too many times")
