"""The greenlets the runtime runs simulated threads on: a pool of idle ones, and how an
execution gives them back.

Starting a fresh greenlet costs more than a whole scheduling step (a new C stack slice and
frame stack), so each OS thread keeps a small pool of idle ones: a pooled greenlet runs one
simulated thread after another (:func:`serve`), and every execution borrows from the pool.
At the end of an execution, threads left suspended at a yield point are unwound
(:func:`unwind`) and the greenlets that are free again go back to the pool (:func:`release`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import greenlet

from ._threads import DONE, READY

if TYPE_CHECKING:
    from ._runtime import Runtime
    from ._threads import SimThread

__all__ = ["ENDED", "POOL_SIZE", "Unwind", "idle_greenlets", "release", "serve", "unwind"]

#: Sent by a pooled greenlet to the scheduler when its thread's function has returned.
ENDED: Any = object()
#: Idle greenlets kept per OS thread.
POOL_SIZE = 64


class Unwind(BaseException):
    """Thrown into unfinished threads at the end of an execution so ``finally`` blocks run.

    A ``BaseException`` so that user code's ``except Exception`` cannot swallow it.
    """


# Greenlets belong to the OS thread that created them, so each has its own pool. (A plain
# threading.local, not a subclass: this module is compiled, and mypyc cannot compile one.)
_local = threading.local()


def idle_greenlets() -> list[greenlet.greenlet]:
    """This OS thread's pool of idle greenlets."""
    try:
        idle: list[greenlet.greenlet] = _local.idle
    except AttributeError:
        idle = _local.idle = []
    return idle


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


def release(threads: Sequence[SimThread]) -> None:
    """Give the greenlets of an execution's ``threads`` back to the pool."""
    # Greenlets whose thread function has returned go back to the pool for the next
    # execution; they wait in serve's loop. The pool is bounded, so an execution with
    # many spawned threads does not keep their stacks alive forever.
    idle = idle_greenlets()
    for thread in threads:
        glet = thread.glet
        if glet is None:
            continue
        thread.glet = None
        if thread.ended and not glet.dead and len(idle) < POOL_SIZE:
            idle.append(glet)


def unwind(rt: Runtime) -> None:
    """End every unfinished thread of ``rt`` so that its ``finally`` blocks and ``with`` exits
    run.

    A deadlocked or step-limited execution leaves threads suspended at a yield point; left
    alone, their greenlets would be collected some time later, running their cleanup then
    (closing a connection, releasing a real lock) in the middle of another execution.
    """
    # Unfinished threads get Unwind thrown in, in creation order, so ``finally`` blocks and
    # context managers run in a fixed order. With ``unwinding`` set, primitives do not yield
    # (access() returns at once) and a blocking call raises Unwind again: cleanup code cannot
    # wait for another thread, which will never run.
    rt.unwinding = True
    for thread in rt.threads:
        glet = thread.glet
        if glet is not None and not thread.ended and not glet.dead:
            thread.unwound = True
            rt.current = thread  # cleanup code that asks sim() must see its thread
            with suppress(Unwind):
                glet.throw(Unwind)
            rt.current = None
        if glet is not None and glet.dead:
            thread.ended = True
        thread.wait = None
        if thread.state == READY:
            # Unwound to the end it is done; a greenlet that swallowed Unwind and is still
            # alive stays READY (reported as unfinished, and never pooled).
            thread.state = DONE if glet is None or thread.ended else thread.state
