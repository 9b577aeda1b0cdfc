"""Public result types: ``ExploreResult`` (of ``explore``) and ``RunResult`` (of ``replay``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._core._findings import Finding
from ._core._trace import Trace
from ._engine._explorer import Exploration, Statistics
from .errors import FindingsError

__all__ = ["ExploreResult", "RunResult", "Verdict"]

_STOP_TEXT = {
    "exhausted": "every schedule was explored",
    "max_schedules": "stopped at max_schedules before covering every schedule",
    "timeout": "stopped at the timeout before covering every schedule",
    "first-finding": "stopped at the first finding (stop_on_first=True)",
    "preemption-bound": "covered every schedule within the preemption bound, not beyond it",
    "preemption-bound-partial": (
        "cut the branches that preempt beyond the bound; with dpor that does not cover every "
        "schedule within the bound either (use strategy='dfs' for a bounded proof)"
    ),
    "step-limit": (
        "stopped at the first step-limit finding: a thread that does not stop makes the "
        "search unbounded (fix the spin loop, or raise max_steps)"
    ),
}


class Verdict(enum.StrEnum):
    """What an exploration's coverage shows, in one word (:attr:`ExploreResult.verdict`).

    The verdict is about coverage, not about findings (``ok`` says whether anything was found):
    it says how much a clean result proves, and whether the findings are all there are.

    - ``proved``: an exhaustive strategy (``dpor`` or ``dfs``) ran out of schedules and no
      preemption bound cut any of them (``exhausted=True``; a ``preemption_bound="iterative"``
      search that ended on a round that cut nothing counts). Every interleaving of the
      instrumented operations was covered: no finding means none can happen there.
    - ``bounded``: an exhaustive search covered every schedule *within its preemption bound*
      and the bound cut some (``stopped_because="preemption-bound"``, ``dfs`` only). Schedules
      with more preemptions were not run: evidence, not a proof.
    - ``sampled``: only some schedules ran: a seeded strategy (``random``, ``pct``), a search
      stopped by a budget (``max_schedules``, ``timeout``, ``stop_on_first``, or a thread that
      hit ``max_steps``), or ``dpor`` with a preemption bound that cut something
      (``stopped_because="preemption-bound-partial"``: a trace class may be reachable only
      through a representative with more preemptions). Evidence, not a proof.
    - ``interrupted``: the exploration was stopped by Ctrl-C (``stopped_because=
      "interrupted"``); the result holds what was found until then.

    A ``Verdict`` is a ``str``: compare it with the word or with the member.

    Example::

        result = interleave.explore(locked_counter)
        assert result.verdict == "proved" == interleave.Verdict.PROVED
        sampled = interleave.explore(locked_counter, strategy="random", max_schedules=10)
        assert sampled.verdict is interleave.Verdict.SAMPLED
    """

    PROVED = "proved"
    BOUNDED = "bounded"
    SAMPLED = "sampled"
    INTERRUPTED = "interrupted"


def verdict_of(*, exhausted: bool, stopped_because: str) -> Verdict:
    """The verdict of an exploration that ended as ``stopped_because``."""
    if exhausted:
        return Verdict.PROVED
    if stopped_because == "preemption-bound":
        return Verdict.BOUNDED
    if stopped_because == "interrupted":
        return Verdict.INTERRUPTED
    # Every other way to stop (a budget, the first finding, a step limit, a seeded strategy,
    # and any reason added later) covered only some schedules: never call that a proof.
    return Verdict.SAMPLED


#: How to turn each verdict that is not ``proved`` into a proof (for --require-proof).
HOW_TO_PROVE = {
    Verdict.BOUNDED: (
        "drop preemption_bound (or use preemption_bound='iterative', which ends with a proof "
        "when a round cuts nothing)"
    ),
    Verdict.SAMPLED: (
        "use strategy='dpor' (or 'dfs'), no stop_on_first, and raise max_schedules (or the "
        "timeout) until the run says 'exhausted'"
    ),
    Verdict.INTERRUPTED: "let the exploration run to its end",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExploreResult:
    """The outcome of :func:`interleave.explore`.

    Attributes:
        scenario: the scenario's name.
        target: ``module:factory`` (or ``file.py:factory``) for ``interleave replay``.
        max_steps: the per-thread step limit the exploration ran with (each schedule ID
            records it, so replays need not be told).
        strategy: the strategy that ran (with its seed, if any).
        max_schedules: the budget it had.
        ok: no findings.
        findings: distinct findings, in the order first found; each has a ``schedule_id``.
        occurrences: for each finding, how many executions showed it.
        schedules_run: executions run.
        exhausted: every schedule was covered (a proof over the instrumented operations).
        verdict: ``proved``, ``bounded``, ``sampled`` or ``interrupted``: how much the
            coverage proves, in one word (:class:`Verdict`).
        stopped_because: ``"exhausted"``, ``"max_schedules"``, ``"timeout"``,
            ``"first-finding"``, ``"preemption-bound"`` (a bounded search covered its bound) or
            ``"step-limit"`` (a thread took more than ``max_steps``: the search stops there).
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
    def verdict(self) -> Verdict:
        """How much the coverage proves: ``proved``, ``bounded``, ``sampled`` or
        ``interrupted`` (see :class:`Verdict`)."""
        return verdict_of(exhausted=self.exhausted, stopped_because=self.stopped_because)

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
