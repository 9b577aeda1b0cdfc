"""Simulated threads and what a blocked one waits for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from ._native import mypyc_attr
from ._ops import Location, Operation, Resource

if TYPE_CHECKING:
    import greenlet

    from ._findings import Hold

__all__ = ["DONE", "NEW", "READY", "SimThread", "Wait"]

# Thread states. A READY thread has a pending operation; a NEW one has not run yet.
NEW = 0
READY = 1
DONE = 2


@mypyc_attr(allow_interpreted_subclasses=True)
class Wait:
    """What a blocked operation waits for. Primitives subclass it.

    The scheduler treats a thread whose pending operation carries a ``Wait`` as enabled when
    :meth:`is_ready` is true, or when ``timeout`` is set (it may then time out: a scheduling
    choice like any other).
    """

    __slots__ = ("resource", "timeout")

    #: True for an asyncio task's wait at an ``await``: its event loop runs the other tasks
    #: meanwhile. A task's other waits block the loop's thread (see ``Runtime.block``).
    cooperative: ClassVar[bool] = False

    def __init__(self, resource: Resource, *, timeout: bool = False) -> None:
        self.resource = resource
        self.timeout = timeout

    def is_ready(self) -> bool:
        """Could the operation complete now?"""
        raise NotImplementedError

    def holders(self) -> list[Hold]:
        """Threads that hold what this waits for (edges of the lock-wait graph)."""
        return []

    def describe(self) -> str:
        """A short text such as ``lock 'fork-1'``."""
        from ._ops import describe_resource

        return describe_resource(self.resource)


class SimThread:
    """One logical thread of a scenario, run as a greenlet by the runtime."""

    __slots__ = (
        "args",
        "created_at",
        "daemon",
        "end_op",
        "ended",
        "error",
        "fn",
        "glet",
        "handle",
        "location",
        "name",
        "pending",
        "result",
        "state",
        "steps",
        "tid",
        "unwound",
        "wait",
    )

    def __init__(self, tid: int, name: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.tid = tid
        self.name = name
        self.fn = fn
        self.args = args
        #: The greenlet running it: None before it starts and after the execution (the
        #: greenlet then goes back to the runtime's pool).
        self.glet: greenlet.greenlet | None = None
        #: Its function has returned, raised, or been unwound.
        self.ended = False
        self.state = NEW
        self.pending: Operation | None = None
        self.location: Location | None = None
        self.wait: Wait | None = None
        self.steps = 0
        self.result: Any = None
        self.error: BaseException | None = None
        self.daemon = False  # a daemon thread does not keep the execution alive
        self.unwound = False  # ended by the runtime's unwinding, not by returning
        self.handle: Any = None
        #: The step during which another thread created it (-1: before the first step).
        self.created_at = -1
        #: The operation of its last step when others can observe its end (see
        #: ``Runtime.observable``), else None: it then ends with its last operation.
        self.end_op: Operation | None = None

    def __repr__(self) -> str:
        return f"<SimThread {self.tid} {self.name!r}>"
