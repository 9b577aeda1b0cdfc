"""``asyncio.Queue``, ``LifoQueue`` and ``PriorityQueue``, scheduled.

Every method is a step. A queue is two resources: ``("queue", name)``, its items, which every
``put``/``get`` writes and ``empty``/``qsize``/``full`` read (a ``get`` that empties it *takes*
it: getters must now wait; a ``put`` into an empty one *gives* it), and
``("queue-space", name)``, written by both when the queue is bounded (a ``put`` that fills it
takes it, a ``get`` from a full one gives it). ``task_done``/``join`` use a third,
``("queue-tasks", name)``. DPOR's hand-off rule then works as for a lock.
"""

from __future__ import annotations

import collections
import functools
import heapq
from asyncio import QueueEmpty, QueueFull
from typing import Any

from ..._core._ops import GIVE, READ, TAKE, WRITE, Operation, Resource
from ..._core._runtime import Runtime
from ..._core._threads import SimThread
from .._base import auto_name, sim
from ._tasks import Task, TaskWait, current

__all__ = ["LifoQueue", "PriorityQueue", "Queue"]


@functools.lru_cache(maxsize=4096)
def _op(kind: str, resource: Resource, label: str, footprint: tuple[Any, ...]) -> Operation:
    return Operation(kind, resource, label, footprint=footprint)


class _Wait(TaskWait):
    __slots__ = ("ready",)

    def __init__(self, resource: Resource, task: Task, ready: Any) -> None:
        super().__init__(resource, task)
        self.ready = ready

    def inner_ready(self) -> bool:
        return bool(self.ready())


class Queue:
    """``asyncio.Queue`` in an execution (see the module docs)."""

    def __init__(self, maxsize: int = 0) -> None:
        self._maxsize = maxsize
        self.name = auto_name("queue", None)
        self._items_r: Resource = ("queue", self.name)
        self._space_r: Resource = ("queue-space", self.name)
        self._tasks_r: Resource = ("queue-tasks", self.name)
        self._init(maxsize)
        self._unfinished = 0
        items, tasks = self._items_r, self._tasks_r
        self._get_op = Operation(
            "update",
            items,
            "get",
            resolve=self._resolve_get,
            potential=self._get_outcome(True, True),
        )
        self._put_op = Operation(
            "update",
            items,
            "put",
            resolve=self._resolve_put,
            potential=self._put_outcome(True, True, True),
        )
        self._join_op = _op("join", tasks, "join", ((tasks, READ),))
        self._read_op = _op("read", items, "size", ((items, READ),))
        self._done_ops = (
            _op("update", tasks, "task_done", ((tasks, WRITE),)),
            _op("update", tasks, "task_done", ((tasks, GIVE),)),
        )

    def __repr__(self) -> str:
        return f"<asyncio.{type(self).__name__} {self.name!r} (interleave) size={self._qsize()}>"

    # --- storage (as asyncio.Queue's subclasses override it)
    def _init(self, maxsize: int) -> None:
        self._queue: Any = collections.deque()

    def _qsize(self) -> int:
        return len(self._queue)

    def _put(self, item: Any) -> None:
        self._queue.append(item)

    def _get(self) -> Any:
        return self._queue.popleft()

    # --- footprints
    def _bounded(self) -> bool:
        return self._maxsize > 0

    def _get_outcome(self, empties: bool, was_full: bool) -> Operation:
        footprint: tuple[Any, ...] = ((self._items_r, TAKE if empties else WRITE),)
        if self._bounded():
            footprint += ((self._space_r, GIVE if was_full else WRITE),)
        return _op("update", self._items_r, "get", footprint)

    def _put_outcome(self, was_empty: bool, fills: bool, counts: bool) -> Operation:
        footprint: tuple[Any, ...] = ((self._items_r, GIVE if was_empty else WRITE),)
        if self._bounded():
            footprint += ((self._space_r, TAKE if fills else WRITE),)
        footprint += ((self._tasks_r, TAKE if counts else WRITE),)
        return _op("update", self._items_r, "put", footprint)

    def _resolve_get(self, rt: Runtime, thread: SimThread) -> Operation:
        size = self._qsize()
        return self._get_outcome(size <= 1, self._bounded() and size >= self._maxsize)

    def _resolve_put(self, rt: Runtime, thread: SimThread) -> Operation:
        size = self._qsize()
        return self._put_outcome(
            size == 0, self._bounded() and size + 1 >= self._maxsize, self._unfinished == 0
        )

    # --- the API
    @property
    def maxsize(self) -> int:
        return self._maxsize

    def qsize(self) -> int:
        """The number of items (a read)."""
        self._read("qsize")
        return self._qsize()

    def empty(self) -> bool:
        """Is the queue empty? (A read.)"""
        self._read("empty")
        return not self._qsize()

    def full(self) -> bool:
        """Is the queue full? (A read.)"""
        self._read("full")
        return self._bounded() and self._qsize() >= self._maxsize

    def _read(self, label: str) -> None:
        rt = sim()
        if rt is not None:
            rt.access(_op("read", self._items_r, label, ((self._items_r, READ),)))

    def _has_space(self) -> bool:
        return not self._bounded() or self._qsize() < self._maxsize

    def _do_put(self, item: Any) -> None:
        self._put(item)
        self._unfinished += 1

    async def put(self, item: Any) -> None:
        """Put ``item``, waiting for space in a bounded queue (a suspension point)."""
        rt, task = _in_task("Queue.put()")
        task.suspend(rt, self._put_op, _Wait(self._space_r, task, self._has_space))
        self._do_put(item)

    def put_nowait(self, item: Any) -> None:
        """Put ``item`` now, or raise ``QueueFull`` (a step)."""
        rt = sim()
        if rt is not None:
            if not self._has_space():
                rt.access(_op("read", self._items_r, "put (full)", ((self._items_r, READ),)))
                raise QueueFull
            rt.access(self._resolve_put(rt, rt.current))  # type: ignore[arg-type]
        elif not self._has_space():
            raise QueueFull
        self._do_put(item)

    async def get(self) -> Any:
        """Remove and return an item, waiting for one (a suspension point)."""
        rt, task = _in_task("Queue.get()")
        task.suspend(rt, self._get_op, _Wait(self._items_r, task, self._qsize))
        return self._get()

    def get_nowait(self) -> Any:
        """Remove and return an item now, or raise ``QueueEmpty`` (a step)."""
        rt = sim()
        if rt is not None:
            if not self._qsize():
                rt.access(_op("read", self._items_r, "get (empty)", ((self._items_r, READ),)))
                raise QueueEmpty
            rt.access(self._resolve_get(rt, rt.current))  # type: ignore[arg-type]
        elif not self._qsize():
            raise QueueEmpty
        return self._get()

    def task_done(self) -> None:
        """Mark one item processed (a step)."""
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        rt = sim()
        if rt is not None:
            rt.access(self._done_ops[1 if self._unfinished == 1 else 0])
        self._unfinished -= 1

    async def join(self) -> None:
        """Wait until every item put was marked done (a suspension point)."""
        rt, task = _in_task("Queue.join()")
        task.suspend(rt, self._join_op, _Wait(self._tasks_r, task, lambda: self._unfinished == 0))


class LifoQueue(Queue):
    """``asyncio.LifoQueue`` in an execution: the last item put is got first."""

    def _init(self, maxsize: int) -> None:
        self._queue = []

    def _get(self) -> Any:
        return self._queue.pop()


class PriorityQueue(Queue):
    """``asyncio.PriorityQueue`` in an execution: the lowest item is got first."""

    def _init(self, maxsize: int) -> None:
        self._queue = []

    def _put(self, item: Any) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> Any:
        return heapq.heappop(self._queue)


def _in_task(what: str) -> tuple[Runtime, Task]:
    rt = sim()
    task = current(rt)
    if task is None or rt is None:
        raise RuntimeError(f"{what} must be awaited in one of the exploration's tasks")
    return rt, task
