"""What a linearizability check returns: :class:`LinearizabilityResult`, an
:class:`~interleave.ExploreResult` made from the explorations of its scenarios."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from .._core._findings import Finding, InvariantViolation
from .._core._trace import Trace
from .._results import ExploreResult
from ._program import (
    _finding,
    _Program,
)
from ._scenarios import (
    ScenarioCalls,
)

#: Finding kinds a linearizability check does not report: it judges the object by its results,
#: and the lost-update and data-race detectors flag a race whatever the values (two callers
#: that both cache the same value). A race that changes a result is a not-linearizable finding.
_NOT_REPORTED = frozenset({"lost-update", "data-race"})


def _reported(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.kind not in _NOT_REPORTED)


def _convert(
    findings: Iterable[Finding],
    program: _Program,
    model: str,
    lin_id: str,
    trace: Trace,
) -> tuple[Finding, ...]:
    """The findings of one replayed execution, as a linearizability check reports them."""
    out: list[Finding] = []
    failure = program.last.failure if program.last is not None else None
    for finding in _reported(findings):
        # The scenario's only check() is ours: an invariant finding with a failing history is
        # that history (one without is check() raising, the model's partition_key say).
        if isinstance(finding, InvariantViolation) and failure is not None:
            out.append(_finding(failure, trace, lin_id, model))
        else:
            out.append(replace(finding, schedule_id=lin_id))
    return tuple(out)


# ------------------------------------------------------------------ the result
@dataclass(frozen=True, slots=True, kw_only=True)
class LinearizabilityResult(ExploreResult):
    """The outcome of :func:`interleave.check_linearizable`: an :class:`ExploreResult` whose
    scenarios were generated, with what they covered.

    Attributes:
        make: the name ``make`` is printed as in replay lines.
        model: the model's name.
        threads: threads per scenario.
        calls_per_thread: calls per thread (at most, for drawn scenarios).
        operations: how many operations the scenarios were made of.
        generation: ``"every"`` (every scenario), ``"sample"`` (a seeded sample: there were
            more than ``max_scenarios``) or ``"hypothesis"`` (arguments from strategies).
        scenarios_run: the distinct scenarios explored (shrinking included).
        scenarios_total: how many scenarios there are (None for drawn ones).
        failing_scenario: the (shrunk) scenario of the findings, as ``((method, args), ...)``
            per thread, or None.
        histories_checked: histories checked against the model (one execution may stand for
            several real-time orders).
        histories_searched: those not answered from the cache (the same history recurs).
        check_seconds: time spent checking histories (part of the exploration time).

    Example::

        result = interleave.check_linearizable(make_counter, CounterModel, ["increment"])
        print(result.generation, result.scenarios_run, result.verdict)
    """

    make: str = "make"
    model: str = "model"
    threads: int = 2
    calls_per_thread: int = 2
    operations: int = 0
    generation: str = "every"
    scenarios_run: int = 0
    scenarios_total: int | None = None
    failing_scenario: ScenarioCalls | None = None
    histories_checked: int = 0
    histories_searched: int = 0
    check_seconds: float = 0.0

    @property
    def stopped_text(self) -> str:
        """``stopped_because`` as a sentence, about scenarios and their schedules."""
        reason = self.stopped_because
        if reason == "exhausted":
            return (
                f"every scenario ({self.scenarios_total:,}: {self.threads} threads x "
                f"{self.calls_per_thread} calls of {self.operations} operations, threads "
                "interchangeable; fewer calls are covered as prefixes) was explored "
                "exhaustively"
            )
        if reason == "first-finding":
            return (
                "stopped at the first scenario with a finding, shrunk to the fewest calls that "
                "still fail"
            )
        if reason == "scenarios-sampled":
            if self.generation == "hypothesis":
                return (
                    f"explored {self.scenarios_run:,} scenarios drawn by hypothesis (arguments "
                    "from strategies): a sample, not every scenario"
                )
            return (
                f"explored a sample of {self.scenarios_run:,} of the {self.scenarios_total:,} "
                f"scenarios (more than max_scenarios)"
            )
        base: str = ExploreResult.stopped_text.fget(self)  # type: ignore[attr-defined]
        return base + " (in a scenario)"

    @property
    def how_to_prove(self) -> str:
        """What to change for a proof (the verdict is ``proved`` only after every scenario)."""
        reason = self.stopped_because
        if reason == "scenarios-sampled" and self.generation == "hypothesis":
            return (
                "arguments drawn from hypothesis strategies are a sample; for a proof, list "
                "the argument values to try instead, e.g. ('set', ('k', 1)) and "
                "('set', ('k', 2))"
            )
        if reason == "scenarios-sampled":
            return (
                f"raise max_scenarios to {self.scenarios_total:,} (every scenario), or give "
                "fewer operations or calls"
            )
        if reason == "timeout":
            return "raise the timeout (or drop it) until every scenario is explored"
        if reason == "first-finding":
            return "fix the finding and run the check again"
        return (
            "raise max_schedules (it applies to each scenario) until every scenario is "
            "explored exhaustively"
        )

    def replay_line(self, schedule_id: str) -> str:
        """The Python line that replays ``schedule_id``."""
        return f"interleave.replay_linearizable({self.make}, {self.model}, {schedule_id!r})"

    def report(self) -> str:
        """The full text report: summary, then each finding with its calls and diagram."""
        from .._report import ReplayContext, render_explore

        return render_explore(
            self, ReplayContext(python_call=self.replay_line), how_to_prove=self.how_to_prove
        )
