"""Minimal failing schedules: the same finding with the fewest preemptions, then fewest steps.

A finding found deep in an exhaustive search often comes with a needlessly busy schedule.
For each distinct finding the minimiser runs preemption-bounded DFS with bound 0, 1, 2 …
(CHESS's observation: most bugs need very few preemptions) and keeps, at the first bound that
shows the same finding (same kind and signature), the execution with the fewest steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .._core._findings import Finding
from .._core._observer import Observer
from .._core._program import Program
from ._run import ExecutionContext, run_once
from ._strategies import DfsStrategy

__all__ = ["minimise"]

#: The highest preemption bound tried; beyond it the original schedule is kept.
MAX_BOUND = 3
#: Once every open finding matched at a bound, look this many executions further for
#: shorter ones.
_LOOK_FURTHER = 50


def minimise(
    build: Callable[[], Program],
    findings: Sequence[Finding],
    *,
    detectors: Callable[[], Sequence[Observer]],
    contexts: Sequence[ExecutionContext],
    max_steps: int,
    budget: int,
) -> tuple[list[Finding], int]:
    """Return each finding's simplest schedule (or the finding itself), in the same order, and
    the number of executions spent (at most ``budget`` per finding).

    One bounded search per bound serves every finding still open at that bound: findings of
    the same execution (a lost update and the check it breaks) share the work.
    """
    keys = [f.origin for f in findings]
    result = list(findings)
    original = {
        k: (f.trace.preemptions() if f.trace is not None else MAX_BOUND + 1)
        for k, f in zip(keys, findings, strict=True)
    }
    # A finding without any preemption is already as simple as it gets.
    open_ = {k: i for i, k in enumerate(keys) if original[k] > 0}
    total = budget * len(findings)
    spent = 0
    for bound in range(MAX_BOUND + 1):
        wanted = {k for k in open_ if original[k] >= bound}
        if not wanted or spent >= total:
            break
        strategy = DfsStrategy(preemption_bound=bound)
        best: dict[tuple[object, ...], Finding] = {}
        since_all = 0
        while spent < total:
            chooser = strategy.next_chooser()
            if chooser is None:
                break
            _, outcome = run_once(
                build, chooser, observers=detectors(), max_steps=max_steps, contexts=contexts
            )
            strategy.record(outcome)
            spent += 1
            for raw in outcome.raw_findings:
                key = raw.origin
                if key in wanted and (key not in best or len(outcome.trace) < _steps(best[key])):
                    best[key] = outcome.finalise(raw)
            if len(best) == len(wanted):
                since_all += 1
                if since_all > _LOOK_FURTHER:
                    break
        for key, simpler in best.items():
            index = open_.pop(key)
            if bound < original[key] or _steps(simpler) < _steps(findings[index]):
                result[index] = simpler
            # else: as few preemptions as the original, and not shorter: keep the original
    return result, spent


def _steps(finding: Finding) -> int:
    return len(finding.trace) if finding.trace is not None else 1 << 30
