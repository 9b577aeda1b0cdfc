"""The text report of an exploration or a replay.

A report has a summary table, then per finding: what happened, the interleaving diagram (one
column per thread, the resource and user-code line of each step), the lock-wait cycle for
deadlocks, what a passing run does differently, and copy-paste replay lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core._findings import (
    Deadlock,
    Finding,
    InvariantViolation,
    NotLinearizable,
    TeardownFailed,
    ThreadCrashed,
)
from ._common import indent, kinds, table, wrap
from ._history import render_history
from ._replay import ReplayContext, render_replay_lines
from ._trace import WIDTH, marks_of, render_trace, render_wait_cycle

if TYPE_CHECKING:
    from .._contrast import ClosestPass
    from .._results import ExploreResult, RunResult

__all__ = ["render_explore", "render_finding", "render_run"]


def seen_in(seen: int, result: ExploreResult) -> str:
    """How often a finding showed: among the schedules run, or in a saved schedule replayed
    before any new one ran (``stopped_because="reproduced"``)."""
    if result.schedules_run == 0:
        return "a saved failing schedule, replayed"
    return f"in {seen:,} of {result.schedules_run:,} schedules"


def _retried(times: int) -> str:
    return (
        f"{times:,} time(s) a task ran again because a worker died (a process pool that "
        "loses one runs all its tasks again; each task's executions are counted once)"
    )


def _rate(runs: int, seconds: float) -> str:
    if seconds <= 0 or runs == 0:  # (a run that only replayed saved schedules has no rate)
        return f"{seconds:.3f} s"
    return f"{seconds:.3f} s ({runs / seconds:,.0f} schedules/s)"


def schedules_run(result: ExploreResult) -> str:
    """The ``schedules run`` cell: with the saved schedules the reuse phase replayed first
    (a run that reproduced a saved failure explores nothing: ``0`` alone read as if nothing
    ran)."""
    text = f"{result.schedules_run:,}"
    replayed = result.statistics.phase_executions.get("reuse", 0)
    if replayed:
        text += f" (and {replayed:,} saved schedule(s) replayed first)"
    return text


def render_explore(
    result: ExploreResult,
    context: ReplayContext | None = None,
    *,
    width: int = WIDTH,
    how_to_prove: str | None = None,
) -> str:
    """The report of an exploration (``context``: the replay lines to print, see
    :class:`ReplayContext`; by default from the result's target). Tables fold to ``width``;
    ``how_to_prove`` replaces the advice of ``explore()`` results (for ``check_linearizable``)."""
    if context is None:
        context = ReplayContext.of(result)
    coverage = (
        f"exhausted: {result.stopped_text}"
        if result.exhausted
        else f"NOT exhausted: {result.stopped_text}"
    )
    summary = [
        ("scenario", result.scenario),
        ("strategy", result.strategy),
        ("schedules run", schedules_run(result)),
        ("coverage", coverage),
        ("verdict", str(result.verdict)),
        ("findings", kinds(result.findings)),
        ("elapsed", _rate(result.schedules_run, result.elapsed)),
    ]
    if result.statistics.retried:
        summary.append(("retried", _retried(result.statistics.retried)))
    verdict = (
        "no findings" + ("" if result.exhausted else " (but the search was not exhaustive)")
        if result.ok
        else f"{len(result.findings)} distinct finding(s)"
    )
    out = [f"interleave: {result.scenario}: {verdict}", table(summary)]
    if not result.exhausted and result.ok:
        out.append(f"This is not a proof: {how_to_prove or advice_for_proof(result)}.")
    total = len(result.findings)
    shown: dict[str, int] = {}
    for number, (finding, seen) in enumerate(
        zip(result.findings, result.occurrences, strict=True), 1
    ):
        out.append("")
        header = f"Finding {number} of {total}: {finding.kind} ({seen_in(seen, result)})"
        out.append(header)
        out.append("=" * len(header))
        first = shown.setdefault(finding.schedule_id, number)
        if first != number:
            # The same execution as an earlier finding: do not draw the diagram twice.
            out.append(wrap(finding.message, width))
            out.append(f"(same execution as finding {first}: schedule ID {finding.schedule_id})")
            out.extend(_teardown_traceback(finding))
            continue
        out.append(
            render_finding(
                finding, context=context, closest=result.closest_pass(number - 1), width=width
            )
        )
    return "\n".join(out)


def advice_for_proof(result: ExploreResult) -> str:
    """What to change for a clean result that is not a proof to become one."""
    special = getattr(result, "how_to_prove", None)
    if isinstance(special, str):
        # A result that knows better (check_linearizable's: a proof needs every scenario).
        return special
    from .._engine._settings import ExitReason, Verdict

    if result.verdict is Verdict.BOUNDED:
        return (
            "schedules beyond the preemption bound were not run; drop preemption_bound (or "
            "use preemption_bound='iterative') for a proof"
        )
    if result.verdict is Verdict.INTERRUPTED:
        return "the exploration was interrupted; let it run to its end for a proof"
    if result.stopped_because == ExitReason.PREEMPTION_BOUND_PARTIAL:
        return (
            "dpor pruned its search at the preemption bound; drop preemption_bound (or use "
            "preemption_bound='iterative') for a proof, or strategy='dfs' for every schedule "
            "within the bound"
        )
    if result.strategy.startswith(("random", "pct")):
        return (
            f"{result.strategy.split()[0]} samples schedules and never covers them all; use "
            "strategy='dpor' (or 'dfs') for a proof"
        )
    return "raise max_schedules (or the timeout) until the run says 'exhausted'"


def render_run(run: RunResult, *, width: int = WIDTH) -> str:
    """The report of one replayed execution."""
    head = (
        f"interleave: replay of {run.scenario} with {run.schedule_id}: "
        f"{len(run.trace)} steps, findings: {kinds(run.findings)}"
    )
    out = [head]
    if not run.findings:
        out.append(render_trace(run.trace, width=width))
    for finding in run.findings:
        out.append("")
        out.append(f"{finding.kind}")
        out.append("-" * len(finding.kind))
        out.append(render_finding(finding, replay_lines=False, width=width))
    return "\n".join(out)


def render_finding(
    finding: Finding,
    *,
    context: ReplayContext | None = None,
    replay_lines: bool = True,
    closest: ClosestPass | None = None,
    width: int = WIDTH,
) -> str:
    """One finding: message, diagram, cycle, traceback, what a passing run does differently
    (``closest``, see :class:`~interleave.ClosestPass`) and replay lines."""
    out = [wrap(finding.message, width)]
    if isinstance(finding, NotLinearizable):
        out.append("")
        out.append(render_history(finding))
    if finding.trace is not None:
        out.append(
            f"({len(finding.trace)} steps, {finding.trace.preemptions()} preemption(s) "
            "in this schedule)"
        )
    if isinstance(finding, Deadlock):
        out.append("")
        out.append(render_wait_cycle(finding, width=width))
    if finding.trace is not None and len(finding.trace):
        out.append("")
        out.append(render_trace(finding.trace, marks=marks_of(finding), width=width))
        blocked = [
            (name, outcome)
            for name, outcome in zip(
                finding.trace.thread_names, finding.trace.outcomes, strict=True
            )
            if outcome != "finished"
        ]
        if blocked:
            out.append("at the end: " + ", ".join(f"{name} {outcome}" for name, outcome in blocked))
    if isinstance(finding, ThreadCrashed) and finding.traceback:
        out.append("")
        out.append("traceback:")
        out.append(indent(finding.traceback.rstrip()))
    if isinstance(finding, InvariantViolation) and finding.detail and "\n" in finding.detail:
        out.append("")
        out.append("check() traceback:")
        out.append(indent(finding.detail.rstrip()))
    out.extend(_teardown_traceback(finding))
    if closest is not None:
        out.append("")
        out.append(wrap(f"what changed: {closest.sentence()}", width))
        # Not "schedule ID: ": scripts look for the failing run's ID after those words.
        out.append(f"(the passing schedule: {closest.schedule_id})")
    if replay_lines and finding.schedule_id:
        out.append("")
        out.append(render_replay_lines(finding.schedule_id, context or ReplayContext()))
    return "\n".join(out)


def _teardown_traceback(finding: Finding) -> list[str]:
    # Shown even when the execution was drawn for an earlier finding: it is all there is to see.
    if not isinstance(finding, TeardownFailed) or not finding.traceback:
        return []
    return ["", "teardown() traceback:", indent(finding.traceback.rstrip())]
