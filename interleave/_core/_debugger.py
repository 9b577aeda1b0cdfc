"""Stopping a replay in pdb just before one of its steps, in the thread that runs it.

``replay(..., breakpoint_at=N)`` adds a :class:`StopBefore` observer to the replay. When the
scheduler has chosen the thread of step ``N`` (``on_step``, which runs in the scheduler's
greenlet, just before it switches to that thread), the observer installs a greenlet trace
function for that one switch. greenlet calls it in the thread's greenlet as the thread comes
back from its yield point, before ``Runtime.access()`` (or ``block()``) returns: pdb opens
there, on the frame of the user's code that announced the operation. The line shown is the
one about to perform step ``N``, every other thread is paused at its own yield point, and
nothing of the step has happened yet::

    scheduler: choose worker#2 for step N ──► observer: greenlet.settrace(on_switch)
    scheduler ──switch──► on_switch() in worker#2 ──► (Pdb) _   ──► access(op) returns
                                                                (op runs after the prompt)

The runtime knows nothing of it: no check on the hot path, and nothing when no replay asks.

pdb traces the user's code only: frames of interleave's own files (the runtime, the primitives)
are never stopped in, so ``n`` goes to the thread's next line and ``s`` to the next line of
user code, in whichever thread runs it. Until a command that steps, nothing is traced: ``c``
(without breakpoints) lets the replay run on at full speed. ``q`` (or the end of the input)
stops the replay: :class:`QuitReplay`, raised in the thread, unwinds the execution, and
``replay()`` raises ``bdb.BdbQuit``, as a program run under pdb does.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

import greenlet

from ._locations import is_internal_file as _is_internal_file
from ._observer import Observer
from ._ops import Operation, describe_resource
from ._threads import SimThread

if TYPE_CHECKING:
    import pdb

__all__ = ["QuitReplay", "StopBefore"]


class QuitReplay(BaseException):
    """``q`` in the debugger: stop the replay. A ``BaseException``, raised in the scenario's
    thread, so that its ``except Exception`` cannot swallow it."""


class StopBefore(Observer):
    """Stop in pdb just before step ``step``, in the thread that runs it.

    Args:
        step: the index of the step (the ``step`` column of a report: 0 is the first).
        schedule_id: the ID being replayed, for the message pdb shows first.

    Call :meth:`close` when the replay ends (it removes the trace function if the step was
    never reached: an execution that ended or diverged before it).
    """

    def __init__(self, step: int, schedule_id: str) -> None:
        self.step = step
        self.schedule_id = schedule_id
        self._installed = False
        self._previous: Any = None

    def on_step(self, index: int, thread: SimThread, op: Operation) -> None:
        if index != self.step:
            return
        target = thread.glet
        what = op.label or op.kind
        where = f" ({thread.location})" if thread.location is not None else ""
        message = (
            f"interleave: replay of {self.schedule_id} stopped before step {index}: "
            f"{thread.name} is about to {what} {describe_resource(op.resource)}{where}. "
            f"'c' runs the replay on, 'n' goes to {thread.name}'s next line, "
            "'q' stops the replay."
        )

        def on_switch(event: str, args: tuple[greenlet.greenlet, greenlet.greenlet]) -> None:
            # Called by greenlet on every switch while installed, in the greenlet switched to.
            if event == "switch" and args[1] is target:
                self.close()
                _stop(message)
            elif self._previous is not None:
                self._previous(event, args)

        self._previous = greenlet.settrace(on_switch)
        self._installed = True

    def close(self) -> None:
        """Put back the greenlet trace function there was before (once)."""
        if self._installed:
            self._installed = False
            greenlet.settrace(self._previous)


def _user_frame() -> FrameType | None:
    """The innermost frame of the user's code on this thread's stack."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _is_internal_file(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def _internal(frame: FrameType) -> bool:
    """Is ``frame`` interleave's: in its files, or generated code (``<string>``: a
    dataclass's ``__init__``) that interleave's code called."""
    found: FrameType | None = frame
    while found is not None:
        filename = found.f_code.co_filename
        if _is_internal_file(filename):
            return True
        if not filename.startswith("<"):
            return False
        found = found.f_back
    return False


def _stop(message: str) -> None:
    """Open pdb on the user's frame, now; trace on only if a command asked to step."""
    frame = _user_frame()
    debugger = _debugger()
    debugger.message(message)
    if frame is None:
        # The step is the thread's own end (its function has returned): no line of the
        # user's code is about to run.
        debugger.message("interleave: (no line of user code runs in this step; going on)")
        return
    # What bdb's set_trace() does, but without stopping at the next event: stopping now, in
    # the user's frame, is the point (the next event would come after the step).
    # The stack shown ('where', 'up') ends at the thread's function: the frames below it are
    # the runtime's.
    debugger.reset()
    caller: FrameType | None = frame
    while caller is not None and not _is_internal_file(caller.f_code.co_filename):
        caller.f_trace = debugger.trace_dispatch
        debugger.botframe = caller
        caller = caller.f_back
    debugger.interaction(frame, None)
    if debugger.stoplineno != -1 or debugger.breaks:
        sys.settrace(debugger.trace_dispatch)  # 'n', 's', 'r', 'unt' or a breakpoint


def _debugger() -> pdb.Pdb:
    import pdb

    class Debugger(pdb.Pdb):
        """pdb that never stops in interleave's own files and quits the replay on ``q``."""

        def stop_here(self, frame: FrameType) -> bool:
            if _internal(frame):
                return False
            return bool(super().stop_here(frame))

        def set_quit(self) -> None:
            super().set_quit()  # stops tracing
            raise QuitReplay

    # nosigint: the replay's Ctrl-C guard keeps SIGINT; pdb must not take it over.
    return Debugger(nosigint=True)
