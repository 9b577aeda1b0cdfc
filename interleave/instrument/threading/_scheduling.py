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

__all__ = ["INTERNAL", "internal", "scheduling"]

#: Key in ``Runtime.scratch``: >0 while interleave builds its own objects.
INTERNAL = "threading.internal"


def scheduling() -> Runtime | None:
    """The runtime when the caller is part of an execution and should get scheduled objects.

    That is: a simulated thread, or the scenario factory / check / teardown on the OS thread
    that runs the execution. ``None`` for other OS threads, for the scheduler's own code
    (between steps) and while interleave builds the real parts of its own objects.
    """
    rt = _context.building()
    if rt is None or rt.scratch.get(INTERNAL):
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
    rt.scratch[INTERNAL] = rt.scratch.get(INTERNAL, 0) + 1
    try:
        yield
    finally:
        rt.scratch[INTERNAL] -= 1
