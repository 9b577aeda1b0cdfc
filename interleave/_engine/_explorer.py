"""The explorer: runs executions under a strategy until exhausted, out of budget or stopped."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from .._core._findings import Finding
from .._core._observer import Observer
from .._core._runtime import Program, RunOutcome, Runtime
from ._minimise import minimise
from ._strategies import Strategy

__all__ = ["Exploration", "Statistics", "explore_program"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Statistics:
    """Counts and times of an exploration.

    Attributes:
        executions: executions run, including redundant ones and those spent minimising.
        steps: scheduling steps taken over all executions.
        max_depth: the most steps in one execution.
        pruned: executions that turned out redundant (sleep-set blocked under DPOR: they
            were equivalent to an explored one); 0 for plain DFS.
        threads: the most threads in one execution.
        phases: seconds per phase, e.g. ``{"explore": 1.2}``.
    """

    executions: int = 0
    steps: int = 0
    max_depth: int = 0
    pruned: int = 0
    threads: int = 0
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Exploration:
    """The raw result of an exploration (the public ``ExploreResult`` wraps it)."""

    findings: tuple[Finding, ...]
    occurrences: tuple[int, ...]
    schedules_run: int
    exhausted: bool
    stopped_because: str
    elapsed: float
    statistics: Statistics
    scenario_name: str | None = None


Progress = Callable[[int, int, float], None]
ExecutionContext = Callable[[Runtime], AbstractContextManager[object]]


def explore_program(
    build: Callable[[], Program],
    strategy: Strategy,
    *,
    max_schedules: int,
    max_steps: int,
    timeout: float | None,
    stop_on_first: bool,
    detectors: Callable[[], Sequence[Observer]],
    progress: Progress | None = None,
    contexts: Sequence[ExecutionContext] = (),
    minimise_budget: int = 0,
    interrupted: Callable[[], bool] = lambda: False,
) -> Exploration:
    """Run executions of ``build`` as ``strategy`` directs; collect distinct findings.

    With ``minimise_budget`` > 0, each distinct finding is then replaced by the simplest
    schedule that shows it (see ``_minimise``), spending at most that many executions each.

    Ctrl-C ends the exploration with ``stopped_because == "interrupted"`` and the findings of
    the executions that completed before it: a ``KeyboardInterrupt`` raised inside an execution
    aborts it (its runtime cleans up as after any error), and ``interrupted()`` (a SIGINT
    arrived, whether it was raised, held back or swallowed by the scenario's code) is asked
    before and after each execution. The execution the interrupt arrived in is dropped. The
    caller raises the interrupt again, with the result.
    """
    start = time.perf_counter()
    deadline = None if timeout is None else time.monotonic() + timeout
    found: dict[tuple[object, ...], int] = {}
    findings: list[Finding] = []
    counts: list[int] = []
    runs = steps = max_depth = executions = pruned = max_threads = 0
    name: str | None = None
    stopped = "exhausted"
    exhausted = False
    next_progress = 1.0
    try:
        while True:
            if interrupted():
                stopped = "interrupted"
                break
            chooser = strategy.next_chooser()
            if chooser is None:
                # Out of schedules: a proof unless a preemption bound cut some of them.
                exhausted = not strategy.cut
                stopped = "exhausted" if exhausted else "preemption-bound"
                break
            if executions >= max_schedules:
                stopped = "max_schedules"
                break
            if deadline is not None and time.monotonic() >= deadline:
                stopped = "timeout"
                break
            runtime = Runtime(
                build, chooser, observers=detectors(), max_steps=max_steps, contexts=contexts
            )
            outcome: RunOutcome = runtime.run()
            if interrupted():
                # The execution a SIGINT arrived in is dropped like one it aborted: the
                # scenario's code may have swallowed the KeyboardInterrupt and gone on wrongly.
                stopped = "interrupted"
                break
            strategy.record(runtime, outcome)
            executions += 1
            if strategy.is_redundant():
                pruned += 1
            else:
                runs += 1
            depth = len(outcome.trace)
            max_threads = max(max_threads, len(outcome.trace.thread_names))
            steps += depth
            max_depth = max(max_depth, depth)
            for finding in outcome.findings:
                key = (finding.kind, *finding.signature)
                index = found.get(key)
                if index is None:
                    found[key] = len(findings)
                    findings.append(finding)
                    counts.append(1)
                else:
                    counts[index] += 1
            if name is None and runtime.program is not None:
                name = runtime.program.name
            if any(f.kind == "step-limit" for f in outcome.findings):
                # A thread that never stops (a spin loop) makes every other schedule as long as
                # max_steps and the space practically unbounded: report it now, not in hours.
                stopped = "step-limit"
                break
            if stop_on_first and findings:
                if strategy.next_chooser() is None:  # that was the last schedule anyway
                    exhausted = not strategy.cut
                    stopped = "exhausted" if exhausted else "preemption-bound"
                else:
                    stopped = "first-finding"
                break
            if progress is not None:
                elapsed = time.perf_counter() - start
                if elapsed >= next_progress:
                    progress(runs, len(findings), elapsed)
                    next_progress = elapsed + 0.5
    except KeyboardInterrupt:
        # The execution it interrupted is dropped: its findings would describe a run that
        # never finished (a check() on half-done threads, a thread cut off mid-statement).
        stopped = "interrupted"
    explore_time = time.perf_counter() - start
    minimise_time = 0.0
    if minimise_budget > 0 and findings and stopped not in ("timeout", "interrupted"):
        t0 = time.perf_counter()
        try:
            minimised, spent = minimise(
                build,
                findings,
                detectors=detectors,
                contexts=contexts,
                max_steps=max_steps,
                budget=minimise_budget,
            )
            executions += spent
        except KeyboardInterrupt:
            stopped = "interrupted"
        else:
            if interrupted():
                stopped = "interrupted"
            else:
                findings = minimised
        # Interrupted: the findings as found (each replays), not half-minimised ones.
        minimise_time = time.perf_counter() - t0
    elapsed = time.perf_counter() - start
    phases = {"explore": explore_time}
    if minimise_time:
        phases["minimise"] = minimise_time
    if stopped == "interrupted":
        exhausted = False
    # An interrupt raised between the two appends (only when nothing held it back) leaves a
    # finding without its count: it was seen once.
    counts.extend([1] * (len(findings) - len(counts)))
    return Exploration(
        findings=tuple(findings),
        occurrences=tuple(counts),
        schedules_run=runs,
        exhausted=exhausted,
        stopped_because=stopped,
        elapsed=elapsed,
        statistics=Statistics(
            executions=executions,
            steps=steps,
            max_depth=max_depth,
            pruned=pruned,
            threads=max_threads,
            phases=phases,
        ),
        scenario_name=name,
    )
