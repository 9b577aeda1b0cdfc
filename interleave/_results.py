"""Public result types: ``ExploreResult`` (of ``explore``) and ``RunResult`` (of ``replay``).

Results are flat, frozen data: what was explored, how, and what was found. ``to_dict()`` gives
them as plain JSON-ready values; every text about them is rendered by ``_report`` (``report()``
calls it), so no adapter edits rendered text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._contrast import ClosestPass
from ._core._findings import Finding
from ._core._trace import Trace
from ._engine._exploration import Reused, Statistics
from ._engine._settings import ExitReason, ExploreSettings, Verdict
from .errors import FindingsError

__all__ = ["ExploreResult", "Interrupted", "RunResult", "Verdict"]


def verdict_of(*, exhausted: bool, stopped_because: str) -> Verdict:
    """The verdict of an exploration that ended as ``stopped_because``."""
    if exhausted:
        return Verdict.PROVED
    try:
        reason = ExitReason(stopped_because)
    except ValueError:
        return Verdict.SAMPLED  # a reason this version does not know proves nothing
    return Verdict.SAMPLED if reason is ExitReason.EXHAUSTED else reason.verdict


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
        strategy: the strategy that ran, described (``"dpor"``, ``"random (seed=3)"`` …).
        findings: distinct findings, in the order first found; each has a ``schedule_id``.
        occurrences: for each finding, how many executions showed it.
        schedules_run: executions run (the explore phase, redundant ones excluded).
        exhausted: every schedule was covered (a proof over the instrumented operations).
        stopped_because: why it ended (:class:`~interleave.ExitReason`, a ``str``:
            ``"exhausted"``, ``"max_schedules"``, ``"timeout"``, ``"first-finding"``,
            ``"preemption-bound"``, ``"preemption-bound-partial"``, ``"step-limit"``,
            ``"interrupted"`` or ``"reproduced"``).
        elapsed: seconds.
        statistics: counts and times (:class:`Statistics`), per phase too.
        settings: the :class:`~interleave.ExploreSettings` it ran with.
        target: ``module:factory`` (or ``file.py:factory``) for ``interleave replay``.
        reused: what became of each failing schedule a schedule database held for this
            scenario (replayed first: ``reproduced``, ``fixed`` or ``stale``; see
            ``explore(database=...)``), in the order they were replayed.
        closest_passing: for each finding, the closest passing schedule
            (:class:`~interleave.ClosestPass`: where a passing run parts from the failing
            one), or None when none was found; empty when the search did not run (it runs
            with the minimise phase).

    Derived: ``ok`` (no findings), ``verdict`` (``proved``, ``bounded``, ``sampled`` or
    ``interrupted``: how much the coverage proves, :class:`Verdict`), ``stopped_text``,
    ``max_schedules`` and ``max_steps`` (from the settings).
    """

    scenario: str
    strategy: str
    findings: tuple[Finding, ...] = ()
    occurrences: tuple[int, ...] = ()
    schedules_run: int = 0
    exhausted: bool = False
    stopped_because: ExitReason = ExitReason.EXHAUSTED
    elapsed: float = 0.0
    statistics: Statistics = field(default_factory=Statistics)
    settings: ExploreSettings = field(default_factory=ExploreSettings)
    target: str | None = None
    reused: tuple[Reused, ...] = ()
    closest_passing: tuple[ClosestPass | None, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no execution produced a finding (check ``exhausted`` for a proof)."""
        return not self.findings

    @property
    def verdict(self) -> Verdict:
        """How much the coverage proves: ``proved``, ``bounded``, ``sampled`` or
        ``interrupted`` (see :class:`Verdict`)."""
        return verdict_of(exhausted=self.exhausted, stopped_because=self.stopped_because)

    @property
    def stopped_text(self) -> str:
        """``stopped_because`` as a sentence."""
        try:
            return ExitReason(self.stopped_because).text
        except ValueError:
            return str(self.stopped_because)

    @property
    def max_schedules(self) -> int:
        """The budget it had (``settings.max_schedules``)."""
        return self.settings.max_schedules

    @property
    def max_steps(self) -> int:
        """The per-thread step limit it ran with (each schedule ID records it)."""
        return self.settings.max_steps

    def closest_pass(self, index: int) -> ClosestPass | None:
        """``closest_passing[index]``, or None when the search did not run."""
        passing = self.closest_passing
        return passing[index] if index < len(passing) else None

    def report(self) -> str:
        """The full text report: summary, then each finding with its interleaving diagram."""
        from ._report import render_explore

        return render_explore(self)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain, JSON-ready values, in the versioned shape of
        ``interleave/_report/schema.json`` (see ``docs/reference/json.md``)."""
        from ._report import explore_dict

        return explore_dict(self)

    def to_json(self, *, indent: int = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        from ._report import to_json

        return to_json(self, indent=indent)

    def to_html(self) -> str:
        """The HTML report: one self-contained page (inline CSS and SVG, nothing loaded from
        the network) with a timeline of each finding. Write it to a file and open it."""
        from ._report import to_html

        return to_html(self)

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

    def to_dict(self) -> dict[str, Any]:
        """The execution as plain, JSON-ready values (``kind: "replay"`` in
        ``interleave/_report/schema.json``)."""
        from ._report import run_dict

        return run_dict(self)

    def to_json(self, *, indent: int = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        from ._report import to_json

        return to_json(self, indent=indent)

    def to_html(self) -> str:
        """The HTML report: one self-contained page (inline CSS and SVG, nothing loaded from
        the network) with a timeline of each finding. Write it to a file and open it."""
        from ._report import to_html

        return to_html(self)

    def __repr__(self) -> str:
        kinds = ", ".join(f.kind for f in self.findings) or "none"
        return (
            f"<RunResult {self.scenario!r} {self.schedule_id} findings=[{kinds}] "
            f"steps={len(self.trace)}>"
        )
