"""What the scheduled locks, semaphores, conditions and events share.

The primitives themselves live one kind per module (:mod:`._locks`, :mod:`._semaphores`,
:mod:`._conditions`, :mod:`._events`); this module holds the few helpers they have in common
and the real ``threading`` classes they delegate to outside an exploration.
"""

from __future__ import annotations

import threading
from types import TracebackType

from .._core import _context
from .._core._ops import Operation, Resource
from .._core._runtime import Runtime

__all__ = [
    "RealBoundedSemaphore",
    "RealCondition",
    "RealEvent",
    "RealLock",
    "RealRLock",
    "RealSemaphore",
    "Releasable",
    "finished",
    "op",
]

# The real primitives, bound at import: while threading is patched for an execution,
# ``threading.Lock`` & co. are interleave's shims, which must still build on the real ones.
# (The patch keeps its own copies in ``threading/_originals.py``: that package imports these
# primitives, so they cannot import it back.)
RealLock = threading.Lock
RealRLock = threading.RLock
RealSemaphore = threading.Semaphore
RealBoundedSemaphore = threading.BoundedSemaphore
RealCondition = threading.Condition
RealEvent = threading.Event


def finished(rt_of_object: Runtime | None) -> bool:
    """Is the caller the check() or teardown() of the execution that last used the object?

    They run after the threads, outside any simulated thread, and must see the state the
    execution left (not the real primitive, which the simulated threads never touched).
    """
    rt = _context.building()
    return rt is not None and rt is rt_of_object and rt.current is None


def op(kind: str, resource: Resource, label: str, mode: int) -> Operation:
    """An operation that touches ``resource`` alone, in ``mode`` (a footprint of one entry)."""
    return Operation(kind, resource, label, footprint=((resource, mode),))


class Releasable:
    """``with obj:`` releases on exit; the repr names the object (Lock, Semaphore, Condition)."""

    __slots__ = ()
    name: str

    def release(self) -> None:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
