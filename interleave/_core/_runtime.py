"""The runtime of ONE execution: a cooperative scheduler over greenlets.

Every simulated thread is a greenlet whose parent is the scheduler (the greenlet that called
:meth:`Runtime.run`). A thread announces its next operation and switches to the scheduler
*before* performing it, so at every step the scheduler knows each thread's pending operation:

    scheduler ──switch──► thread A ... access(op) ──switch──► scheduler
        ▲  chooses among enabled threads, records the step, tells observers  │
        └────────────────────────────────────────────────────────────────────┘

The sequence of choices is the schedule; it is all that is needed to replay the execution.

Greenlets are reused: starting a fresh one costs more than a whole step, so each OS thread
keeps a small pool of idle greenlets (see :mod:`._greenlets`) and every execution borrows from it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from types import FrameType
from typing import Any, Final, TypeVar

import greenlet

from ..errors import InterleaveError, InternalError, ScenarioError
from . import _context
from ._deadline import DEADLINE_STEPS, DeadlineReached, next_check
from ._findings import Finding, StepLimit
from ._greenlets import ENDED, Unwind, idle_greenlets, release, serve, unwind
from ._locations import user_location
from ._memo import StepMemo, step_signature
from ._names import Names
from ._native import caused
from ._observer import Observer, overrides_hook
from ._ops import GIVE, Location, Operation
from ._outcomes import check_finding, crash_finding, step_limit_finding, teardown_finding
from ._program import Chooser, Program, RunOutcome
from ._schedule import DEFAULT_OPTIONS
from ._threads import DONE, NEW, READY, SimThread, Wait
from ._trace import Trace, record_trace

_S = TypeVar("_S")

__all__ = ["DeadlineReached", "Runtime"]


#: How far up ``access``/``block`` find the code that called interleave's shim: only shims call
#: them, so as plain Python the walk starts two frames up (past the shim). Compiled (see
#: _native), neither has a frame and ``sys._getframe(0)`` is already the nearest interpreted
#: one; ``user_location`` skips whatever of interleave's own files it meets on the way.
_SHIM_CALLER: Final = 2 if __file__.endswith(".py") else 0

_NOTHING: Mapping[tuple[object, ...], Finding] = {}


def _shim_caller() -> FrameType | None:
    """The frame of the code that called the shim (None: no interpreted frame at all, as in
    a thread's end step, which the compiled core runs on a greenlet of compiled frames)."""
    try:
        return sys._getframe(_SHIM_CALLER)
    except ValueError:
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
        known: Mapping[tuple[object, ...], Finding] | None = None,
        memo: StepMemo | None = None,
    ) -> None:
        self._build = build
        #: Findings the exploration keeps already, by origin (see ExecutionView.known).
        self.known: Mapping[tuple[object, ...], Finding] = _NOTHING if known is None else known
        #: ``time.monotonic()`` after which the execution is abandoned (``DeadlineReached``).
        self.deadline = deadline
        self._contexts = tuple(contexts)
        self.chooser = chooser
        #: The exploration's carried observers (first; their steps go through it, see _loop).
        self._memo = memo
        if memo is not None:
            observers = (*memo.observers, *observers)
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
        self._names = Names()
        self._findings: list[Finding] = []
        self._blocked: set[int] = set()
        #: Operations threads still had pending when the execution ended early (by thread).
        self.pending_at_end: dict[int, Operation] = {}
        watched = self.observers if memo is None else observers[len(memo.observers) :]
        self._on_step = [o.on_step for o in watched if overrides_hook(o, "on_step")]
        self._on_finish = [o.on_finish for o in self.observers if overrides_hook(o, "on_finish")]
        self._hub: greenlet.greenlet | None = None
        #: Per-execution state of primitives and patches, one instance per type (see slot()).
        self._slots: dict[type, Any] = {}

    def add_observer(self, observer: Observer) -> None:
        """Attach ``observer`` to this execution, also while it runs.

        For instrumentation that starts on first use (sqlite's SQL-aware lost-update detector):
        its overridden hooks are called from the next step (``on_step``), stuck check
        (``on_stuck``) and end of the execution (``on_finish``) on.
        """
        self.observers = (*self.observers, observer)
        # _loop holds this very list, so a hook added mid-execution is seen at the next step.
        if overrides_hook(observer, "on_step"):
            self._on_step.append(observer.on_step)
        if overrides_hook(observer, "on_finish"):
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
        """A stable name for an unnamed object: ``lock#1`` … (see :class:`Names.object`)."""
        thread = self.current
        return self._names.object(kind, None if thread is None else thread.name)

    def new_thread(
        self, fn: Callable[..., Any], args: tuple[Any, ...] = (), name: str | None = None
    ) -> SimThread:
        """Create a simulated thread; it starts at the next scheduling step."""
        thread = SimThread(len(self.threads), self._names.thread(name, fn), fn, args)
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
        return op if op.resolve is None else op.resolve(self, thread)

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
            thread.location = user_location(_shim_caller())
        self._hub.switch()  # type: ignore[union-attr]

    def block(self, op: Operation, wait: Wait) -> bool:
        """Announce a blocking ``op``; returns True when ``wait`` is ready, False on timeout.

        The thread is enabled when ``wait.is_ready()`` (or always, when ``wait.timeout`` is set:
        timing out is then a scheduling choice).
        """
        thread = self.current
        if thread is None or self.unwinding:
            if self.unwinding:
                # A ``finally`` that blocks while the execution is unwound cannot wait.
                raise Unwind
            return wait.is_ready()
        # asyncio (instrument/asyncio): a task's wait that is not at an ``await`` blocks its
        # event loop's thread, so no other task could end it; the task says so if it cannot
        # go on now (``Task.check_blocking_wait`` raises EventLoopBlocked in the task).
        handle = thread.handle
        if handle is not None and not wait.cooperative:
            check = getattr(handle, "check_blocking_wait", None)
            if check is not None:
                check(wait)
        thread.pending = op
        thread.wait = wait
        if self.capture_locations:
            thread.location = user_location(_shim_caller())
        self._hub.switch()  # type: ignore[union-attr]
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
        state = _context.state
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
                try:
                    stuck = self._loop()
                except (InterleaveError, DeadlineReached):
                    raise
                except Exception as exc:
                    # Nothing of the scenario's runs in the loop itself (threads record their
                    # own errors, in their greenlets): an exception here is interleave's bug.
                    raise caused(
                        InternalError("internal error in interleave, please report it"), exc
                    ) from exc
                looped = True
            finally:
                try:
                    unwind(self)
                finally:
                    state.active = None
                    self.current = None
                    release(self.threads)
                    if not looped and program.teardown is not None:
                        # The run was aborted (a replay diverged, a KeyboardInterrupt …):
                        # teardown still runs; the abort's exception is what propagates,
                        # not the teardown's (its finding is dropped).
                        teardown_finding(program.teardown)
            self._finish(stuck)
            return RunOutcome(
                record=self._trace,
                steps=len(self.choices),
                threads=len(self.threads),
                raw_findings=tuple(self._findings),
                stuck=stuck,
                pending=self.pending_at_end,
                created_at=tuple([t.created_at for t in self.threads]),
                choices=self.choices,
                ops=self.ops,
            )
        finally:
            state.building = None

    def _loop(self) -> bool:
        """Run the execution to its end; True when it got stuck (a deadlock).

        Each turn is one step: compute the enabled threads, let the chooser pick one, record
        the step, tell the observers, and switch to the thread until its next yield point.
        The scheduler is the greenlet that called run(): every thread's greenlet has it as
        parent, so a thread returns control by switching to its parent (in access()/block())
        or by ending.
        """
        # Locals: this loop is the hot path of every exploration (attribute lookups on self
        # cost more than the list appends they guard).
        threads = self.threads
        choices = self.choices
        ops = self.ops
        locations = self.locations
        on_step = self._on_step
        # The carried observers watch only the steps that differ from the last execution's:
        # while this one repeats it (``repeating``), the step is compared, not watched; at the
        # first difference they are rewound to it (see _core/_memo.py).
        memo = self._memo
        seen = memo.steps if memo is not None else []
        carried = memo.hooks if memo is not None else []
        repeating = bool(seen)
        choose = self.chooser.choose
        # The replay fast path (see Chooser): the first ``fast`` steps are taken as the last
        # execution took them, without asking the chooser, while their enabled threads and
        # signatures are that execution's (``listed``: the enabled list ``tids`` is for).
        last_chooser = None if memo is None else memo.token
        follows = getattr(self.chooser, "follows", None)
        replay = last_chooser is not None and last_chooser is follows
        fast = min(getattr(self.chooser, "replayable", 0), len(seen)) if replay else 0
        was_enabled = memo.enabled if memo is not None else []
        listed: list[SimThread] | None = None
        tids: tuple[int, ...] = ()
        max_steps = self.max_steps
        # A thread's step count is compared with ``check_at`` on every step anyway (the step
        # limit); a deadline lowers it, so the clock costs nothing per step (see next_check).
        deadline = self.deadline
        check_at = max_steps if deadline is None else min(max_steps, DEADLINE_STEPS)
        # Every thread runs up to its first yield point before the first choice: the code
        # before it touches nothing instrumented, so starting them in creation order loses
        # no interleaving, and each thread then has a pending operation to choose by.
        for thread in list(threads):
            self._start(thread)
        started = 0  # the length of ``threads`` when new ones were last started (at the end)
        # The enabled set is kept from one step to the next while nothing can change it: no
        # thread waits (``waiters`` counts threads with a wait; only the running thread sets
        # or clears its own, in block()) and no thread started or ended. A step can make a
        # waiting thread ready (a release), so with any waiter it is computed at every step.
        enabled: list[SimThread] | None = None
        waiters = sum(1 for t in threads if t.wait is not None)
        while True:
            if enabled is None or waiters:
                # Enabled: started, not finished, and either not waiting or able to go on. A
                # wait with a timeout is always enabled: timing out is a choice like any
                # other (the operation then resolves to its timed-out outcome).
                enabled = [
                    t
                    for t in threads
                    if t.state == READY
                    and ((wait := t.wait) is None or wait.timeout or wait.is_ready())
                ]
            if not enabled:
                # Nobody can run. Finished threads are done; daemon threads left waiting end
                # with the program, as a real process exits when only daemons are left. Any
                # other unfinished thread is stuck: the detectors explain why (a cycle of
                # lock waits, or a wait nobody will end).
                unfinished = [t for t in threads if t.state != DONE]
                if unfinished and not all(t.daemon for t in unfinished):
                    self._note_pending(None)
                    self._stuck(unfinished)
                    return True
                self._note_pending(None)
                return False
            if self._daemons and all(t.daemon or t.state == DONE for t in threads):
                self._note_pending(None)
                return False  # only daemon threads are left: the program would exit here
            index = len(choices)
            if index < fast:
                if enabled is not listed:
                    listed, tids = enabled, tuple([t.tid for t in enabled])
                signature = seen[index]
                if tids == was_enabled[index]:
                    thread = threads[signature[0]]
                    pending = thread.pending
                    assert pending is not None
                    op = pending if pending.resolve is None else pending.resolve(self, thread)
                if tids != was_enabled[index] or step_signature(thread, op) != signature:
                    fast = 0  # not the last execution's step: the chooser decides (or raises)
            if index >= fast:
                thread = choose(self, enabled)
                pending = thread.pending
                assert pending is not None
                # An operation whose outcome depends on the state (a try-acquire that finds
                # the lock held, a timed wait that times out) is recorded as what it does now:
                # nothing runs between this choice and the step, so the primitive's own code
                # will see the same state when the thread resumes.
                op = pending if pending.resolve is None else pending.resolve(self, thread)
            last = self.last
            if thread is not last:
                # A switch away from a thread that could have gone on is a preemption (the
                # bounded searches count them); a choice other than the default policy's
                # (keep the last thread if it can run, else the lowest runnable one) must be
                # written into the schedule ID, everything after the last such choice need not.
                could_continue = last is not None and last in enabled
                if could_continue:
                    self.preemptions += 1
                if thread is not enabled[0] or could_continue:
                    self._last_preference = index + 1
            choices.append(thread.tid)
            ops.append(op)
            locations.append(thread.location)
            if memo is not None and index >= fast:  # (a fast step repeats the last one's)
                signature = step_signature(thread, op)
                if enabled is not listed:
                    listed, tids = enabled, tuple([t.tid for t in enabled])
                if repeating and index < len(seen) and seen[index] == signature:
                    was_enabled[index] = tids  # (the same step; its enabled threads, now)
                else:
                    if repeating:
                        repeating = False
                        memo.rewind(index)
                    seen.append(signature)
                    was_enabled.append(tids)
                    for hook in carried:
                        hook(index, thread, op)
            for hook in on_step:
                hook(index, thread, op)
            thread.steps = steps = thread.steps + 1
            if steps > check_at and steps > (check_at := next_check(deadline, max_steps, steps)):
                # A thread over max_steps is almost always a spin loop waiting for a value
                # only another thread changes: with no blocking call it never gives way, so
                # the execution ends here with a finding instead of running for ever.
                self._findings.append(step_limit_finding(thread.name, max_steps, index))
                self._note_pending(thread)
                return False
            self.last = thread
            # Run the thread up to its next yield point. It switches back from there, or sends
            # ENDED when its function has returned (a greenlet that died instead, from an
            # exception that is not an Exception, has already raised it here).
            self.current = thread
            glet = thread.glet
            assert glet is not None
            waited = thread.wait is not None
            if glet.switch() is ENDED or glet.dead:
                self._ended(thread)
                enabled = None
            self.current = None
            if waited:
                waiters -= 1
            if thread.wait is not None:
                waiters += 1
            # Threads the step started (spawn, Thread.start) are new, appended to the list:
            # they run to their first yield point now, so they are choosable at the next step.
            if len(threads) != started:
                enabled = None
                for new in threads:
                    if new.state == NEW:
                        self._start(new)
                        if new.wait is not None:
                            waiters += 1
                started = len(threads)

    def _note_pending(self, stopped: SimThread | None) -> None:
        # Called wherever the loop ends. A carried observer may have seen steps of the last
        # execution beyond this one's end (it repeated them all): they are undone here.
        if self._memo is not None:
            self._memo.rewind(len(self.choices))
            self._memo.token = getattr(self.chooser, "token", None)
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
        idle = idle_greenlets()
        if idle:
            glet = idle.pop()
            glet.parent = hub
        else:
            glet = greenlet.greenlet(serve, parent=hub)
        thread.glet = glet
        thread.state = READY
        self.current = thread
        # A fresh greenlet starts serve(self, thread); an idle one resumes in serve's loop.
        if glet.switch(self, thread) is ENDED or glet.dead:
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
        except Unwind:
            pass
        finally:
            thread.ended = True

    def _call_thread(self, thread: SimThread) -> None:
        try:
            thread.result = thread.fn(*thread.args)
        except Unwind:
            raise
        except Exception as exc:
            if self.unwinding:
                return  # an error while unwinding a stuck run is noise, not a finding
            thread.error = exc
            step = len(self.choices) - 1 if self.choices else None
            self._findings.append(crash_finding(thread.name, exc, step))

    def _stuck(self, blocked: list[SimThread]) -> None:
        self._blocked = {t.tid for t in blocked if t.wait is not None}
        findings: list[Finding] = []
        for observer in self.observers:
            findings.extend(observer.on_stuck(self, blocked))
        self._findings.extend(findings)

    def _finish(self, stuck: bool) -> None:
        for on_finish in self._on_finish:
            self._findings.extend(on_finish(self))
        program = self.program
        assert program is not None
        completed = not stuck and not any(isinstance(f, StepLimit) for f in self._findings)
        try:
            if completed and program.check is not None:
                self._run_check(program.check)
        finally:
            if program.teardown is not None:
                self._run_teardown(program.teardown)

    def _run_check(self, check: Callable[[], object]) -> None:
        finding = check_finding(check)
        if finding is not None:
            self._findings.append(finding)

    def _run_teardown(self, teardown: Callable[[], object]) -> None:
        finding = teardown_finding(teardown)
        if finding is not None:
            self._findings.append(finding)

    def _trace(self) -> Trace:
        # Called by RunOutcome.trace after the run, if at all: nothing it reads changes then.
        options = self.program.options if self.program is not None else DEFAULT_OPTIONS
        if options.max_steps != self.max_steps:
            options = replace(options, max_steps=self.max_steps)
        return record_trace(
            self.threads,
            self._blocked,
            self.choices,
            self.ops,
            self.locations,
            recorded=self._last_preference,
            options=options,
            preemptions=self.preemptions,
        )

    # ------------------------------------------------------------------ choosing helpers
    def default_choice(self, enabled: list[SimThread]) -> SimThread:
        """The default policy: keep running the last thread, else the lowest runnable one."""
        last = self.last
        if last is not None and last in enabled:
            return last
        return enabled[0]
