"""The pool of idle greenlets the runtime runs simulated threads on.

Starting a fresh greenlet costs more than a whole scheduling step (a new C stack slice and
frame stack), so each OS thread keeps a small pool of idle ones: a pooled greenlet runs one
simulated thread after another (:func:`serve`), and every execution borrows from the pool.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import greenlet

if TYPE_CHECKING:
    from ._runtime import Runtime
    from ._threads import SimThread

__all__ = ["ENDED", "POOL_SIZE", "pool", "serve"]

#: Sent by a pooled greenlet to the scheduler when its thread's function has returned.
ENDED: Any = object()
#: Idle greenlets kept per OS thread.
POOL_SIZE = 64


class _Pool(threading.local):
    # Greenlets belong to the OS thread that created them, so each has its own pool.
    def __init__(self) -> None:
        self.idle: list[greenlet.greenlet] = []


pool = _Pool()


def serve(runtime: Runtime, thread: SimThread) -> None:
    """The function of a pooled greenlet: run one simulated thread after another.

    After each thread it sends ``ENDED`` to the scheduler and waits, idle in the pool, until
    :meth:`Runtime._start` hands it the next ``(runtime, thread)``.
    """
    while True:
        runtime._run_thread(thread)
        del runtime, thread  # an idle greenlet must not keep the last execution alive
        parent = greenlet.getcurrent().parent
        assert parent is not None
        runtime, thread = parent.switch(ENDED)
