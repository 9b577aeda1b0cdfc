"""Progress of an exploration: what a ``progress=`` callback receives, and the plain line.

The explorer reports ``(executions, findings, seconds)`` about twice a second once the first
second has passed. :func:`reporter` turns that into a :class:`Progress` for the user's
callback, with the total the exploration is heading for: ``max_schedules`` for the sampling
strategies, and for ``dfs``/``dpor`` an estimate (:mod:`._engine._estimate`) made by a short
run of probes at the first report: explorations shorter than a second never pay for it. The
estimate is labelled as one wherever it is shown. The clock decides only what is printed and
when, never a scheduling choice.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from ._core._program import Program
from ._engine._estimate import ESTIMATED_STRATEGIES, Estimate, duration, estimate_program
from ._engine._run import ExecutionContext
from ._engine._settings import ExploreSettings
from .errors import InvalidArgument

__all__ = [
    "PROBE_BUDGET",
    "Progress",
    "ProgressCallback",
    "ProgressLines",
    "Reporter",
    "check_progress",
    "reporter",
]

#: Seconds of probes (CPU time) spent on the estimated total of a progress display (once).
PROBE_BUDGET = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """How far an exploration has got: what ``explore(progress=...)`` callbacks receive.

    Attributes:
        executions: executions explored so far (for ``dpor``, not counting the sleep-set
            blocked ones, as ``schedules_run``).
        findings: distinct findings so far.
        elapsed: seconds since the exploration started.
        rate: executions per second so far.
        total: the executions the exploration is heading for, if known: an estimate
            (``estimated=True``, from random probes of the search tree) or ``max_schedules``.
        estimated: whether ``total`` is an estimate (rather than the ``max_schedules``
            budget).
        done: the exploration's explore phase ended: the last call (made only when earlier
            calls were). An exhausted search then has its count as ``total`` (not
            estimated), so ``fraction`` is 1.
        exhausted: (only with ``done``) the search covered every execution: ``total`` is
            its count, not ``max_schedules``.

    ``str()`` of it is the line interleave prints outside a terminal.

    Example::

        def show(p: interleave.Progress) -> None:
            print(p.executions, p.total, p.fraction, p.eta)

        interleave.explore(scenario, progress=show)
    """

    executions: int
    findings: int
    elapsed: float
    rate: float
    total: int | None = None
    estimated: bool = False
    done: bool = False
    exhausted: bool = False

    @property
    def fraction(self) -> float | None:
        """``executions / total`` (at most 1), or None without a total."""
        if not self.total:
            return None
        return min(1.0, self.executions / self.total)

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, or None without a total or a rate."""
        if self.total is None or self.rate <= 0:
            return None
        return max(0, self.total - self.executions) / self.rate

    def __str__(self) -> str:
        found = {0: "no findings", 1: "1 finding"}.get(self.findings, f"{self.findings} findings")
        rate = f"{self.rate:,.0f} executions/s"
        if self.total is None:
            return (
                f"explored {self.executions:,} executions in {duration(self.elapsed)}, "
                f"{rate}; {found} so far"
            )
        of = f"about {self.total:,} (estimated)" if self.estimated else f"{self.total:,}"
        budget = " (exhausted)" if self.exhausted else "" if self.estimated else " (max_schedules)"
        eta = None if self.done else self.eta
        left = "" if eta is None else f", about {duration(eta)} left"
        return (
            f"explored {self.executions:,} of {of} executions{budget}: "
            f"{100 * (self.fraction or 0):.1f}%, {rate}{left}; {found} so far"
        )


#: A ``progress=`` callback: called with a :class:`Progress` (or, the older form, with
#: ``(executions, findings, seconds)``).
ProgressCallback = Callable[[Progress], object] | Callable[[int, int, float], object]


def check_progress(progress: object) -> bool:
    """Check a ``progress=`` argument; True when it takes the older three arguments.

    Raises:
        InvalidArgument: not callable, or callable with neither one nor three arguments.
    """
    if not callable(progress):
        raise InvalidArgument(
            f"progress={progress!r} must be a function that takes an interleave.Progress"
        )
    try:
        signature = inspect.signature(progress)
    except (TypeError, ValueError):  # a builtin without a signature: assume the new form
        return False
    try:
        signature.bind(None)
        return False
    except TypeError:
        pass
    try:
        signature.bind(0, 0, 0.0)
        return True
    except TypeError:
        raise InvalidArgument(
            f"progress={progress!r} must take one argument (an interleave.Progress: "
            "executions, findings, elapsed, rate, total)"
        ) from None


def reporter(
    progress: ProgressCallback,
    settings: ExploreSettings,
    build: Callable[[], Program],
    contexts: Sequence[ExecutionContext],
) -> Callable[[int, int, float], None]:
    """The explorer's progress callback that feeds ``progress`` (see the module docs)."""
    if check_progress(progress):
        return progress  # type: ignore[return-value]  # the older form, called as it was

    def probe() -> Estimate:
        bound = settings.preemption_bound
        return estimate_program(
            build,
            settings.strategy,
            seed=0,
            probes=None,
            time_budget=PROBE_BUDGET,
            max_steps=settings.max_steps,
            contexts=contexts,
            preemption_bound=bound if isinstance(bound, int) else None,
            # CPU time: with workers= the probes share the cores with the worker processes,
            # and a quarter of a wall second gave half the probes and a total 25% too low.
            clock=time.process_time,
        )

    return Reporter(progress, settings, probe)  # type: ignore[arg-type]


class Reporter:
    """The explorer's progress callback made by :func:`reporter` for a one-argument
    ``progress=`` callback: finds the total, and makes each :class:`Progress`."""

    def __init__(
        self,
        callback: Callable[[Progress], object],
        settings: ExploreSettings,
        probe: Callable[[], Estimate],
    ) -> None:
        self.callback = callback
        self.settings = settings
        self.probe = probe
        self.probed = False
        self.probing = 0.0
        self.total: int | None = None
        self.estimated = False

    def _find_total(self) -> None:
        self.probed = True
        settings = self.settings
        budget = settings.max_schedules
        if settings.strategy not in ESTIMATED_STRATEGIES:
            self.total = budget  # random and pct run their budget
            return
        bound = settings.preemption_bound
        if bound == "iterative" or (bound is not None and settings.strategy == "dpor"):
            return  # no estimate of these searches: the total stays unknown
        found = self.probe()
        self.probing = found.seconds
        if found.unreliable:
            return  # an estimate resting on a few probes is not shown as the total
        if found.executions >= budget:
            self.total = budget  # the budget ends the exploration first
        else:
            self.total = max(1, round(found.executions))
            self.estimated = True

    def __call__(self, executions: int, findings: int, elapsed: float) -> None:
        # The probes' time is not exploring time: it is left out of the rate (the probes at
        # the first report run after ``elapsed`` was measured).
        probing = self.probing
        if not self.probed:
            self._find_total()
        if self.estimated and self.total is not None and executions > self.total:
            # The estimate was too low: the total is shown as unknown, not below the count.
            self.total, self.estimated = None, False
        self._send(executions, findings, elapsed - probing, elapsed, done=False)

    def finish(self, executions: int, findings: int, elapsed: float, exhausted: bool) -> None:
        """The last report, when the explore phase ended (only after earlier ones: a short
        exploration gets none); an exhausted search's total is its count."""
        if not self.probed:
            return
        if exhausted:
            self.total, self.estimated = executions, False
        self._send(
            executions, findings, elapsed - self.probing, elapsed, done=True, exhausted=exhausted
        )

    def _send(
        self,
        executions: int,
        findings: int,
        exploring: float,
        elapsed: float,
        *,
        done: bool,
        exhausted: bool = False,
    ) -> None:
        self.callback(
            Progress(
                executions=executions,
                findings=findings,
                elapsed=elapsed,
                rate=executions / exploring if exploring > 0 else 0.0,
                total=self.total,
                estimated=self.estimated,
                done=done,
                exhausted=exhausted,
            )
        )


class ProgressLines:
    """Writes ``str(progress)`` as a line at most every ``interval`` seconds of the
    exploration (by its own clock: ``Progress.elapsed``).

    Example::

        lines = ProgressLines(sys.stderr, interval=5.0, prefix="interleave: ")
        interleave.explore(scenario, progress=lines)
    """

    def __init__(
        self,
        stream: TextIO | Callable[[str], object],
        *,
        interval: float = 5.0,
        prefix: str = "",
    ) -> None:
        self.write: Callable[[str], object]
        if callable(stream):
            self.write = stream
        else:
            out = stream

            def write(line: str) -> None:
                print(line, file=out, flush=True)

            self.write = write
        self.interval = interval
        self.prefix = prefix
        self.next = interval

    def __call__(self, progress: Progress) -> None:
        if progress.elapsed >= self.next:
            self.write(self.prefix + str(progress))
            self.next = progress.elapsed + self.interval
