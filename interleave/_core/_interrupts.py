"""Ctrl-C during an exploration: raised at once in the user's code, held back in interleave's.

Python raises ``KeyboardInterrupt`` between any two bytecodes. In the middle of interleave's own
work that does harm: inside an sqlite3 callback the exception is swallowed (the statement fails
with ``not authorized`` and the exploration goes on, or reports what never happened), inside
cleanup it leaves temporary directories, open descriptors and patches behind. So while an
exploration runs, SIGINT goes to the handler of :class:`InterruptGuard` (Trio calls this "KI
protection"). It looks at the frame the signal interrupted, and at its callers until one
decides:

    a frame of the user's code ............ raise KeyboardInterrupt there, as Python would
    a frame of interleave ................. hold it back; raise it at the next safe point
    the standard library, site-packages,
    generated code (<string>, <frozen …>) . look at the caller

User code called from a function marked :func:`hold_below` is held back too: sqlite3 runs the
application's own callbacks inside a statement and swallows their exceptions, and a scenario's
factory and teardown are setup and cleanup that must not be cut short between the two (a
temporary folder the factory made and the teardown removes would be left behind).

Compiled (see ``_native``), interleave's hot modules have no frames: the handler runs at the
next interpreted frame, and the walk above skips them; what decides is the same.

The safe points are the next scheduling step of the running execution (a hook on its runtime:
the scheduler raises it between two steps, and the execution is unwound as after any error) and
the explorer's check around executions, which also catches an interrupt the scenario's code
swallowed. A second SIGINT while one is held back is raised at once, wherever it lands: the way
out if interleave itself never reaches a safe point.

Only the main thread receives signals, and the guard only replaces Python's default handler:
another handler (a debugger's, the user's) stays in charge and nothing is held back.
"""

from __future__ import annotations

import _thread
import os
import signal
import site
import sys
import sysconfig
import threading
from collections.abc import Callable
from types import CodeType, FrameType, TracebackType
from typing import Any, Final, TypeVar

from . import _context
from ._native import COMPILED_MODULES
from ._observer import Observer
from ._ops import Operation
from ._threads import SimThread

__all__ = ["InterruptGuard", "guard", "hold_below", "is_held_back"]

_PACKAGE_DIR: Final = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
#: Code shipped inside the package that is the user's side of the line (bundled examples).
_USER_INSIDE: Final = (_PACKAGE_DIR + "_examples" + os.sep,)
_MAIN_IDENT: Final = threading.main_thread().ident

_OURS, _USER, _LOOK_THROUGH = range(3)
_kinds: dict[str, int] = {}


def _library_dirs() -> tuple[str, ...]:
    """Directories of the standard library and installed packages (as given and resolved)."""
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    dirs.update(getattr(site, "getsitepackages", list)())
    user_site = getattr(site, "getusersitepackages", None)
    if user_site is not None:
        dirs.add(user_site())
    dirs.update(p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages"))
    every = dirs | {os.path.realpath(d) for d in dirs}
    return tuple(sorted(os.path.join(d, "") for d in every if d))


_LIBRARY_DIRS: Final = _library_dirs()


def _kind(filename: str) -> int:
    kind = _kinds.get(filename)
    if kind is None:
        ours = filename.startswith(_PACKAGE_DIR) and not filename.startswith(_USER_INSIDE)
        if ours or filename in COMPILED_MODULES:  # the latter: a compiled frame (see _native)
            kind = _OURS
        elif filename.startswith("<") or filename.startswith(_LIBRARY_DIRS):
            kind = _LOOK_THROUGH
        else:
            kind = _USER
        _kinds[filename] = kind
    return kind


#: Code of functions during which every SIGINT is held back, also in the code they call.
_HOLD_BELOW: set[CodeType] = set()

_F = TypeVar("_F", bound=Callable[..., Any])


def hold_below(function: _F) -> _F:
    """Mark ``function``: while it runs, a SIGINT is held back even in the user's code it calls.

    For functions that call C code which calls back into Python and swallows the exceptions of
    those callbacks (sqlite3 runs the application's SQL functions, collations and authorizers
    inside a statement; an exception there only fails the statement), and for the calls of a
    scenario's factory and teardown. Only plain-Python functions can be marked (a compiled
    one has no code object).
    """
    _HOLD_BELOW.add(function.__code__)
    return function


def is_held_back(frame: FrameType | None) -> bool:
    """Would a SIGINT that interrupted ``frame`` be held back (interleave's code is running)?"""
    user = False
    while frame is not None:
        code = frame.f_code
        if code in _HOLD_BELOW:
            return True
        if not user:
            kind = _kind(code.co_filename)
            if kind == _OURS:
                return True
            user = kind == _USER  # decided; only a hold_below function further out can hold
        frame = frame.f_back
    return False


class _RaiseAtNextStep(Observer):
    """Raises the KeyboardInterrupt the execution is owed, from the scheduler, at its next step.

    Owed: held back, or raised in the user's code, which may have swallowed it (a bare
    ``except:``, a callback of a C library).
    """

    def __init__(self, guard: InterruptGuard) -> None:
        self.guard = guard

    def on_step(self, index: int, thread: SimThread, op: Operation) -> None:
        if self.guard.owed:
            self.guard.owed = self.guard.held = False
            raise KeyboardInterrupt


class InterruptGuard:
    """While entered (in the main thread), SIGINT is handled as the module docs say.

    ``signalled`` tells whether a SIGINT arrived while the guard was entered, whether it was
    raised at once, held back and raised later, or swallowed by the user's code: the explorer
    asks it around executions, so an interrupt is never lost. Guards nest: only the outermost
    one installs the handler; inner ones share its state.

    Example::

        with guard() as interrupt:
            for chooser in choosers:
                Runtime(build, chooser).run()
                if interrupt.signalled:
                    break
    """

    __slots__ = ("_installed", "_previous", "_restoring", "held", "owed", "signalled")

    def __init__(self) -> None:
        self.signalled = False
        self.held = False  # a SIGINT waits for a safe point
        self.owed = False  # the running execution is to be stopped at its next step
        self._previous: object = None
        self._installed = False
        self._restoring = False  # the previous handler is being put back (see _restore)

    def is_signalled(self) -> bool:
        """Did a SIGINT arrive while the guard was entered?"""
        return self.signalled

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._restoring:
            self.signalled = True  # the caller checks it once the guard is left
            return
        again = self.held
        self.signalled = self.owed = True
        rt = _context.state.active
        if rt is not None:
            rt.add_observer(_RaiseAtNextStep(self))
        if again or not is_held_back(frame):
            self.held = False
            raise KeyboardInterrupt
        self.held = True

    def __enter__(self) -> InterruptGuard:
        if _thread.get_ident() != _MAIN_IDENT:
            return self  # signals reach the main thread only: nothing to guard here
        if _guards:
            # Nested (an exploration inside a scenario): the outer guard's handler decides.
            _guards.append(_guards[-1])
            return _guards[-1]
        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self._previous = signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        except ValueError:  # not the main interpreter
            pass
        _guards.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if _thread.get_ident() != _MAIN_IDENT:
            return
        _guards.pop()
        if _guards or not self._installed:
            return
        self._installed = False
        # Put the default handler back, unless someone replaced ours meanwhile.
        if signal.getsignal(signal.SIGINT) == self._handle:
            self._restore()
        self.held = self.owed = False

    def _restore(self) -> None:
        """Put the previous handler back without losing a SIGINT that lands meanwhile.

        Python runs a signal's handler in the main thread at its next bytecode, whichever
        thread the kernel gave the signal to. One that comes while the handlers swap runs
        either ours, which then only counts it (``_restoring``), or the previous one (the
        default handler), inside the swap: its ``KeyboardInterrupt`` is caught and counted.
        Counted means :attr:`signalled`, which the caller checks once it has left the guard,
        and raises ``Interrupted`` with the result; a ``KeyboardInterrupt`` out of here would
        leave ``explore()`` without it. (Blocking SIGINT for the swap did not do: the mask is
        the main thread's own, and another thread running takes the signal.)
        """
        self._restoring = True
        try:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
        except KeyboardInterrupt:  # (raised by the previous handler: it is back in place)
            self.signalled = True
        finally:
            self._restoring = False


#: The guards entered in the main thread, innermost last (an inner one repeats the outer).
_guards: list[InterruptGuard] = []


def guard() -> InterruptGuard:
    """A new :class:`InterruptGuard` (enter it with ``with``)."""
    return InterruptGuard()
