"""The explorer: one exploration, in phases, until covered, out of budget or stopped.

An exploration runs three phases, each counted on its own (``Statistics.phases``):

``reuse``
    With a schedule database, the IDs saved under the exploration's key by earlier runs are
    replayed first. One that still fails is a finding at once, and the exploration stops there
    (``ExitReason.REPRODUCED``): a known failure needs no new search. One that no longer
    fails, or no longer replays (the scenario changed), is deleted.
``explore``
    The strategy hands out one chooser per execution and learns from each outcome, until it
    has none left (covered), or a budget, the first finding, a step limit or Ctrl-C stops it.
    Findings are kept once per origin (``Finding.origin``), the first found, with a count.
``minimise``
    Each finding is replaced by the simplest schedule that shows it (``_minimise``), and the
    IDs are saved to the database.

Errors: exceptions of the scenario (a factory that raises, a replay that diverges) propagate
as they are; an unexpected exception from the engine's own code (a strategy) is wrapped in
``InternalError`` ("a bug in interleave, please report it"). Ctrl-C ends the exploration with
``ExitReason.INTERRUPTED`` and the findings of the executions that completed before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from .._core._findings import Finding, StepLimit
from .._core._memo import StepMemo
from .._core._native import caused, mypyc_attr
from .._core._observer import Observer
from .._core._program import Chooser, Program, RunOutcome
from .._core._replay import ScheduleChooser
from .._core._runtime import DeadlineReached, Runtime
from .._core._schedule import decode
from ..errors import InterleaveError, InternalError, InvalidScheduleId, ScheduleDivergence
from ._database import ScheduleDatabase
from ._exploration import Exploration, Phase, Reused, Statistics
from ._minimise import minimise
from ._run import ExecutionContext, run_once
from ._settings import ExitReason, ExploreSettings
from ._strategies import Strategy

__all__ = ["explore_program"]

Progress = Callable[[int, int, float], None]

#: Executions the minimiser may spend per finding, at most (and at most ``max_schedules``).
MINIMISE_BUDGET = 2_000


@mypyc_attr(allow_interpreted_subclasses=True)
class _Exploring:
    """The state of one exploration across its phases."""

    def __init__(
        self,
        build: Callable[[], Program],
        settings: ExploreSettings,
        detectors: Callable[[], Sequence[Observer]],
        contexts: Sequence[ExecutionContext],
        interrupted: Callable[[], bool],
    ) -> None:
        self.build = build
        self.settings = settings
        self.detectors = detectors
        self.contexts = contexts
        self.interrupted = interrupted
        self.start = time.perf_counter()
        timeout = settings.timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.by_origin: dict[tuple[object, ...], int] = {}
        # The finding kept for each origin (what detectors may hand back, see run()).
        self.known: dict[tuple[object, ...], Finding] = {}
        self.findings: list[Finding] = []
        self.counts: list[int] = []
        self.runs = self.steps = self.max_depth = self.pruned = self.threads = 0
        self.executions: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.name: str | None = None
        self.reused: list[Reused] = []
        self.stopped = ExitReason.EXHAUSTED
        self.exhausted = False
        self.tasks = self.retried = 0
        self.uncounted = 0  # parallel tasks whose re-runs by the executor are unknown
        # The explore phase's detectors, carried from one execution to the next (None: not
        # made yet, or dropped after an execution that was cut short); ``carry`` is False
        # when they cannot be carried (see StepMemo.of).
        self.memo: StepMemo | None = None
        self.carry = True

    def run(self, chooser: Chooser, *, counting: bool = False) -> tuple[Runtime, RunOutcome]:
        """One execution. ``counting``: its findings of an origin already kept are only
        counted (the explore phase), so detectors may hand back the kept finding instead of
        building an equal one (most executions of a buggy scenario show the same bugs), and
        the detectors are carried from the previous execution: they only watch the steps
        that differ from its steps (see ``_core/_memo.py``)."""
        memo = None
        if counting and self.carry:
            memo = self.memo
            if memo is None:
                memo = self.memo = StepMemo.of(self.detectors())
                self.carry = memo is not None
        try:
            return run_once(
                self.build,
                chooser,
                observers=() if memo is not None else self.detectors(),
                max_steps=self.settings.max_steps,
                contexts=self.contexts,
                deadline=self.deadline,
                known=self.known if counting else None,
                memo=memo,
            )
        except BaseException:
            # Cut short (a timeout, a divergence, Ctrl-C): the detectors may have stopped in
            # the middle of a step; the next execution starts with fresh ones.
            if memo is not None:
                self.memo = None
            raise

    def keep(self, outcome: RunOutcome) -> None:
        """Count the outcome's findings, keeping the first of each origin (only it gets its
        schedule ID and trace)."""
        for finding in outcome.raw_findings:
            origin = finding.origin
            index = self.by_origin.get(origin)
            if index is None:
                self.by_origin[origin] = len(self.findings)
                kept = outcome.finalise(finding)
                self.findings.append(kept)
                self.known[origin] = kept
                self.counts.append(1)
            else:
                self.counts[index] += 1

    # ------------------------------------------------------------------ phases
    def reuse(self, database: ScheduleDatabase, key: str) -> None:
        """Replay the IDs saved under ``key``; stop at once when one still fails."""
        ran = 0
        for schedule_id in database.fetch(key):
            try:
                chooser = ScheduleChooser(decode(schedule_id))
            except InvalidScheduleId:
                database.delete(key, schedule_id)
                self.reused.append(Reused(schedule_id, "stale"))
                continue
            try:
                runtime, outcome = self.run(chooser)
                ran += 1
                chooser.check_complete(runtime)
                if self.name is None and runtime.program is not None:
                    self.name = runtime.program.name  # (a reproduced run explores nothing)
            except ScheduleDivergence:
                database.delete(key, schedule_id)  # the scenario changed: it cannot replay
                self.reused.append(Reused(schedule_id, "stale"))
                continue
            if outcome.raw_findings:
                self.keep(outcome)
                self.reused.append(Reused(schedule_id, "reproduced"))
            else:
                database.delete(key, schedule_id)  # fixed
                self.reused.append(Reused(schedule_id, "fixed"))
        self.executions[Phase.REUSE] = ran
        if self.findings:
            self.stopped = ExitReason.REPRODUCED

    def explore(self, strategy: Strategy, progress: Progress | None) -> None:
        """Run the strategy's executions until it has none left or something stops it."""
        settings = self.settings
        max_schedules, stop_on_first = settings.max_schedules, settings.stop_on_first
        deadline = self.deadline
        executions = 0
        next_progress = 1.0
        try:
            while True:
                if self.interrupted():
                    self.stopped = ExitReason.INTERRUPTED
                    break
                chooser = _engine_call(strategy.next_chooser)
                if chooser is None:
                    # Out of schedules: a proof unless a preemption bound cut some of them.
                    self._covered(strategy)
                    break
                if executions >= max_schedules:
                    self.stopped = ExitReason.MAX_SCHEDULES
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    self.stopped = ExitReason.TIMEOUT
                    break
                try:
                    runtime, outcome = self.run(chooser, counting=True)  # type: ignore[arg-type]
                except DeadlineReached:
                    # The timeout passed inside a long execution: it is dropped unfinished (a
                    # cut execution cannot be replayed); the findings so far are kept.
                    self.stopped = ExitReason.TIMEOUT
                    break
                if self.interrupted():
                    # The execution a SIGINT arrived in is dropped like one it aborted: the
                    # scenario's code may have swallowed the KeyboardInterrupt and gone on.
                    self.stopped = ExitReason.INTERRUPTED
                    break
                _engine_call(strategy.record, outcome)
                executions += 1
                if strategy.last_was_pruned():
                    self.pruned += 1
                else:
                    self.runs += 1
                depth = outcome.steps  # not len(outcome.trace): the trace is built lazily
                self.threads = max(self.threads, outcome.threads)
                self.steps += depth
                self.max_depth = max(self.max_depth, depth)
                if outcome.raw_findings:
                    self.keep(outcome)
                    if any(isinstance(f, StepLimit) for f in outcome.raw_findings):
                        # A thread that never stops (a spin loop) makes every other schedule
                        # max_steps long and the space practically unbounded: report it now.
                        self.stopped = ExitReason.STEP_LIMIT
                        break
                    if stop_on_first:
                        if _engine_call(strategy.next_chooser) is None:
                            self._covered(strategy)  # that was the last schedule anyway
                        else:
                            self.stopped = ExitReason.FIRST_FINDING
                        break
                if self.name is None and runtime.program is not None:
                    self.name = runtime.program.name
                if progress is not None:
                    elapsed = time.perf_counter() - self.start
                    if elapsed >= next_progress:
                        progress(self.runs, len(self.findings), elapsed)
                        next_progress = elapsed + 0.5
        except KeyboardInterrupt:
            # The execution it interrupted is dropped: its findings would describe a run that
            # never finished (a check() on half-done threads, a thread cut off mid-statement).
            self.stopped = ExitReason.INTERRUPTED
        # An interrupt raised between two appends leaves a finding without its count.
        self.counts.extend([1] * (len(self.findings) - len(self.counts)))
        self.executions[Phase.EXPLORE] = executions

    def _covered(self, strategy: Strategy) -> None:
        self.exhausted = not strategy.cut
        if self.exhausted:
            self.stopped = ExitReason.EXHAUSTED
        elif strategy.exact_bound:
            self.stopped = ExitReason.PREEMPTION_BOUND  # every schedule within the bound ran
        else:
            self.stopped = ExitReason.PREEMPTION_BOUND_PARTIAL  # dpor only pruned at it

    def minimise(self) -> None:
        """Replace each finding by its simplest schedule (not after a timeout or Ctrl-C)."""
        settings = self.settings
        if not (settings.minimise and self.findings):
            return
        if self.stopped in (ExitReason.TIMEOUT, ExitReason.INTERRUPTED, ExitReason.REPRODUCED):
            return
        try:
            simpler, spent = minimise(
                self.build,
                self.findings,
                detectors=self.detectors,
                contexts=self.contexts,
                max_steps=settings.max_steps,
                budget=min(settings.max_schedules, MINIMISE_BUDGET),
            )
        except KeyboardInterrupt:
            self.stopped = ExitReason.INTERRUPTED
            return
        self.executions[Phase.MINIMISE] = spent
        if self.interrupted():
            # Interrupted: the findings as found (each replays), not half-minimised ones.
            self.stopped = ExitReason.INTERRUPTED
        else:
            self.findings = simpler

    def timed(self, phase: Phase, step: Callable[[], None]) -> None:
        start = time.perf_counter()
        try:
            step()
        finally:
            if phase in self.executions:
                self.seconds[phase] = time.perf_counter() - start

    def result(self) -> Exploration:
        if self.stopped is ExitReason.INTERRUPTED:
            self.exhausted = False
        return Exploration(
            findings=tuple(self.findings),
            occurrences=tuple(self.counts),
            schedules_run=self.runs,
            exhausted=self.exhausted,
            stopped_because=self.stopped,
            elapsed=time.perf_counter() - self.start,
            statistics=Statistics(
                executions=sum(self.executions.values()),
                steps=self.steps,
                max_depth=self.max_depth,
                pruned=self.pruned,
                threads=self.threads,
                phases=dict(self.seconds),
                phase_executions=dict(self.executions),
                tasks=self.tasks,
                retried=self.retried,
            ),
            scenario_name=self.name,
            reused=tuple(self.reused),
        )


def _engine_call(fn: Callable[..., object], *args: object) -> object:
    """Call the engine's own code; an unexpected exception there is a bug in interleave."""
    try:
        return fn(*args)
    except (InterleaveError, KeyboardInterrupt):
        raise
    except Exception as exc:
        error = InternalError(
            "internal error in interleave, please report it (with the scenario if you can)"
        )
        raise caused(error, exc) from exc


def explore_program(
    build: Callable[[], Program],
    strategy: Strategy,
    settings: ExploreSettings,
    *,
    detectors: Callable[[], Sequence[Observer]],
    contexts: Sequence[ExecutionContext] = (),
    progress: Progress | None = None,
    interrupted: Callable[[], bool] = lambda: False,
    database: ScheduleDatabase | None = None,
    key: str | None = None,
    parallel: Callable[[_Exploring], None] | None = None,
) -> Exploration:
    """Explore ``build`` as ``strategy`` directs, within ``settings``: the three phases.

    ``interrupted()`` says whether a SIGINT arrived (raised, held back, or swallowed by the
    scenario); it is asked before and after each execution. The caller raises the interrupt
    again, with the result. ``parallel``, when given, runs the explore phase instead of
    ``strategy`` (``_parallel.explore_parallel`` on workers).
    """
    state = _Exploring(build, settings, detectors, contexts, interrupted)
    if database is not None and key is not None:
        state.timed(Phase.REUSE, lambda: state.reuse(database, key))
    if state.stopped is not ExitReason.REPRODUCED:
        if parallel is not None:
            state.timed(Phase.EXPLORE, lambda: parallel(state))
        else:
            state.timed(Phase.EXPLORE, lambda: state.explore(strategy, progress))
    state.timed(Phase.MINIMISE, state.minimise)
    if database is not None and key is not None and state.stopped is not ExitReason.INTERRUPTED:
        for finding in state.findings:
            if finding.schedule_id:
                database.save(key, finding.schedule_id)
    return state.result()
