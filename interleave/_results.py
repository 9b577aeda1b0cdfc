"""Public result types: ``ExploreResult`` (of ``explore``) and ``RunResult`` (of ``replay``)."""

from __future__ import annotations

from dataclasses import dataclass

from ._core._findings import Finding
from ._core._trace import Trace
from ._engine._explorer import Exploration, Statistics
from .errors import FindingsError

__all__ = ["ExploreResult", "Interrupted", "RunResult"]

_STOP_TEXT = {
    "exhausted": "every schedule was explored",
    "max_schedules": "stopped at max_schedules before covering every schedule",
    "timeout": "stopped at the timeout before covering every schedule",
    "first-finding": "stopped at the first finding (stop_on_first=True)",
    "preemption-bound": "covered every schedule within the preemption bound, not beyond it",
    "step-limit": (
        "stopped at the first step-limit finding: a thread that does not stop makes the "
        "search unbounded (fix the spin loop, or raise max_steps)"
    ),
    "interrupted": "interrupted (Ctrl-C) before covering every schedule",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExploreResult:
    """The outcome of :func:`interleave.explore`.

    Attributes:
        scenario: the scenario's name.
        target: ``module:factory`` (or ``file.py:factory``) for ``interleave replay``.
        max_steps: the per-thread step limit the exploration ran with (replays need it).
        strategy: the strategy that ran (with its seed, if any).
        max_schedules: the budget it had.
        ok: no findings.
        findings: distinct findings, in the order first found; each has a ``schedule_id``.
        occurrences: for each finding, how many executions showed it.
        schedules_run: executions run.
        exhausted: every schedule was covered (a proof over the instrumented operations).
        stopped_because: ``"exhausted"``, ``"max_schedules"``, ``"timeout"``,
            ``"first-finding"``, ``"preemption-bound"`` (a bounded search covered its bound),
            ``"step-limit"`` (a thread took more than ``max_steps``: the search stops there) or
            ``"interrupted"`` (Ctrl-C: the result of :class:`Interrupted`).
        elapsed: seconds.
        statistics: counts and times (:class:`Statistics`).
    """

    scenario: str
    strategy: str
    max_schedules: int
    raw: Exploration
    target: str | None = None
    max_steps: int = 10_000

    @property
    def ok(self) -> bool:
        """True when no execution produced a finding (check ``exhausted`` for a proof)."""
        return not self.raw.findings

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Distinct findings, first found first."""
        return self.raw.findings

    @property
    def occurrences(self) -> tuple[int, ...]:
        """How many executions showed each finding."""
        return self.raw.occurrences

    @property
    def schedules_run(self) -> int:
        """How many executions ran."""
        return self.raw.schedules_run

    @property
    def exhausted(self) -> bool:
        """Was every schedule covered? Only then is a clean result a proof."""
        return self.raw.exhausted

    @property
    def stopped_because(self) -> str:
        """Why the exploration ended (see the class docs)."""
        return self.raw.stopped_because

    @property
    def stopped_text(self) -> str:
        """``stopped_because`` as a sentence."""
        return _STOP_TEXT.get(self.stopped_because, self.stopped_because)

    @property
    def elapsed(self) -> float:
        """Seconds spent."""
        return self.raw.elapsed

    @property
    def statistics(self) -> Statistics:
        """Counts and times of the exploration."""
        return self.raw.statistics

    def report(self) -> str:
        """The full text report: summary, then each finding with its interleaving diagram."""
        from ._report import render_explore

        return render_explore(self)

    def raise_on_failure(self) -> ExploreResult:
        """Raise :class:`~interleave.errors.FindingsError` (an AssertionError) with the
        report when there are findings; return ``self`` otherwise."""
        if self.findings:
            raise FindingsError(self.report())
        return self

    def __repr__(self) -> str:
        kinds = ", ".join(f.kind for f in self.findings) or "none"
        return (
            f"<ExploreResult {self.scenario!r} ok={self.ok} findings=[{kinds}] "
            f"schedules_run={self.schedules_run} exhausted={self.exhausted}>"
        )


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`interleave.explore`; ``result`` holds what it found until then.

    It is a ``KeyboardInterrupt``: code that does not know it stops as on any Ctrl-C (a script
    exits with status 130, pytest stops the session), and ``except Exception`` never catches
    it. ``result.stopped_because`` is ``"interrupted"`` and ``result.exhausted`` is False; its
    findings are those of the executions that completed, each with a schedule ID that replays
    it (the interrupted execution itself is dropped, and findings are not minimised).

    Attributes:
        result: the partial :class:`ExploreResult`.

    Example::

        try:
            result = interleave.explore(scenario)
        except interleave.Interrupted as stop:
            print(stop.result.report())   # the findings so far, with their replay lines
            raise
    """

    def __init__(self, result: ExploreResult) -> None:
        super().__init__(_interrupted_text(result))
        self.result = result

    def __reduce__(self) -> tuple[type[Interrupted], tuple[ExploreResult]]:
        return (type(self), (self.result,))


def _interrupted_text(result: ExploreResult) -> str:
    found = ", ".join(f"{f.kind} {f.schedule_id}" for f in result.findings[:5])
    more = f" and {len(result.findings) - 5} more" if len(result.findings) > 5 else ""
    return (
        f"exploration of {result.scenario!r} interrupted after {result.schedules_run:,} "
        f"schedule(s): "
        + (f"findings so far: {found}{more}" if found else "no findings so far")
        + " (the partial result is the exception's .result)"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """The outcome of :func:`interleave.replay`: one execution.

    Attributes:
        scenario: the scenario's name.
        schedule_id: the ID that was replayed.
        trace: the execution, step by step.
        findings: what went wrong in it.
    """

    scenario: str
    schedule_id: str
    trace: Trace
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """True when the execution produced no finding."""
        return not self.findings

    def report(self) -> str:
        """The text report of this execution."""
        from ._report import render_run

        return render_run(self)

    def __repr__(self) -> str:
        kinds = ", ".join(f.kind for f in self.findings) or "none"
        return (
            f"<RunResult {self.scenario!r} {self.schedule_id} findings=[{kinds}] "
            f"steps={len(self.trace)}>"
        )
