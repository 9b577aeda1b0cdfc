"""``queue.Queue`` & co., ``queue.SimpleQueue`` and ``threading.Barrier`` on scheduled locks.

A ``Barrier`` or ``Queue``/``LifoQueue``/``PriorityQueue`` built during an execution gets
scheduled locks and conditions in place of its real ones, so its ``wait``/``get``/``put`` are
yield points; ``queue.SimpleQueue`` (written in C) is replaced by a scheduled equivalent.
"""

from __future__ import annotations

import collections
import queue
import threading
from typing import Any

from .. import _conditions, _locks
from .._base import sim
from ._originals import (
    REAL_BARRIER_INIT,
    REAL_QUEUE_GET,
    REAL_QUEUE_INIT,
    REAL_QUEUE_PUT,
    REAL_SIMPLE_QUEUE,
)
from ._scheduling import internal, scheduling

__all__ = ["SimpleQueue", "barrier_init", "queue_get", "queue_init", "queue_put"]


def barrier_init(
    self: threading.Barrier, parties: int, action: Any = None, timeout: Any = None
) -> None:
    """``Barrier.__init__``: built during an execution, it waits on a scheduled condition."""
    rt = scheduling()
    with internal(rt):
        REAL_BARRIER_INIT(self, parties, action, timeout)
        if rt is not None:
            name = rt.next_name("barrier")
            lock = _locks.Lock(name=f"{name}.lock")
            self._cond = _conditions.Condition(lock, name=name)  # type: ignore[attr-defined]


def queue_init(self: queue.Queue[Any], maxsize: int = 0) -> None:
    """``Queue.__init__``: built during an execution, it gets a scheduled mutex and conditions."""
    rt = scheduling()
    with internal(rt):
        REAL_QUEUE_INIT(self, maxsize)
        if rt is not None:
            name = rt.next_name("queue")
            self.mutex = _locks.Lock(name=f"{name}.mutex")  # type: ignore[assignment]
            self.not_empty = _conditions.Condition(self.mutex, name=f"{name}.not_empty")  # type: ignore[arg-type,assignment]
            self.not_full = _conditions.Condition(self.mutex, name=f"{name}.not_full")  # type: ignore[arg-type,assignment]
            self.all_tasks_done = _conditions.Condition(self.mutex, name=f"{name}.all_tasks_done")  # type: ignore[arg-type,assignment]


def _is_scheduled_queue(q: queue.Queue[Any]) -> bool:
    # Built during an execution (scheduled mutex) and used from a simulated thread.
    return isinstance(q.__dict__.get("mutex"), _locks.Lock) and sim() is not None


def queue_get(self: queue.Queue[Any], block: bool = True, timeout: float | None = None) -> Any:
    """``Queue.get``: on a scheduled queue, a timed-out wait gives up at once."""
    if not _is_scheduled_queue(self):
        return REAL_QUEUE_GET(self, block, timeout)
    # queue.Queue.get measures its timeout with the real clock; a timed-out wait here is a
    # scheduling choice, so it must give up at once (else it would spin until real time passes).
    if block and timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    with self.not_empty:
        while not self._qsize():
            if getattr(self, "is_shutdown", False):
                raise queue.ShutDown  # type: ignore[attr-defined]  # pragma: no cover - 3.13+
            if not block:
                raise queue.Empty
            if not self.not_empty.wait(timeout) and timeout is not None and not self._qsize():
                raise queue.Empty
        item = self._get()
        self.not_full.notify()
        return item


def queue_put(
    self: queue.Queue[Any], item: Any, block: bool = True, timeout: float | None = None
) -> None:
    """``Queue.put``: on a scheduled queue, a timed-out wait gives up at once."""
    if not _is_scheduled_queue(self):
        REAL_QUEUE_PUT(self, item, block, timeout)
        return
    if block and timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    with self.not_full:
        if self.maxsize > 0:
            while self._qsize() >= self.maxsize:
                if not block:
                    raise queue.Full
                if (
                    not self.not_full.wait(timeout)
                    and timeout is not None
                    and self._qsize() >= self.maxsize
                ):
                    raise queue.Full
        self._put(item)
        self.unfinished_tasks += 1
        self.not_empty.notify()


class SimpleQueue:
    """A scheduled ``queue.SimpleQueue`` (the real one is written in C)."""

    _items: collections.deque[Any]
    _cond: _conditions.Condition

    def __new__(cls) -> Any:
        rt = scheduling()
        if rt is None:
            return REAL_SIMPLE_QUEUE()
        self = object.__new__(cls)
        with internal(rt):
            name = rt.next_name("simple-queue")
            self._items = collections.deque()
            self._cond = _conditions.Condition(_locks.Lock(name=f"{name}.mutex"), name=name)
        return self

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Put ``item``; never blocks (the arguments exist for compatibility)."""
        with self._cond:
            self._items.append(item)
            self._cond.notify()

    def put_nowait(self, item: Any) -> None:
        """Same as ``put(item)``."""
        self.put(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Remove and return an item, waiting for one unless ``block=False``/timeout."""
        if block and timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        with self._cond:
            while not self._items:
                if not block:
                    raise queue.Empty
                if not self._cond.wait(timeout) and timeout is not None and not self._items:
                    raise queue.Empty
            return self._items.popleft()

    def get_nowait(self) -> Any:
        """Same as ``get(False)``."""
        return self.get(False)

    def empty(self) -> bool:
        """Is the queue empty? (not reliable, as in the real one)."""
        with self._cond:
            return not self._items

    def qsize(self) -> int:
        """The approximate size."""
        with self._cond:
            return len(self._items)


SimpleQueue.__name__ = SimpleQueue.__qualname__ = "SimpleQueue"
SimpleQueue.__module__ = "queue"
