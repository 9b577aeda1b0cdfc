"""Minimal failing schedules: the same finding with the fewest preemptions, then fewest steps.

A finding found deep in an exhaustive search often comes with a needlessly busy schedule.
For each distinct finding the minimiser runs preemption-bounded DFS with bound 0, 1, 2 …
(CHESS's observation: most bugs need very few preemptions) and keeps, at the first bound that
shows the same finding (same kind and signature), the execution with the fewest steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from .._core._findings import Finding
from .._core._observer import Observer
from .._core._runtime import Program, Runtime
from ._strategies import DfsStrategy

__all__ = ["minimise"]

#: The highest preemption bound tried; beyond it the original schedule is kept.
MAX_BOUND = 3
#: After the first match at a bound, look this many executions further for a shorter one.
_LOOK_FURTHER = 50


def minimise(
    build: Callable[[], Program],
    finding: Finding,
    *,
    detectors: Callable[[], Sequence[Observer]],
    contexts: Sequence[Callable[[Runtime], AbstractContextManager[object]]],
    max_steps: int,
    budget: int,
) -> tuple[Finding, int]:
    """Return the simplest schedule showing ``finding`` (or the finding itself) and the
    number of executions spent."""
    key = (finding.kind, *finding.signature)
    original = finding.trace.preemptions() if finding.trace is not None else MAX_BOUND + 1
    spent = 0
    if original == 0:
        return finding, spent  # no preemption at all: already as simple as it gets
    for bound in range(min(original, MAX_BOUND) + 1):
        strategy = DfsStrategy(preemption_bound=bound)
        best: Finding | None = None
        since_best = 0
        while spent < budget:
            chooser = strategy.next_chooser()
            if chooser is None:
                break
            runtime = Runtime(
                build, chooser, observers=detectors(), max_steps=max_steps, contexts=contexts
            )
            outcome = runtime.run()
            strategy.record(runtime, outcome)
            spent += 1
            for candidate in outcome.findings:
                if (candidate.kind, *candidate.signature) != key:
                    continue
                if best is None or _steps(candidate) < _steps(best):
                    best = candidate
            if best is not None:
                since_best += 1
                if since_best > _LOOK_FURTHER:
                    break
        if best is not None:
            if bound == original and _steps(best) >= _steps(finding):
                return finding, spent  # as few preemptions as the original, not shorter
            return best, spent
        if spent >= budget:
            break
    return finding, spent


def _steps(finding: Finding) -> int:
    return len(finding.trace) if finding.trace is not None else 1 << 30
