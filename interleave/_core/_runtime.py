"""The runtime of ONE execution: a cooperative scheduler over greenlets.

Every simulated thread is a greenlet whose parent is the scheduler (the greenlet that called
:meth:`Runtime.run`). A thread announces its next operation and switches to the scheduler
*before* performing it, so at every step the scheduler knows each thread's pending operation:

    scheduler ──switch──► thread A ... access(op) ──switch──► scheduler
        ▲  chooses among enabled threads, records the step, tells observers  │
        └────────────────────────────────────────────────────────────────────┘

The sequence of choices is the schedule; it is all that is needed to replay the execution.

Greenlets are reused: starting a fresh one costs more than a whole step, so each OS thread
keeps a small pool of idle greenlets (see :func:`_serve`) and every execution borrows from it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field, replace
from types import CodeType, FrameType
from typing import Any, NamedTuple, Protocol, TypeVar

import greenlet

from ..errors import InternalError, ScenarioError, ScheduleDivergence
from . import _context
from ._findings import Finding, InvariantViolation, StepLimit, TeardownFailed, ThreadCrashed
from ._fingerprint import StepVerifier, describe_code
from ._observer import Observer
from ._ops import GIVE, Location, Operation
from ._schedule import DEFAULT_OPTIONS, ExecutionOptions, Schedule, encode
from ._threads import DONE, NEW, READY, SimThread, Wait
from ._trace import Trace
from ._views import ExecutionView, StepView

_S = TypeVar("_S")

__all__ = ["Chooser", "DeadlineReached", "Program", "RunOutcome", "Runtime", "ThreadSpec"]


class ThreadSpec(NamedTuple):
    """A thread to start: an explicit name (or None to derive one), the function, its args.

    (A named tuple: one is built per thread of every execution.)
    """

    name: str | None
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Program:
    """A built scenario, normalised: what one execution runs."""

    threads: tuple[ThreadSpec, ...]
    check: Callable[[], object] | None = None
    teardown: Callable[[], object] | None = None
    name: str = "scenario"
    #: The options this program runs with, recorded in its schedule IDs.
    options: ExecutionOptions = DEFAULT_OPTIONS


class Chooser(Protocol):
    """Picks the thread to run at each step (strategies provide these).

    It sees the step through a read-only :class:`~interleave._core._views.StepView` (the
    runtime itself, typed narrowly): it may read, never change, the execution.
    """

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread: ...


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What one execution produced: all a strategy learns from it.

    Attributes:
        trace: the steps (threads, resolved operations, locations) and how each thread ended.
        findings: what went wrong.
        stuck: no thread could run while some had not finished.
        pending: the operation each unfinished thread was about to do (resolved) when the
            execution ended early (stuck, or a step limit): they conflict with what ran.
        created_at: per thread, the step during which another thread started it (-1: one of
            the scenario's own threads).
    """

    trace: Trace
    findings: tuple[Finding, ...]
    stuck: bool = False
    pending: Mapping[int, Operation] = field(default_factory=dict)
    created_at: tuple[int, ...] = ()


class _Unwind(BaseException):
    """Thrown into unfinished threads at the end of an execution so ``finally`` blocks run.

    A ``BaseException`` so that user code's ``except Exception`` cannot swallow it.
    """


class _StopExecution(BaseException):
    """Ends the execution early (a step limit); private control flow."""


class DeadlineReached(BaseException):
    """The runtime's ``deadline`` passed during the execution, which is abandoned unfinished.

    Raised out of :meth:`Runtime.run` (after unwinding and teardown, as for any abort); the
    explorer stops with ``stopped_because="timeout"``. A ``BaseException``: user code's
    ``except Exception`` cannot swallow it.
    """


#: With a deadline, the clock is read each time the busiest thread has taken this many more
#: steps (a few milliseconds of steps): a long execution cannot overrun ``timeout=`` by much.
DEADLINE_STEPS = 1_000


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# Both caches are keyed by file name, not by code object: a str caches its hash, while a code
# object hashes its whole contents on every lookup (slower than the rest of a step).
_internal_files: dict[str, bool] = {}
_locations: dict[str, dict[int, Location]] = {}


def _is_internal_file(filename: str) -> bool:
    flag = _internal_files.get(filename)
    if flag is None:
        # The bundled examples (interleave/_examples in a wheel) are user code, as is the
        # pytest plugin's caller side.
        flag = filename.startswith(_PACKAGE_DIR) and not filename.startswith(
            (_PACKAGE_DIR + "_pytest_plugin", _PACKAGE_DIR + "_examples" + os.sep)
        )
        _internal_files[filename] = flag
    return flag


def _is_internal(code: CodeType) -> bool:
    return _is_internal_file(code.co_filename)


def user_location(frame: FrameType | None) -> Location | None:
    """The first frame outside interleave, as a :class:`Location`."""
    # On the hot path (every yield point): Location objects are shared per line, built once.
    internal = _internal_files
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        flag = internal.get(filename)
        if flag is None:
            flag = _is_internal_file(filename)
        if not flag:
            lineno = frame.f_lineno
            by_line = _locations.get(filename)
            if by_line is None:
                by_line = _locations[filename] = {}
            location = by_line.get(lineno)
            if location is None or location.function != code.co_name:
                # Two functions on one line (a lambda in a def) take turns in the cache.
                location = by_line[lineno] = Location(filename, lineno, code.co_name)
            return location
        frame = frame.f_back
    return None


class Runtime:
    """Runs one execution of a program under a chooser.

    Primitives talk to the runtime through :meth:`access` (a plain yield point) and
    :meth:`block` (a yield point that may wait). Both return at once when called outside a
    simulated thread or while the execution is being unwound.
    """

    def __init__(
        self,
        build: Callable[[], Program],
        chooser: Chooser,
        *,
        observers: Sequence[Observer] = (),
        max_steps: int = 10_000,
        capture_locations: bool = True,
        contexts: Sequence[Callable[[Runtime], AbstractContextManager[object]]] = (),
        deadline: float | None = None,
    ) -> None:
        self._build = build
        #: ``time.monotonic()`` after which the execution is abandoned (``DeadlineReached``).
        self.deadline = deadline
        self._contexts = tuple(contexts)
        self.chooser = chooser
        self.observers = tuple(observers)
        self.max_steps = max_steps
        self.capture_locations = capture_locations
        self.threads: list[SimThread] = []
        self.current: SimThread | None = None
        self.last: SimThread | None = None
        self.unwinding = False
        self.program: Program | None = None
        # The trace, as parallel lists (cheap to append on the hot path).
        self.choices: list[int] = []
        self.ops: list[Operation] = []
        self.locations: list[Location | None] = []
        self._last_preference = 0  # length of the schedule prefix that must be recorded
        self.preemptions = 0  # switches away from a thread that could have continued
        self._daemons = False  # any daemon thread in this execution?
        self._names: dict[str, int] = {}
        self._counters: dict[str, int] = {}
        self._findings: list[Finding] = []
        self._blocked: set[int] = set()
        #: Operations threads still had pending when the execution ended early (by thread).
        self.pending_at_end: dict[int, Operation] = {}
        self._on_step = [o.on_step for o in self.observers if _overrides(o, "on_step")]
        self._on_finish = [o.on_finish for o in self.observers if _overrides(o, "on_finish")]
        self._hub: greenlet.greenlet | None = None
        #: Per-execution state of primitives and patches, one instance per type (see slot()).
        self._slots: dict[type, Any] = {}
        # Untyped per-execution state, keyed by strings: being replaced by slot().
        self.scratch: dict[object, Any] = {}

    def add_observer(self, observer: Observer) -> None:
        """Attach ``observer`` to this execution, also while it runs.

        For instrumentation that starts on first use (sqlite's SQL-aware lost-update detector):
        its overridden hooks are called from the next step (``on_step``), stuck check
        (``on_stuck``) and end of the execution (``on_finish``) on.
        """
        self.observers = (*self.observers, observer)
        # _loop holds this very list, so a hook added mid-execution is seen at the next step.
        if _overrides(observer, "on_step"):
            self._on_step.append(observer.on_step)
        if _overrides(observer, "on_finish"):
            self._on_finish.append(observer.on_finish)

    def slot(self, kind: type[_S]) -> _S:
        """This execution's instance of ``kind``, made (``kind()``) on first use.

        Primitives and patches keep their per-execution state in a class of their own (the
        threading patch's thread objects, SQLite's connections): typed, and gone with the
        execution.
        """
        state = self._slots.get(kind)
        if state is None:
            state = self._slots[kind] = kind()
        return state

    def peek(self, kind: type[_S]) -> _S | None:
        """This execution's instance of ``kind`` if something made it, else None."""
        return self._slots.get(kind)

    # ------------------------------------------------------------------ naming
    def next_name(self, kind: str) -> str:
        """A stable name for an unnamed primitive: ``lock#1``, ``lock#2`` … per execution.

        Objects made by a running thread are numbered per thread (``lock#1@worker#2``): two
        threads that each make one do so in either order, and a name must not depend on the
        schedule (the same object must have the same name in every execution, or the
        exploration would take it for another one).
        """
        thread = self.current
        key = kind if thread is None else f"{kind}@{thread.name}"
        n = self._counters.get(key, 0) + 1
        self._counters[key] = n
        return f"{kind}#{n}" if thread is None else f"{kind}#{n}@{thread.name}"

    def _thread_name(self, explicit: str | None, fn: Callable[..., Any]) -> str:
        if explicit is not None:
            base = explicit
            if base not in self._names:
                self._names[base] = 0
                return base
        else:
            base = getattr(fn, "__name__", None) or "thread"
            if base == "<lambda>":
                base = "thread"
        n = self._names.get(base, 0) + 1
        self._names[base] = n
        name = f"{base}#{n}"
        while name in self._names:  # an explicit name already took it
            n += 1
            self._names[base] = n
            name = f"{base}#{n}"
        return name

    def new_thread(
        self, fn: Callable[..., Any], args: tuple[Any, ...] = (), name: str | None = None
    ) -> SimThread:
        """Create a simulated thread; it starts at the next scheduling step."""
        thread = SimThread(len(self.threads), self._thread_name(name, fn), fn, args)
        thread.created_at = len(self.choices) - 1
        self.threads.append(thread)
        return thread

    def observable(self, thread: SimThread) -> None:
        """Give ``thread`` an end of its own: others hold a handle that can see it finish.

        A thread with a handle (``spawn()``, ``threading.Thread``) ends in a step of its own
        after its function returns: ``join()`` and ``is_alive()`` conflict with that step
        and nothing else, so its other steps stay independent of them.
        """
        if thread.end_op is None:
            resource = ("thread", thread.name)
            thread.end_op = Operation("end", resource, "end", footprint=((resource, GIVE),))

    def resolved(self, op: Operation, thread: SimThread) -> Operation:
        """What ``op`` does if ``thread`` runs it now (``op`` itself for most operations)."""
        resolve = op.resolve
        return op if resolve is None else resolve(self, thread)

    def mark_daemon(self, thread: SimThread) -> None:
        """Make ``thread`` a daemon: the execution ends when only daemon threads are left."""
        thread.daemon = True
        self._daemons = True

    # ------------------------------------------------------------------ yield points
    def access(self, op: Operation) -> None:
        """Announce ``op`` and yield to the scheduler; returns when this thread is chosen."""
        thread = self.current
        if thread is None or self.unwinding:
            return
        thread.pending = op
        thread.wait = None
        if self.capture_locations:
            # Only interleave's shims call access()/block(): the walk starts at their caller.
            thread.location = user_location(sys._getframe(2))
        self._hub.switch()  # type: ignore[union-attr]
        if thread.on_resume is not None:  # a debugger stops here (replay(breakpoint_at=))
            thread.resumed()

    def block(self, op: Operation, wait: Wait) -> bool:
        """Announce a blocking ``op``; returns True when ``wait`` is ready, False on timeout.

        The thread is enabled when ``wait.is_ready()`` (or always, when ``wait.timeout`` is set:
        timing out is then a scheduling choice).
        """
        thread = self.current
        if thread is None or self.unwinding:
            if self.unwinding:
                # A ``finally`` that blocks while the execution is unwound cannot wait.
                raise _Unwind
            return wait.is_ready()
        thread.pending = op
        thread.wait = wait
        if self.capture_locations:
            # Only interleave's shims call access()/block(): the walk starts at their caller.
            thread.location = user_location(sys._getframe(2))
        self._hub.switch()  # type: ignore[union-attr]
        if thread.on_resume is not None:  # a debugger stops here (replay(breakpoint_at=))
            thread.resumed()
        ready = wait.is_ready()
        thread.wait = None
        return ready

    @property
    def step_count(self) -> int:
        """Steps taken so far (the index of the step being chosen, for choosers)."""
        return len(self.choices)

    @property
    def step_index(self) -> int:
        """Index of the step being performed (or about to be chosen)."""
        return len(self.choices) - 1

    # ------------------------------------------------------------------ the loop
    def run(self) -> RunOutcome:
        """Build the program, run it to the end under the chooser, and return the outcome."""
        # Per-execution patches (sqlite3.connect, threading …) wrap the whole execution,
        # factory and teardown included, and are undone even when the scenario raises.
        return self._run_within(0)

    def _run_within(self, index: int) -> RunOutcome:
        # Nested ``with`` statements, one per context: the semantics of an ExitStack without
        # its bookkeeping (it is entered on every execution).
        contexts = self._contexts
        if index == len(contexts):
            return self._run()
        with contexts[index](self):
            return self._run_within(index + 1)

    def _run(self) -> RunOutcome:
        state = _context.state  # set_building() and set_active(), inlined
        state.building = self
        try:
            self.program = program = self._build()
            for spec in program.threads:
                self.new_thread(spec.fn, spec.args, spec.name)
            if not self.threads:
                raise ScenarioError(
                    f"scenario {program.name!r} has no threads: return at least one callable"
                )
            self._hub = greenlet.getcurrent()
            stuck = False
            looped = False
            state.active = self
            try:
                stuck = self._loop()
                looped = True
            finally:
                try:
                    self._unwind()
                finally:
                    state.active = None
                    self.current = None
                    self._release()
                    if not looped and program.teardown is not None:
                        # The run was aborted (a replay diverged, a KeyboardInterrupt …):
                        # teardown still runs; the abort's exception is what propagates.
                        with suppress(Exception):
                            program.teardown()
            self._finish(stuck)
            trace = self._trace(stuck)
            findings: tuple[Finding, ...] = ()
            if self._findings:
                # Only findings carry the ID: most executions find nothing and skip encoding.
                sid = encode(trace.schedule, trace.ops)
                findings = tuple(
                    f.__class__(**{**_fields(f), "schedule_id": sid, "trace": trace})
                    for f in self._findings
                )
            return RunOutcome(
                trace=trace,
                findings=findings,
                stuck=stuck,
                pending=self.pending_at_end,
                created_at=tuple([t.created_at for t in self.threads]),
            )
        finally:
            state.building = None

    def _loop(self) -> bool:
        threads = self.threads
        choices = self.choices
        ops = self.ops
        locations = self.locations
        on_step = self._on_step
        choose = self.chooser.choose
        max_steps = self.max_steps
        # A thread's step count is compared with ``check_at`` on every step anyway (the step
        # limit); a deadline lowers it, so the clock costs nothing per step (see _next_check).
        check_at = max_steps if self.deadline is None else min(max_steps, DEADLINE_STEPS)
        for thread in list(threads):
            self._start(thread)
        while True:
            enabled = [
                t
                for t in threads
                if t.state == READY
                and ((wait := t.wait) is None or wait.timeout or wait.is_ready())
            ]
            if not enabled:
                unfinished = [t for t in threads if t.state != DONE]
                if unfinished and not all(t.daemon for t in unfinished):
                    self._note_pending(None)
                    self._stuck(unfinished)
                    return True
                self._note_pending(None)
                return False  # done (daemon threads left waiting end with the program)
            if self._daemons and all(t.daemon or t.state == DONE for t in threads):
                self._note_pending(None)
                return False  # only daemon threads are left: the program would exit here
            thread = choose(self, enabled)
            index = len(choices)
            last = self.last
            if thread is not last:
                could_continue = last is not None and last in enabled
                if could_continue:
                    self.preemptions += 1
                if thread is not enabled[0] or could_continue:
                    # Not what the default policy (keep the last thread if it can run, else
                    # the lowest runnable one) would pick: the schedule ID must record it.
                    self._last_preference = index + 1
            op = thread.pending
            assert op is not None
            if op.resolve is not None:
                # An operation whose outcome depends on the state (a try-acquire that finds
                # the lock held, a timed wait that times out, an RLock re-entry) is recorded
                # as what it does now: nothing runs between this choice and the step.
                op = op.resolve(self, thread)
            choices.append(thread.tid)
            ops.append(op)
            locations.append(thread.location)
            for hook in on_step:
                hook(index, thread, op)
            thread.steps = steps = thread.steps + 1
            if steps > check_at and steps > (check_at := self._next_check(steps)):
                self._findings.append(
                    StepLimit(
                        message=(
                            f"thread {thread.name!r} took more than max_steps={max_steps} "
                            f"steps; it is most likely a spin loop (waiting on a shared value "
                            f"that only changes when another thread runs, with no blocking "
                            f"call). Wait on an Event, Condition or Lock instead, or raise "
                            f"max_steps if the thread really needs that many steps."
                        ),
                        threads=(thread.name,),
                        steps=(index,),
                        thread=thread.name,
                        max_steps=max_steps,
                        signature=("step-limit", thread.name),
                    )
                )
                self._note_pending(thread)
                return False
            self.last = thread
            # Run the thread up to its next yield point. It switches back from there, or sends
            # _ENDED when its function has returned (a greenlet that died instead, from an
            # exception that is not an Exception, has already raised it here).
            self.current = thread
            glet = thread.glet
            assert glet is not None
            if glet.switch() is _ENDED or glet.dead:
                self._ended(thread)
            self.current = None
            if len(threads) != thread.tid + 1 and threads[-1].state == NEW:
                for new in threads:
                    if new.state == NEW:
                        self._start(new)

    def _next_check(self, steps: int) -> int:
        """A thread's step count passed ``check_at``: raise when the deadline has passed, and
        return the next count to look at (``max_steps`` at most: past it is a step limit)."""
        deadline = self.deadline
        max_steps = self.max_steps
        if deadline is None or steps > max_steps:
            return max_steps
        if time.monotonic() >= deadline:
            raise DeadlineReached
        return min(max_steps, steps + DEADLINE_STEPS)

    def _note_pending(self, stopped: SimThread | None) -> None:
        # The execution ends with threads that still had an operation to do (blocked, or cut
        # short by a step limit): exploration strategies must know them, since those
        # operations conflict with what ran (DPOR reverses such races too).
        # Resolved now, while their waits still say what they wait for.
        self.pending_at_end = {
            t.tid: self.resolved(t.pending, t)
            for t in self.threads
            if t.state == READY and t.pending is not None and t is not stopped
        }

    def _start(self, thread: SimThread) -> None:
        # Run a new thread up to its first yield point. Code before that point touches no
        # instrumented state, so the order in which threads are started does not matter.
        # The greenlet comes from this OS thread's pool of idle ones when it can: starting a
        # fresh greenlet costs far more than a step (a new C stack slice and frame stack).
        hub = self._hub
        assert hub is not None
        idle = _pool.idle
        if idle:
            glet = idle.pop()
            glet.parent = hub
        else:
            glet = greenlet.greenlet(_serve, parent=hub)
        thread.glet = glet
        thread.state = READY
        self.current = thread
        # A fresh greenlet starts _serve(self, thread); an idle one resumes in _serve's loop.
        if glet.switch(self, thread) is _ENDED or glet.dead:
            self._ended(thread)
        self.current = None

    @staticmethod
    def _ended(thread: SimThread) -> None:
        thread.ended = True
        thread.state = DONE
        thread.pending = None
        thread.wait = None

    def _run_thread(self, thread: SimThread) -> None:
        """Run ``thread``'s function on the current (pooled) greenlet; record a crash."""
        try:
            self._call_thread(thread)
            end = thread.end_op
            if end is not None and not self.unwinding:
                self.access(end)
        except _Unwind:
            pass
        finally:
            thread.ended = True

    def _call_thread(self, thread: SimThread) -> None:
        try:
            thread.result = thread.fn(*thread.args)
        except _Unwind:
            raise
        except Exception as exc:
            if self.unwinding:
                return  # an error while unwinding a stuck run is noise, not a finding
            thread.error = exc
            tb = _user_traceback(exc)
            where = _exception_location(exc)
            self._findings.append(
                ThreadCrashed(
                    message=f"thread {thread.name!r} raised {type(exc).__name__}: {exc}",
                    threads=(thread.name,),
                    steps=(len(self.choices) - 1,) if self.choices else (),
                    thread=thread.name,
                    exception=f"{type(exc).__name__}: {exc}",
                    traceback=tb,
                    signature=("exception", type(exc).__name__, where),
                )
            )

    def _release(self) -> None:
        # Greenlets whose thread function has returned go back to the pool for the next
        # execution; they wait in _serve's loop. The pool is bounded, so an execution with
        # many spawned threads does not keep their stacks alive forever.
        idle = _pool.idle
        for thread in self.threads:
            glet = thread.glet
            if glet is None:
                continue
            thread.glet = None
            if thread.ended and not glet.dead and len(idle) < _POOL_SIZE:
                idle.append(glet)

    def _stuck(self, blocked: list[SimThread]) -> None:
        self._blocked = {t.tid for t in blocked if t.wait is not None}
        findings: list[Finding] = []
        for observer in self.observers:
            findings.extend(observer.on_stuck(self, blocked))
        self._findings.extend(findings)

    def _unwind(self) -> None:
        # Unfinished threads get _Unwind thrown in, in creation order, so ``finally`` blocks
        # and context managers run in a fixed order. Primitives do not yield meanwhile.
        self.unwinding = True
        for thread in self.threads:
            glet = thread.glet
            if glet is not None and not thread.ended and not glet.dead:
                thread.unwound = True
                self.current = thread
                with suppress(_Unwind):
                    glet.throw(_Unwind)
                self.current = None
            if glet is not None and glet.dead:
                thread.ended = True
            thread.wait = None
            if thread.state == READY:
                thread.state = DONE if glet is None or thread.ended else thread.state

    def _finish(self, stuck: bool) -> None:
        for on_finish in self._on_finish:
            self._findings.extend(on_finish(self))
        program = self.program
        assert program is not None
        completed = not stuck and not any(f.kind == "step-limit" for f in self._findings)
        try:
            if completed and program.check is not None:
                self._run_check(program.check)
        finally:
            if program.teardown is not None:
                self._run_teardown(program.teardown)

    def _run_check(self, check: Callable[[], object]) -> None:
        try:
            ok = check()
        except Exception as exc:
            tb = _user_traceback(exc)
            self._findings.append(
                InvariantViolation(
                    message=f"check() raised {type(exc).__name__}: {exc}",
                    detail=tb,
                    signature=("invariant", type(exc).__name__, _exception_location(exc)),
                )
            )
            return
        if not ok:
            name = getattr(check, "__qualname__", "check")
            hint = (
                " (a check must return True when the state is right; one that only asserts "
                "must end with `return True`)"
                if ok is None
                else ""
            )
            self._findings.append(
                InvariantViolation(
                    message=f"check() returned {ok!r} after all threads finished{hint}",
                    detail=f"{name} returned {ok!r}",
                    signature=("invariant", "returned", repr(ok)),
                )
            )

    def _run_teardown(self, teardown: Callable[[], object]) -> None:
        # A teardown that raises is a finding of its own: the exploration goes on (the next
        # execution starts from fresh state anyway), and the traceback says what failed.
        try:
            teardown()
        except Exception as exc:
            self._findings.append(
                TeardownFailed(
                    message=f"teardown() raised {type(exc).__name__}: {exc}",
                    exception=f"{type(exc).__name__}: {exc}",
                    traceback=_user_traceback(exc),
                    signature=("teardown", type(exc).__name__, _exception_location(exc)),
                )
            )

    def _trace(self, stuck: bool) -> Trace:
        blocked = self._blocked
        outcomes = tuple(
            [
                "crashed"
                if t.error is not None
                else "blocked"
                if t.tid in blocked
                else "finished"
                if t.ended and not t.unwound
                else "unfinished"
                for t in self.threads
            ]
        )
        choices = tuple(self.choices)
        options = self.program.options if self.program is not None else DEFAULT_OPTIONS
        if options.max_steps != self.max_steps:
            options = replace(options, max_steps=self.max_steps)
        return Trace(
            thread_names=tuple([t.name for t in self.threads]),
            choices=choices,
            ops=tuple(self.ops),
            locations=tuple(self.locations),
            outcomes=outcomes,
            schedule=Schedule(
                choices=choices[: self._last_preference], steps=len(choices), options=options
            ),
            preempted=self.preemptions,
        )

    # ------------------------------------------------------------------ choosing helpers
    def default_choice(self, enabled: list[SimThread]) -> SimThread:
        """The default policy: keep running the last thread, else the lowest runnable one."""
        last = self.last
        if last is not None and last in enabled:
            return last
        return enabled[0]


_overridden: dict[tuple[type[Observer], str], bool] = {}


def _overrides(observer: Observer, hook: str) -> bool:
    """``observer.overrides(hook)``, remembered per class (it is asked on every execution)."""
    key = (type(observer), hook)
    flag = _overridden.get(key)
    if flag is None:
        flag = _overridden[key] = observer.overrides(hook)
    return flag


#: Sent by a pooled greenlet to the scheduler when its thread's function has returned.
_ENDED: Any = object()
#: Idle greenlets kept per OS thread.
_POOL_SIZE = 64


class _Pool(threading.local):
    # Greenlets belong to the OS thread that created them, so each has its own pool.
    def __init__(self) -> None:
        self.idle: list[greenlet.greenlet] = []


_pool = _Pool()


def _serve(runtime: Runtime, thread: SimThread) -> None:
    """The function of a pooled greenlet: run one simulated thread after another.

    After each thread it sends ``_ENDED`` to the scheduler and waits, idle in the pool, until
    :meth:`Runtime._start` hands it the next ``(runtime, thread)``.
    """
    while True:
        runtime._run_thread(thread)
        del runtime, thread  # an idle greenlet must not keep the last execution alive
        parent = greenlet.getcurrent().parent
        assert parent is not None
        runtime, thread = parent.switch(_ENDED)


def _fields(finding: Finding) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(finding, f.name) for f in fields(finding)}


def _user_traceback(exc: BaseException) -> str:
    """The formatted exception, without interleave's own frames at the top of the stack."""
    tb = exc.__traceback__
    while tb is not None and _is_internal(tb.tb_frame.f_code):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def _exception_location(exc: BaseException) -> str:
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        if not _is_internal(tb.tb_frame.f_code):
            code = tb.tb_frame.f_code
            where = f"{os.path.basename(code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


class ScheduleChooser:
    """Follows a recorded schedule prefix, then the default policy (used by replay).

    When the ID recorded operation codes, every step performed so far is checked against them
    before the next choice, so a replay that runs other operations stops at the first one.
    """

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        codes = schedule.codes
        self._verifier = StepVerifier(codes) if codes is not None else None

    def choose(self, runtime: StepView, enabled: list[SimThread]) -> SimThread:
        index = runtime.step_count
        if self._verifier is not None:
            self._verifier.verify(runtime, index)
        choices = self.schedule.choices
        if index >= self.schedule.steps:
            raise ScheduleDivergence(
                f"the recorded execution ended after {self.schedule.steps} steps, but here "
                f"threads {_names(enabled)} can still run at step {index}: the scenario "
                "changed since the ID was recorded, or it is not deterministic"
            )
        if index < len(choices):
            tid = choices[index]
            for thread in enabled:
                if thread.tid == tid:
                    return thread
            expected = runtime.threads[tid].name if tid < len(runtime.threads) else f"thread #{tid}"
            raise ScheduleDivergence(
                f"replay diverged at step {index}: the schedule says {expected!r} runs next, "
                f"but only {_names(enabled)} can run. The scenario changed since the ID was "
                "recorded, or it is not deterministic (time, randomness, hash order or state "
                "kept between executions)"
            )
        return runtime.default_choice(enabled)

    def check_complete(self, runtime: ExecutionView) -> None:
        if self._verifier is not None:
            self._verifier.verify(runtime, len(runtime.ops))
        steps = len(runtime.choices)
        if steps != self.schedule.steps:
            codes = self.schedule.codes
            missing = (
                f" (recorded step {steps} was {describe_code(codes[steps])})"
                if codes is not None and steps < len(codes)
                else ""
            )
            raise ScheduleDivergence(
                f"the recorded execution had {self.schedule.steps} steps but the replay ended "
                f"after {steps}{missing}: the scenario changed since the ID was "
                "recorded, or it is not deterministic"
            )


def _names(threads: list[SimThread]) -> str:
    return ", ".join(repr(t.name) for t in threads) or "none"


def internal_error(exc: BaseException) -> InternalError:
    """Wrap an unexpected exception from interleave's own code."""
    err = InternalError("internal error in interleave, please report it")
    err.__cause__ = exc
    return err
