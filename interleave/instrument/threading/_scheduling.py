"""Who gets scheduled objects: the one question every stand-in asks first.

A call is scheduled when it comes from an execution: a simulated thread, or the scenario
factory, ``check`` or ``teardown`` on the OS thread that runs the execution. Calls from other
OS threads, from the scheduler itself (between steps) and from interleave while it builds the
real parts of its own objects get the real ``threading`` objects.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..._core import _context
from ..._core._runtime import Runtime

__all__ = ["Internal", "internal", "is_internal", "scheduling"]


class Internal:
    """How deep interleave is in building its own objects, in one execution (a Runtime slot).

    Above 0, nested ``threading.X()`` calls (the real parts of its primitives, the Event inside
    ``Thread.__init__``) are interleave's own, not the program's.
    """

    __slots__ = ("depth",)

    def __init__(self) -> None:
        self.depth = 0


def is_internal(rt: Runtime) -> bool:
    """Is interleave building one of its own objects in this execution?"""
    state = rt.peek(Internal)
    return state is not None and state.depth > 0


def scheduling() -> Runtime | None:
    """The runtime when the caller is part of an execution and should get scheduled objects.

    That is: a simulated thread, or the scenario factory / check / teardown on the OS thread
    that runs the execution. ``None`` for other OS threads, for the scheduler's own code
    (between steps) and while interleave builds the real parts of its own objects.
    """
    rt = _context.building()
    if rt is None or is_internal(rt):
        return None
    if rt.current is None and _context.active() is rt:
        return None  # the scheduler itself, between steps
    return rt


@contextlib.contextmanager
def internal(rt: Runtime | None) -> Iterator[None]:
    """While interleave builds an object, nested ``threading.X()`` calls (the real parts of
    its primitives, ``Thread.__init__``'s own Event) get real objects instead of recursing into
    the stand-ins."""
    if rt is None:
        yield
        return
    state = rt.slot(Internal)
    state.depth += 1
    try:
        yield
    finally:
        state.depth -= 1
