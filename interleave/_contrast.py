"""What changed: for a failing schedule, the closest schedule that passes.

"Closest" is the passing schedule that follows the failing one for the most steps: it makes
the same choices up to some step ``k``, runs another thread at step ``k``, and then goes on
without preemption (the default policy: keep running the same thread). Every candidate thus
differs from the failing schedule in one choice, and the search tries the latest step first,
so the first one that passes shares the longest prefix. Its step ``k`` is where the runs part:
"runs agree for 3 steps; at step 3 the passing run lets worker#1 run set shared 'hits' before
worker#2 runs get shared 'hits'". It answers the question a reader of a report asks next: what
would have had to happen instead?

The search runs executions, so it runs with the exploration (``_api``, counted in its minimise
phase), on a budget, and the reports render what it found (``ExploreResult.closest_passing``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._core._findings import Finding
from ._core._observer import Observer
from ._core._program import Program
from ._core._threads import SimThread
from ._core._trace import Step
from ._core._views import StepView
from ._engine._exploration import Exploration, Phase, Statistics
from ._engine._run import ExecutionContext, run_once
from ._engine._settings import ExitReason, ExploreSettings

__all__ = ["ClosestPass", "closest_passes", "closest_passing_phase"]

#: Executions the search may spend per failing schedule, at most.
BUDGET = 200
#: Explorations that ended this way get no search, as they get no minimising: a timeout or
#: Ctrl-C asked for the end, and a failure reproduced from the database was explained before.
_SKIP = (ExitReason.INTERRUPTED, ExitReason.TIMEOUT, ExitReason.REPRODUCED)
#: Findings with no closest passing schedule to search for: a step limit, and a data race,
#: which shows in every schedule where both accesses run (the search runs without the race
#: detector, so "passing" means: no finding that depends on the order of the steps).
_UNSEARCHED = frozenset({"step-limit", "data-race"})
#: Longer failing executions are not searched (a step limit, a long loop): each candidate
#: would be as long, and the first step where two such runs part says little.
MAX_STEPS = 2_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosestPass:
    """The passing schedule closest to a finding's failing one, and where the two part.

    Attributes:
        schedule_id: replays the passing execution (``interleave.replay(factory, ID)``).
        agree_steps: how many steps both runs take alike (the index of the first that
            differs).
        passing: the step the passing run takes there.
        failing: the step the failing run takes there.

    Example::

        result = interleave.explore(lost_update)
        closest = result.closest_passing[0]
        print(closest.sentence())
        # runs agree for 1 step; at step 1 the passing run lets worker#1 run set shared
        # 'hits' (hits.py:7) before worker#2 runs get shared 'hits' (hits.py:7)
    """

    schedule_id: str
    agree_steps: int
    passing: Step
    failing: Step

    def sentence(self) -> str:
        """Where the runs part, in words."""
        k = self.agree_steps
        agree = f"runs agree for {k} step{'' if k == 1 else 's'}"
        return (
            f"{agree}; at step {k} the passing run lets {self.passing.thread_name} run "
            f"{_what(self.passing)} before {self.failing.thread_name} runs {_what(self.failing)}"
        )


def _what(step: Step) -> str:
    where = f" ({step.location})" if step.location is not None else ""
    return f"{step.op.describe()}{where}"


class _Recorder:
    """Follows a schedule and records which threads could run at each step."""

    def __init__(self, choices: Sequence[int]) -> None:
        self.choices = choices
        self.enabled: list[tuple[int, ...]] = []
        self.diverged = False

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        index = view.step_count
        self.enabled.append(tuple(t.tid for t in enabled))
        if index < len(self.choices):
            for thread in enabled:
                if thread.tid == self.choices[index]:
                    return thread
            self.diverged = True  # not deterministic: give up rather than mislead
        return view.default_choice(enabled)


class _Deviate:
    """Follows ``prefix``, runs thread ``other`` next, then keeps to the default policy."""

    def __init__(self, prefix: Sequence[int], other: int) -> None:
        self.prefix = prefix
        self.other = other
        self.diverged = False

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        index = view.step_count
        want = (
            self.prefix[index]
            if index < len(self.prefix)
            else self.other
            if index == len(self.prefix)
            else None
        )
        if want is not None:
            for thread in enabled:
                if thread.tid == want:
                    return thread
            self.diverged = True
        return view.default_choice(enabled)


def closest_passes(
    build: Callable[[], Program],
    findings: Sequence[Finding],
    *,
    detectors: Callable[[], Sequence[Observer]],
    contexts: Sequence[ExecutionContext],
    max_steps: int,
    budget: int = BUDGET,
    interrupted: Callable[[], bool] = lambda: False,
) -> tuple[tuple[ClosestPass | None, ...], int]:
    """For each finding, the closest passing schedule (None when none was found within the
    budget, or the finding has no trace or one too long to search); and the executions run.

    Findings of the same execution share one search.
    """
    found: dict[str, ClosestPass | None] = {}
    spent = 0

    def run(chooser: _Recorder | _Deviate) -> tuple[Sequence[Finding], str, Step | None]:
        nonlocal spent
        spent += 1
        _, outcome = run_once(
            build, chooser, observers=detectors(), max_steps=max_steps, contexts=contexts
        )
        trace = outcome.trace
        step = trace.step(len(chooser.prefix)) if isinstance(chooser, _Deviate) else None
        return outcome.findings, trace.schedule_id, step

    for finding in findings:
        trace = finding.trace
        key = finding.schedule_id
        if key in found or trace is None:
            continue
        found[key] = None
        if finding.kind in _UNSEARCHED or not 0 < len(trace) <= MAX_STEPS:
            continue
        choices = trace.choices
        recorder = _Recorder(choices)
        run(recorder)
        if recorder.diverged:
            continue
        limit = spent + budget
        for k in range(len(choices) - 1, -1, -1):
            if found[key] is not None or spent >= limit or interrupted():
                break
            for other in recorder.enabled[k]:
                if other == choices[k] or spent >= limit or interrupted():
                    continue
                deviate = _Deviate(choices[:k], other)
                failures, schedule_id, step = run(deviate)
                if deviate.diverged or failures or step is None:
                    continue
                found[key] = ClosestPass(
                    schedule_id=schedule_id,
                    agree_steps=k,
                    passing=step,
                    failing=trace.step(k),
                )
                break
    return tuple(
        None if f.kind in _UNSEARCHED else found.get(f.schedule_id) for f in findings
    ), spent


def closest_passing_phase(
    raw: Exploration,
    settings: ExploreSettings,
    *,
    build: Callable[[], Program],
    detectors: Callable[[], Sequence[Observer]],
    contexts: Sequence[ExecutionContext],
    interrupted: Callable[[], bool],
) -> tuple[tuple[ClosestPass | None, ...], Statistics, bool]:
    """The search after an exploration: ``(closest_passing, statistics, cut)``.

    It belongs to the minimise phase (after the search, for the report): it runs only when
    that phase does (``settings.minimise``, an exploration that was not stopped by a timeout,
    Ctrl-C or a reproduced failure), and its executions and seconds are counted in it, so
    ``statistics.executions`` still counts every execution (``teardown()`` ran once for each).
    ``cut`` says that Ctrl-C stopped it.
    """
    if not raw.findings or not settings.minimise or raw.stopped_because in _SKIP or interrupted():
        return (), raw.statistics, False
    start = time.perf_counter()
    try:
        closest, spent = closest_passes(
            build,
            raw.findings,
            detectors=detectors,
            contexts=contexts,
            max_steps=settings.max_steps,
            budget=min(settings.max_schedules, BUDGET),
            interrupted=interrupted,
        )
    except KeyboardInterrupt:
        return (), raw.statistics, True
    stats = raw.statistics
    phase = Phase.MINIMISE
    counted = dataclasses.replace(
        stats,
        executions=stats.executions + spent,
        phases={**stats.phases, phase: stats.phases.get(phase, 0.0) + time.perf_counter() - start},
        phase_executions={
            **stats.phase_executions,
            phase: stats.phase_executions.get(phase, 0) + spent,
        },
    )
    return closest, counted, False
