"""Sequential specifications of the primitives users build on, for ``check_linearizable``.

A model is a plain class with the methods of the object under test: ``check_linearizable``
makes a fresh one (``Model()``) for every history it checks and runs calls on it one at a time.
Its state is its attributes (compared by value). A model may say that calls on different keys
are independent with ``partition_key(method, args)`` (see :class:`CacheModel`).
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

__all__ = ["CacheModel", "CounterModel", "QueueModel"]


class CounterModel:
    """A counter that starts at 0.

    ``increment()`` and ``add(n)`` return the new value, ``get()`` the current one.

    Example::

        result = interleave.check_linearizable(
            make_counter, interleave.models.CounterModel, ["increment", "get"]
        )
    """

    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> int:
        """Add one; return the new value."""
        self.value += 1
        return self.value

    def add(self, n: int = 1) -> int:
        """Add ``n``; return the new value."""
        self.value += n
        return self.value

    def get(self) -> int:
        """The current value."""
        return self.value


class CacheModel:
    """A dict-like cache.

    - ``get(key)``: the value cached under ``key``, or None;
    - ``set(key, value)``: cache it (returns None);
    - ``delete(key)``: drop it; True when it was there;
    - ``get_or_set(key, value)``: the value cached under ``key``, after caching ``value``
      there if it was missing (the value this caller would have computed);
    - ``clear()``: drop everything.

    Calls on different keys are independent: ``partition_key`` is the key, so each key's calls
    are checked on their own (``clear()`` touches every key: a history with one is checked
    whole).

    Example::

        ops = [("get", ("k",)), ("set", ("k", 1)), ("get_or_set", ("k", 2))]
        interleave.check_linearizable(make_cache, interleave.models.CacheModel, ops)
    """

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        """The cached value, or None."""
        return self.data.get(key)

    def set(self, key: Any, value: Any) -> None:
        """Cache ``value`` under ``key``."""
        self.data[key] = value

    def delete(self, key: Any) -> bool:
        """Drop ``key``; True when it was cached."""
        return self.data.pop(key, _MISSING) is not _MISSING

    def get_or_set(self, key: Any, value: Any) -> Any:
        """The cached value; ``value`` (now cached) when there was none."""
        return self.data.setdefault(key, value)

    def clear(self) -> None:
        """Drop every key."""
        self.data.clear()

    def partition_key(self, method: str, args: tuple[Any, ...]) -> Any:
        """The key a call touches (its first argument); None for ``clear()``."""
        return args[0] if args and method != "clear" else None


class QueueModel:
    """A FIFO queue.

    ``put(item)`` appends (returns None); ``get()`` removes and returns the oldest item, and
    when the queue is empty returns None, or raises ``empty()`` when the class attribute
    ``empty`` names an exception type; ``qsize()`` counts the items.

    Example::

        class StdlibQueueModel(interleave.models.QueueModel):
            empty = queue.Empty          # queue.Queue.get_nowait() raises it

            def get_nowait(self):
                return self.get()

            def put_nowait(self, item):
                self.put(item)
    """

    #: The exception type ``get()`` raises on an empty queue (None: it returns None).
    empty: ClassVar[type[Exception] | None] = None

    def __init__(self) -> None:
        self.items: deque[Any] = deque()

    def put(self, item: Any) -> None:
        """Append ``item``."""
        self.items.append(item)

    def get(self) -> Any:
        """Remove and return the oldest item (None, or ``empty()`` raised, when empty)."""
        if not self.items:
            if self.empty is not None:
                raise self.empty()
            return None
        return self.items.popleft()

    def qsize(self) -> int:
        """How many items are queued."""
        return len(self.items)


_MISSING: Any = object()
