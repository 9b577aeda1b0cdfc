"""The watchdog: ends an execution that stopped reaching yield points.

A real socket read, a lock shared with another OS thread, a lock interleave could not swap, a C
extension that waits, or a loop that computes without touching anything instrumented never
switches back to the scheduler: without a guard the exploration hangs. The watchdog is always on
(``explore(watchdog=...)``, ``INTERLEAVE_WATCHDOG``, default 10 s; whatever the patches), for the
whole execution: the scenario factory, the threads, ``check()`` and ``teardown()``.

How it works. A monitor thread (one per process, running while some exploration is guarded)
looks at every guarded execution ten times per limit. An execution that has taken no step for
``limit`` seconds is interrupted in the OS thread that runs it (the simulated threads are
greenlets of that one OS thread, so the running one is the one that blocks):

- **in the main thread**, with a signal sent by ``signal.pthread_kill``: a real-time signal
  nobody else handles (else ``SIGUSR2``/``SIGUSR1``; never ``SIGALRM``, which stays free for
  pytest-timeout and the user's own alarms). Its handler raises into the blocked code. Python
  returns from a blocking call on a signal and runs the handler: ``lock.acquire()``,
  ``time.sleep()``, socket, pipe and ``select`` calls, ``Queue.get()``, ``subprocess`` waits,
  ``input()``, and plain Python loops are all interrupted.
- **in any other thread**, with an asynchronous exception (``PyThreadState_SetAsyncExc``).
  Python raises it at the next bytecode, so a Python loop stops at once, but a blocking call
  cannot be interrupted off the main thread (Python retries it after a signal, and only the main
  thread runs handlers): the watchdog says so on stderr just after the limit, with the stack,
  and the exploration ends with :class:`BlockedOutsideScheduler` when the call returns.

Not interruptible anywhere: C code that holds the GIL (a long computation in a C function)
stops every Python thread, the monitor included, so it is not even seen until it returns; and a
C extension that waits with the GIL released but retries after a signal without running Python's
handlers, which the watchdog reports on stderr (the error comes when the call returns).

Code that swallows the error (``except:`` or ``except BaseException:``) and blocks again gets it
again, one tick later. The third time, a simulated thread in the main thread is abandoned: the
scheduler takes over from the signal handler, the execution ends with
:class:`BlockedOutsideScheduler`, and the abandoned greenlet is never resumed (it is kept, not
collected, since collecting it would run its swallowing code again). The scenario factory,
``check()`` and ``teardown()`` run on the scheduler itself and cannot be abandoned, nor can code
off the main thread: they keep getting the error, and the watchdog writes why on stderr.

The error ends the whole exploration (``explore()`` raises it): a blocked call cannot be undone,
and an execution that was interrupted proves nothing.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..errors import BlockedOutsideScheduler, InvalidArgument
from ._locations import is_internal_file as _is_internal_file

if TYPE_CHECKING:
    from ._runtime import Runtime

__all__ = [
    "DEFAULT_LIMIT",
    "Guard",
    "WatchdogFired",
    "ambient_limit",
    "guard",
    "is_running",
    "watchdog_limit",
]

#: The limit when neither ``explore(watchdog=...)``, :func:`watchdog_limit` nor
#: ``INTERLEAVE_WATCHDOG`` says otherwise.
DEFAULT_LIMIT = 10.0
#: Looks per limit: a blocked call is noticed within 1.1 times the limit.
_TICKS_PER_LIMIT = 10
_MIN_TICK = 0.005
#: Consecutive interrupts without progress before a simulated thread is abandoned (or, where
#: that cannot be done, before the watchdog explains on stderr why it cannot stop the code).
_ABANDON_AT = 3
#: ... and before it says so on stderr even when abandoning was tried.
_GIVE_UP_AT = 6


class WatchdogFired(BaseException):
    """Raised into the blocked code (a BaseException: ``except Exception`` does not catch it)."""


# ------------------------------------------------------------------------------ the limit
_limits: list[float | None] = []
_env_limit: list[float | None] = []


def _check_limit(seconds: object) -> float | None:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise InvalidArgument(f"watchdog={seconds!r} must be a number of seconds or None")
    if not seconds > 0:
        raise InvalidArgument(f"watchdog={seconds!r} must be greater than 0 seconds (or None)")
    return float(seconds)


@contextlib.contextmanager
def watchdog_limit(seconds: float | None) -> Iterator[None]:
    """Set the watchdog's limit for the explorations run inside the block.

    Args:
        seconds: how long an execution may go without a step before it is ended with
            :class:`BlockedOutsideScheduler`; ``None`` turns the watchdog off. Without this
            block the limit is ``INTERLEAVE_WATCHDOG`` (seconds, ``0`` = off) or 10 s.

    Example::

        with watchdog_limit(2.0):
            interleave.explore(scenario)
    """
    _limits.append(_check_limit(seconds))
    try:
        yield
    finally:
        _limits.pop()


def _env_default() -> float | None:
    raw = os.environ.get("INTERLEAVE_WATCHDOG", "")
    if not raw:
        return DEFAULT_LIMIT
    try:
        value = float(raw)
    except ValueError:
        raise InvalidArgument(
            f"INTERLEAVE_WATCHDOG={raw!r} must be a number of seconds (0 turns it off)"
        ) from None
    return value if value > 0 else None


def ambient_limit() -> float | None:
    """The limit for an exploration that does not set one: :func:`watchdog_limit`'s, else
    ``INTERLEAVE_WATCHDOG`` (read once, when first needed), else 10 s; ``None`` is off."""
    if _limits:
        return _limits[-1]
    if not _env_limit:
        _env_limit.append(_env_default())
    return _env_limit[0]


# ------------------------------------------------------------------------------ one guard
_MAIN_IDENT = threading.main_thread().ident


class Guard:
    """The watchdog of one exploration (or replay), run in one OS thread.

    Calling it with a runtime returns the context manager to enter around that execution (it is
    the first of the runtime's ``contexts``): the guard itself, watching that runtime. Between
    executions nothing is watched; the explorer's own work is never interrupted.

    The fields below ``rt`` belong to the monitor thread, except where noted.
    """

    __slots__ = (
        "abandon",
        "by_signal",
        "due",
        "ident",
        "limit",
        "message",
        "pending",
        "rt",
        "sending",
        "since",
        "steps",
        "strikes",
        "tick",
        "told",
        "watched",
    )

    def __init__(self, limit: float, *, by_signal: bool) -> None:
        self.limit = limit
        self.tick = max(limit / _TICKS_PER_LIMIT, _MIN_TICK)
        self.ident = _thread.get_ident()
        #: Interrupt with the signal (main thread) rather than an asynchronous exception.
        self.by_signal = by_signal
        #: The runtime of the execution running now (set by the exploring thread), or None.
        self.rt: Runtime | None = None
        self.watched: Runtime | None = None  # the execution ``steps`` and ``since`` are about
        self.steps = -1
        self.since = 0.0  # when it was first seen with this many steps
        self.due = 0.0  # when to interrupt it if it still has not moved
        self.strikes = 0  # interrupts sent since the execution last took a step
        #: What the watchdog said when it first fired (also read by the exploring thread).
        self.message: str | None = None
        self.sending = False  # the monitor is deciding whether to interrupt (see __exit__)
        self.pending = False  # a signal was sent that the handler has not acted on yet
        self.abandon = False  # the handler should abandon the running simulated thread
        self.told = False  # the stderr notice was written

    # The per-execution part: as cheap as possible, it runs around every execution.
    def __call__(self, rt: Runtime) -> Guard:
        self.rt = rt
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.rt = None
        # The monitor sets ``sending`` before it reads ``rt``, and this thread cleared ``rt``
        # before reading ``sending``: either the monitor saw ``rt`` gone and sends nothing, or
        # this thread sees it sending and waits for it (under the lock) to clear what it sent.
        if self.sending or self.message is not None:
            _settle(self)
        if self.message is not None and not isinstance(exc, KeyboardInterrupt):
            raise BlockedOutsideScheduler(self.message) from None


def _settle(guard: Guard) -> None:
    """Make sure no interrupt the monitor sent to ``guard`` is still on its way."""
    with _lock:
        if not guard.by_signal:
            _async_raise(guard.ident, None)  # a pending asynchronous exception is dropped
        guard.pending = False


# ------------------------------------------------------------------------------ the monitor
_lock = _thread.allocate_lock()  # guards _guards, _monitor and every interrupt sent
_guards: list[Guard] = []
_zombies: list[Any] = []  # abandoned greenlets: never resumed, never collected


class _Monitor:
    __slots__ = ("done", "stop", "wake")

    def __init__(self) -> None:
        self.stop = False
        self.wake = _thread.allocate_lock()  # held; released to wake the monitor up to stop
        self.wake.acquire()
        self.done = _thread.allocate_lock()  # held while the monitor thread runs
        self.done.acquire()

    def run(self) -> None:
        try:
            while not self.stop:
                guards = tuple(_guards)
                tick = min((g.tick for g in guards), default=_MIN_TICK)
                self.wake.acquire(timeout=tick)
                if self.stop:
                    break
                now = time.monotonic()
                for guard in guards:
                    try:
                        _look(guard, now)
                    except Exception:  # a bug here must not kill the watchdog silently
                        _tell(
                            "interleave: internal error in the watchdog, please report it:\n"
                            + traceback.format_exc()
                        )
        finally:
            self.done.release()


_monitor: _Monitor | None = None


def is_running() -> bool:
    """Is the monitor thread running (some exploration is guarded)?"""
    return _monitor is not None


def _start(guard: Guard) -> None:
    global _monitor
    with _lock:
        _guards.append(guard)
        if _monitor is None:
            _monitor = _Monitor()
            # A bare OS thread: nothing of ``threading`` (patched during explorations, and
            # listed by threading.enumerate()) is involved.
            _thread.start_new_thread(_monitor.run, ())


def _stop(guard: Guard) -> None:
    global _monitor
    guard.rt = None
    with _lock:
        _guards.remove(guard)
        if not guard.by_signal and guard.message is not None:
            _async_raise(guard.ident, None)  # whatever was sent last is not delivered now
        monitor = None
        if not _guards and _monitor is not None:
            monitor, _monitor = _monitor, None
            monitor.stop = True
            monitor.wake.release()
    if monitor is not None:
        monitor.done.acquire()  # joined: no thread is left behind
        monitor.done.release()


def _look(guard: Guard, now: float) -> None:
    """One look at ``guard``'s execution (monitor thread)."""
    rt = guard.rt
    if rt is None:
        return
    steps = len(rt.choices)
    if rt is not guard.watched or steps != guard.steps:
        guard.watched, guard.steps, guard.since, guard.strikes = rt, steps, now, 0
        # Once the watchdog has fired, the execution is lost anyway: insist every tick.
        guard.due = now + (guard.limit if guard.message is None else guard.tick)
        return
    if now >= guard.due:
        _fire(guard, rt, now)


def _fire(guard: Guard, rt: Runtime, now: float) -> None:
    with _lock:
        guard.sending = True
        try:
            if guard.rt is not rt or len(rt.choices) != guard.steps:
                return  # it ended, or moved on, while we looked
            frame = sys._current_frames().get(guard.ident)
            waited = now - guard.since
            if guard.message is None:
                guard.message = _describe(rt, frame, waited, guard.limit)
            guard.strikes += 1
            guard.due = now + guard.tick
            in_thread = rt.current is not None
            if guard.by_signal:
                if guard.strikes >= _ABANDON_AT and in_thread:
                    guard.abandon = True
                guard.pending = True
                signal.pthread_kill(guard.ident, _signal_in_use)
            else:
                _async_raise(guard.ident, WatchdogFired)
            # Still stalled after an interrupt: say why it does not work (once). Off the main
            # thread the first one stops a Python loop at once, so a second means a blocking
            # call (or code that swallows every exception in a loop).
            if not guard.told and (
                (not guard.by_signal and guard.strikes >= 2)
                or (guard.strikes >= _ABANDON_AT and not in_thread)
                or guard.strikes >= _GIVE_UP_AT
            ):
                guard.told = True
                _tell(_cannot_stop(guard, rt, frame, waited))
        finally:
            guard.sending = False


def _tell(text: str) -> None:
    # From the monitor thread: a warning would be raised here (filterwarnings = error) and be
    # lost; the exploring thread may be blocked for good. stderr is what is left.
    with contextlib.suppress(Exception):
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()


# ------------------------------------------------------------------------------ interrupting
_async_exc: list[Any] = []  # (raise, cancel): PyThreadState_SetAsyncExc, typed both ways


def _async_raise(ident: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in OS thread ``ident`` at its next bytecode; ``None`` cancels one pending."""
    if not _async_exc:
        import ctypes  # only explorations that need it pay for the import

        try:
            api = ctypes.pythonapi
            name = "PyThreadState_SetAsyncExc"
            _async_exc.append(
                (
                    ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)((name, api)),
                    # The same function, passing NULL (a py_object None would be Py_None).
                    ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)((name, api)),
                )
            )
        except (AttributeError, OSError):  # not CPython: Python loops cannot be interrupted
            _async_exc.append((None, None))
    set_exc, cancel = _async_exc[0]
    if exc is not None and set_exc is not None:
        set_exc(ident, exc)
    elif exc is None and cancel is not None:
        cancel(ident, None)


_signal_in_use = 0  # the signal whose handler is _on_signal, while one is installed
_signal_previous: Any = None
_signal_users = 0


def _free_signal() -> int | None:
    """A signal nobody handles, to interrupt the main thread with (None: none can be used)."""
    needed = ("pthread_kill", "pthread_sigmask", "sigpending", "sigwait")
    if not all(hasattr(signal, name) for name in needed):
        return None  # Windows: the asynchronous exception only
    candidates: list[int] = []
    high, low = getattr(signal, "SIGRTMAX", 0), getattr(signal, "SIGRTMIN", 0)
    if high and low:
        candidates.extend(range(high, max(low, high - 8), -1))
    candidates.extend(int(getattr(signal, n)) for n in ("SIGUSR2", "SIGUSR1") if hasattr(signal, n))
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    for sig in candidates:
        if sig not in blocked and signal.getsignal(sig) == signal.SIG_DFL:
            return sig
    return None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """The handler of the watchdog's signal (main thread): raise into the blocked code."""
    for guard in reversed(tuple(_guards)):
        if not (guard.pending and guard.by_signal):
            continue
        guard.pending = False
        rt = guard.rt
        if rt is None or len(rt.choices) != guard.steps:
            return  # the execution ended or moved on since the monitor looked
        if guard.abandon:
            _abandon(rt, guard.message or "")
        raise WatchdogFired(guard.message)


def _abandon(rt: Runtime, message: str) -> None:
    """Leave the running simulated thread for good and end the execution from the scheduler.

    Called from the signal handler, in the thread's greenlet. The greenlet is suspended here
    for ever: the runtime forgets it (it is neither unwound nor pooled) and it is kept, never
    collected (a collected greenlet is resumed to be killed, and this one swallows that too).
    """
    thread = rt.current
    glet = thread.glet if thread is not None else None
    # Only the running greenlet has no saved frame; otherwise the scheduler itself is running.
    if thread is None or glet is None or not glet or glet.gr_frame is not None:
        return
    hub = glet.parent
    if hub is None:
        return
    thread.glet = None
    _zombies.append(glet)
    hub.throw(WatchdogFired(message))


def _install_signal() -> bool:
    global _signal_in_use, _signal_previous, _signal_users
    if _signal_users:
        _signal_users += 1
        return True
    sig = _free_signal()
    if sig is None:
        return False
    try:
        _signal_previous = signal.signal(sig, _on_signal)
    except ValueError:  # not the main interpreter: no handlers can be installed
        return False
    _signal_in_use = sig
    _signal_users = 1
    return True


def _restore_signal() -> None:
    global _signal_users, _signal_previous
    _signal_users -= 1
    if _signal_users:
        return
    sig = _signal_in_use
    # A signal sent just before the guard stopped may still be on its way: block it, take it
    # if it is pending, and only then put the previous disposition back (the default action
    # of these signals ends the process).
    signal.pthread_sigmask(signal.SIG_BLOCK, (sig,))
    try:
        if sig in signal.sigpending():
            signal.sigwait((sig,))
        if signal.getsignal(sig) is _on_signal:
            signal.signal(sig, _signal_previous)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, (sig,))
        _signal_previous = None


@contextlib.contextmanager
def guard(limit: float | None) -> Iterator[Guard | None]:
    """Guard the executions run inside the block; yields the per-execution context factory.

    ``None`` (the watchdog is off) yields None. The exploration's first execution context must
    be the yielded guard, so the whole execution (factory and teardown included) is watched.

    Example::

        with guard(10.0) as watch:
            runtime = Runtime(build, chooser, contexts=[watch])
            runtime.run()
    """
    if limit is None:
        yield None
        return
    by_signal = _thread.get_ident() == _MAIN_IDENT and _install_signal()
    current = Guard(limit, by_signal=by_signal)
    _start(current)
    try:
        yield current
    except WatchdogFired:
        # An interrupt that landed between executions (it was sent just as one ended).
        raise BlockedOutsideScheduler(current.message or "the watchdog fired") from None
    finally:
        try:
            _stop(current)
        finally:
            if by_signal:
                _restore_signal()


# ------------------------------------------------------------------------------ messages
def _who(rt: Runtime, frame: FrameType | None) -> str:
    current = rt.current
    if current is not None:
        if rt.unwinding:
            return f"thread {current.name!r} (while it was unwound at the end of the execution)"
        return f"thread {current.name!r}"
    program = rt.program
    if program is None:
        return "the scenario factory"
    codes: dict[object, str] = {}
    for label, fn in (("check()", program.check), ("teardown()", program.teardown)):
        code = getattr(getattr(fn, "__func__", fn), "__code__", None)
        if code is not None:
            codes[code] = label
    while frame is not None:
        found = codes.get(frame.f_code)
        if found is not None:
            return found
        frame = frame.f_back
    return "check() or teardown()"


def _stack(frame: FrameType | None) -> str:
    # The user's frames only: the scheduler's own frames say nothing about the cause.
    stack = traceback.extract_stack(frame)
    frames = [f for f in stack if not _is_internal_file(f.filename)]
    # A built-in run directly as a thread, check or teardown has no frame of its own: the
    # innermost frame (interleave's call of it) is then the best there is.
    return "".join(traceback.format_list(frames or stack[-1:]))


def _describe(rt: Runtime, frame: FrameType | None, waited: float, limit: float) -> str:
    return (
        f"{_who(rt, frame)} blocked outside interleave's control: it has not yielded for "
        f"{waited:.1f} s (watchdog={limit:g} s). It is most likely waiting in a call "
        "interleave cannot schedule: a lock created before the exploration that interleave "
        "could not swap (keep locks in module globals or class attributes, or create them "
        "in the scenario factory), a lock shared with another OS thread, a real socket or "
        "pipe, or a C extension that waits; or it computes without any yield point for longer "
        "than the limit (raise the limit for such scenarios). Its stack:\n" + _stack(frame)
    )


def _cannot_stop(guard: Guard, rt: Runtime, frame: FrameType | None, waited: float) -> str:
    who = _who(rt, frame)
    if not guard.by_signal:
        where = (
            "explore() runs in a thread that is not the main thread"
            if guard.ident != _MAIN_IDENT
            else "this platform has no signal the watchdog can use"
        )
        why = (
            f"{where}, and there a blocking call (a lock, a socket, time.sleep) cannot be "
            "interrupted: Python only raises into it when the call returns. Run the exploration "
            "in the main thread, or give the call a timeout"
        )
    elif rt.current is None:
        why = (
            "it runs on the scheduler itself and catches the watchdog's error (a bare "
            "`except:` or `except BaseException:`) and blocks again; it cannot be abandoned"
        )
    else:
        why = (
            "it is in a call that does not return on a signal (a C extension's own wait or "
            "computation), or it ignores the watchdog's error"
        )
    return (
        f"interleave: the watchdog cannot interrupt {who}, blocked for {waited:.1f} s "
        f"(watchdog={guard.limit:g} s): {why}. The exploration ends with "
        "BlockedOutsideScheduler when the call returns. Its stack:\n" + _stack(frame)
    )
