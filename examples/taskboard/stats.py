"""``ActivityCounter``: counts events (page views, task moves) shared by every thread.

The planted bug of ``variant="buggy"``: ``increment`` reads the count and writes count + 1 in
two steps, so two increments at once count one (the seed's "unsafe increment"). Fixed: the read
and the write hold a lock (the "safe increment").

Example::

    views = ActivityCounter("views", variant="fixed")
    views.increment()
    assert views.value == 1
"""

from __future__ import annotations

import interleave

from .variant import FIXED, resolve

__all__ = ["ActivityCounter"]


class ActivityCounter:
    """A shared count.

    Args:
        name: what is counted (it names the resource in reports).
        variant: ``"buggy"`` or ``"fixed"`` (default: ``$TASKBOARD_VARIANT``, else buggy).

    Example::

        moves = ActivityCounter("task_moves", variant="fixed")
        moves.increment(); moves.increment()
        assert moves.value == 2
    """

    def __init__(self, name: str, *, variant: str | None = None) -> None:
        self.name = name
        self.variant = resolve(variant)
        self._value = interleave.Shared(name, 0)
        self._lock = interleave.Lock(name=name)

    def __repr__(self) -> str:
        return f"<ActivityCounter {self.name!r} variant={self.variant!r}>"

    def increment(self) -> None:
        """Add one."""
        if self.variant == FIXED:
            with self._lock:
                self._value.set(self._value.get() + 1)
            return
        current = self._value.get()
        self._value.set(current + 1)

    @property
    def value(self) -> int:
        """The count."""
        return self._value.get()
