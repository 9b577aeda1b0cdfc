"""Objects under test for the linearizability tests: each bug of issue 15, and a thread-safe
version of each (module level, so replay lines name them)."""

from __future__ import annotations

import queue
import threading
from typing import Any

import interleave
from interleave.models import QueueModel


class StaleCounter:
    """``increment`` adds atomically, then reads the count again: another increment may have
    come in between, and both callers get the same value."""

    def __init__(self) -> None:
        self.count = interleave.Counter("count")

    def increment(self) -> int:
        self.count.add()
        return self.count.get()

    def get(self) -> int:
        return self.count.get()


class LockedCounter(StaleCounter):
    """The same under an ``interleave.Lock``."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = interleave.Lock()

    def increment(self) -> int:
        with self.lock:
            return super().increment()


class AtomicCounter(StaleCounter):
    """``add`` returns the new value: one atomic step."""

    def increment(self) -> int:
        return self.count.add()


class RacyCache:
    """``get_or_set`` checks, then computes and stores: two callers that both miss both
    compute, and each gets its own value."""

    def __init__(self) -> None:
        self.data: interleave.Cache[Any, Any] = interleave.Cache("data")
        self.computed = 0

    def get(self, key: Any) -> Any:
        return self.data.get(key)

    def set(self, key: Any, value: Any) -> None:
        self.data.set(key, value)

    def delete(self, key: Any) -> bool:
        return self.data.delete(key)

    def get_or_set(self, key: Any, value: Any) -> Any:
        current = self.data.get(key)
        if current is None:
            self.computed += 1  # "computes" the caller's value
            self.data.set(key, value)
            return value
        return current


class ThreadingLockedCache(RacyCache):
    """``get_or_set`` under a ``threading.Lock`` (scheduled by the default patch)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def get_or_set(self, key: Any, value: Any) -> Any:
        with self.lock:
            return super().get_or_set(key, value)


class RacyQueue:
    """``get`` reads the head, then moves it: two gets may both take the head item."""

    def __init__(self) -> None:
        self.items = interleave.Shared("items", ())
        self.head = interleave.Shared("head", 0)

    def put(self, item: Any) -> None:
        self.items.update(lambda items: (*items, item))

    def get(self) -> Any:
        head = self.head.get()
        items = self.items.get()
        if head >= len(items):
            return None
        self.head.set(head + 1)
        return items[head]


class LockedQueue(RacyQueue):
    """``get`` under an ``interleave.Lock``."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = interleave.Lock()

    def get(self) -> Any:
        with self.lock:
            return super().get()


class PerThreadQueue:
    """Sequentially consistent but not linearizable: ``put`` appends to the calling thread's
    own buffer, and ``get`` drains only the caller's buffer before the shared queue. An item
    put by a call that *returned* before another thread's get was invoked is not seen by it;
    only real time shows the bug (the order "get, then put" explains the results)."""

    def __init__(self) -> None:
        self.buffers: interleave.Cache[str, tuple[Any, ...]] = interleave.Cache("buffers")

    def put(self, item: Any) -> None:
        me = threading.current_thread().name
        self.buffers.set(me, (*(self.buffers.get(me) or ()), item))

    def get(self) -> Any:
        me = threading.current_thread().name
        mine = self.buffers.get(me) or ()
        if not mine:
            return None
        self.buffers.set(me, mine[1:])
        return mine[0]


class PlainLockedCounter:
    """A correct counter on a plain attribute under a ``threading.Lock``: the attribute is
    invisible unless ``trace_attributes=True``."""

    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()

    def increment(self) -> int:
        with self.lock:
            self.value += 1
            return self.value

    def get(self) -> int:
        return self.value


class AtomicCalls:
    """Nothing interleave can see: every call is one atomic step."""

    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> int:
        self.value += 1
        return self.value

    def get(self) -> int:
        return self.value


class StdlibQueueModel(QueueModel):
    """``queue.Queue``'s non-blocking calls."""

    empty = queue.Empty

    def get_nowait(self) -> Any:
        return self.get()

    def put_nowait(self, item: Any) -> None:
        self.put(item)
