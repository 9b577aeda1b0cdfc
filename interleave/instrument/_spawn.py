"""Starting threads from inside a scenario: ``interleave.spawn``."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from .._core._findings import Hold
from .._core._ops import WRITE, Operation, Resource
from .._core._runtime import Runtime
from .._core._threads import DONE, SimThread, Wait
from ._base import refuse_threads_in_task, sim

__all__ = ["ThreadHandle", "join_operation", "spawn", "spawn_operation"]

# Bound at import: while threading is patched for an execution, threading.Thread is a shim.
_RealThread = threading.Thread


_THREADS: Resource = ("threads",)


class _JoinOps(NamedTuple):
    joined: Operation
    timed_out: Operation


@functools.lru_cache(maxsize=4096)
def _join_ops(resource: Resource) -> _JoinOps:
    return _JoinOps(
        joined=Operation("join", resource, "join"),
        timed_out=Operation("join-timeout", resource, "join (timed out)"),
    )


def _resolve_join(rt: Runtime, thread: SimThread) -> Operation:
    wait = thread.wait
    assert isinstance(wait, _JoinWait)
    ops = _join_ops(wait.resource)
    if wait.timeout and not wait.is_ready():
        return ops.timed_out
    return ops.joined


def join_operation(target: SimThread) -> Operation:
    """The pending operation of a join of ``target`` (it reads whether the thread ended)."""
    resource = ("thread", target.name)
    return Operation("join", resource, "join", resolve=_resolve_join)


def spawn_operation(parent: SimThread, label: str) -> Operation:
    """The operation of starting a thread.

    Every start takes the next thread number (and a name numbered per function), so two
    starts by different threads do not commute: they write the shared thread table.
    """
    return Operation("spawn", ("thread", parent.name), label, footprint=((_THREADS, WRITE),))


class _JoinWait(Wait):
    __slots__ = ("target",)

    def __init__(self, target: SimThread, timeout: bool) -> None:
        super().__init__(("thread", target.name), timeout=timeout)
        self.target = target

    def is_ready(self) -> bool:
        return self.target.state == DONE

    def holders(self) -> list[Hold]:
        return [Hold(thread=self.target.name, resource=self.describe(), step=None, location=None)]

    def describe(self) -> str:
        return f"thread {self.target.name!r} to finish"


class ThreadHandle:
    """A started thread: ``join()`` waits for it, ``is_alive()`` asks.

    Returned by :func:`spawn`. Outside an exploration it wraps a real ``threading.Thread``.
    """

    __slots__ = ("_real", "_rt", "_thread", "name")

    def __init__(
        self,
        name: str,
        *,
        thread: SimThread | None = None,
        rt: Runtime | None = None,
        real: threading.Thread | None = None,
    ) -> None:
        self.name = name
        self._thread = thread
        self._rt = rt
        self._real = real

    def join(self, timeout: float | None = None) -> None:
        """Wait until the thread finishes (or the timeout passes)."""
        if self._real is not None:
            self._real.join(timeout)
            return
        rt = sim()
        target = self._thread
        assert target is not None
        if rt is None or rt is not self._rt:
            if target.state != DONE:
                raise RuntimeError(
                    f"cannot join simulated thread {self.name!r} from outside its execution"
                )
            return
        if rt.current is target:
            raise RuntimeError("cannot join current thread")
        rt.block(join_operation(target), _JoinWait(target, timeout is not None))

    def is_alive(self) -> bool:
        """Has the thread not finished yet?"""
        if self._real is not None:
            return self._real.is_alive()
        rt = sim()
        assert self._thread is not None
        if rt is not None and rt is self._rt:
            rt.access(Operation("read", ("thread", self._thread.name), "is_alive"))
        return self._thread.state != DONE

    def __repr__(self) -> str:
        return f"<ThreadHandle {self.name!r}>"


def spawn(fn: Callable[..., Any], *args: Any, name: str | None = None) -> ThreadHandle:
    """Start ``fn(*args)`` as a new thread and return its handle.

    Inside an exploration the new thread is scheduled like the others; its name is derived
    from ``fn`` (``worker#3``) or ``name``, and is the same in every execution. Outside an
    exploration a real ``threading.Thread`` is started.

    Example::

        def parent():
            child = interleave.spawn(worker, 1)
            child.join()
    """
    if not callable(fn):
        from ..errors import InvalidArgument

        raise InvalidArgument(f"spawn() needs a callable, not {type(fn).__name__}")
    rt = sim()
    if rt is None:
        real = _RealThread(target=fn, args=args, name=name, daemon=True)
        real.start()
        return ThreadHandle(real.name, real=real)
    me = rt.current
    assert me is not None
    refuse_threads_in_task(rt, "interleave.spawn()")
    rt.access(spawn_operation(me, "spawn"))
    child = rt.new_thread(fn, args, name)
    rt.observable(child)
    handle = ThreadHandle(child.name, thread=child, rt=rt)
    child.handle = handle
    return handle
