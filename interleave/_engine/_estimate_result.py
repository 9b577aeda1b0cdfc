"""What :func:`interleave.estimate` returns: an :class:`Estimate`, and how it reads."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["UNRELIABLE_BLOCKED", "Estimate", "duration"]

#: Share of probes ending sleep-set blocked from which an estimate is flagged unreliable. Where
#: most probes count 0, the few that do not carry the whole estimate and it is usually far too
#: low (measured, 1 s of probes: lastzero(8) 0.08x the true count with 97% blocked, indexer(14)
#: and filesystem(23) 0 with all blocked, readers(10) 1.35x with 91%; the increments, within
#: 2%, have none blocked). From this share of its first probes, ``estimate_program`` counts a
#: dpor tree with dpor's own exploration instead (see ``_estimate.py``).
UNRELIABLE_BLOCKED = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """An estimate of the number of executions an exhaustive exploration runs.

    Attributes:
        strategy: ``"dpor"`` (the estimate counts Mazurkiewicz traces: dpor's executions) or
            ``"dfs"`` (every interleaving).
        executions: the estimated number of executions (the mean of the probes' estimates).
        standard_error: the standard error of ``executions`` (from the spread of the probes;
            infinite for a lower bound, ``at_least``).
        probes: how many random executions (probes) the estimate is made of.
        blocked: probes that ended sleep-set blocked (``dpor``): they count 0. When they are
            most of the probes the estimate is flagged ``unreliable``.
        seconds: the time the probes took.
        preemption_bound: the bound the ``dfs`` tree was cut at, if any.
        exact: the tree was small enough to walk whole: ``executions`` is its exact count
            (``probes`` is then the number of executions the walk took).
        at_least: ``dpor``, when most probes ended blocked: the traces dpor's own exploration
            ran in the budget without finishing (0 when it finished or did not run). There are
            more than that many: ``executions`` is that bound, ``interval`` starts there, and
            ``probes`` counts the exploration's executions too.

    Example::

        est = interleave.estimate(lost_update, probes=500, time_budget=None)
        low, high = est.interval
        print(est)   # about 6 executions (± 0%, ...)
    """

    strategy: str
    executions: float
    standard_error: float
    probes: int
    blocked: int
    seconds: float
    preemption_bound: int | None = None
    exact: bool = False
    at_least: int = 0

    @property
    def relative_error(self) -> float:
        """``standard_error / executions`` (0 when the estimate is 0)."""
        return self.standard_error / self.executions if self.executions else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """An approximate 95% confidence interval: ``executions ± 1.96 standard errors``
        (not below 1: a scenario runs at least one execution). With ``at_least``: from it
        to infinity (a lower bound; ``None`` as the upper end in ``to_dict()``)."""
        if self.at_least:
            return float(self.at_least), math.inf
        half = 1.96 * self.standard_error
        return max(1.0, self.executions - half), self.executions + half

    @property
    def unreliable(self) -> bool:
        """Most probes ended sleep-set blocked (``dpor``): the estimate rests on the few that
        did not and is usually far off (too low), whatever its standard error says; or it is
        only a lower bound (``at_least``). (An estimate from one probe is unbiased but has no
        spread: ``standard_error`` is infinite, and its line says so.)"""
        if self.exact:
            return False
        return bool(self.at_least) or (
            self.probes > 0 and self.blocked >= UNRELIABLE_BLOCKED * self.probes
        )

    @property
    def rate(self) -> float:
        """Executions per second of the probes (each probe is one whole execution; with
        ``at_least`` or ``exact``, the exploration's executions count too)."""
        return self.probes / self.seconds if self.seconds > 0 else 0.0

    @property
    def seconds_to_explore(self) -> float | None:
        """How long exploring every execution would take at the probes' rate (one process);
        None when the rate is unknown."""
        rate = self.rate
        return self.executions / rate if rate > 0 else None

    def to_dict(self) -> dict[str, object]:
        """The estimate as plain data (what ``interleave estimate --format json`` prints)."""
        low, high = self.interval
        return {
            "strategy": self.strategy,
            "executions": self.executions,
            "standard_error": _finite(self.standard_error),
            "interval_95": [low, _finite(high)],
            "probes": self.probes,
            "blocked": self.blocked,
            "seconds": self.seconds,
            "rate": self.rate,
            "seconds_to_explore": self.seconds_to_explore,
            "preemption_bound": self.preemption_bound,
            "exact": self.exact,
            "at_least": self.at_least,
            "unreliable": self.unreliable,
        }

    def __str__(self) -> str:
        low, high = self.interval
        one = round(self.executions) == 1 and (self.exact or not self.at_least)
        what = (
            ("dpor execution (trace)" if one else "dpor executions (traces)")
            if self.strategy == "dpor"
            else ("dfs execution" if one else "dfs executions")
        )
        if self.preemption_bound is not None:
            what += f" within preemption bound {self.preemption_bound}"
        if self.exact:
            text = (
                f"exactly {_count(self.executions)} {what} (the whole tree, walked in "
                f"{self.probes:,} executions, {self.seconds:.2f} s)"
            )
        elif self.at_least:
            # The probes' mean and spread say nothing here; the exploration's count does.
            text = (
                f"more than {self.at_least:,} {what} (most of the first probes ended sleep-set "
                f"blocked, so dpor's own exploration counted instead: {self.at_least:,} in "
                f"{self.seconds:.2f} s without finishing)"
            )
        elif not math.isfinite(self.standard_error):
            # One probe (or too few to tell a spread): no interval to give.
            text = (
                f"about {_count(self.executions)} {what} (spread unknown: "
                f"{_probes(self.probes)} in {self.seconds:.2f} s; give more probes or a longer "
                "time budget for one)"
            )
        else:
            text = (
                f"about {_count(self.executions)} {what} (± {100 * self.relative_error:.1f}%, "
                f"95% interval {_count(low)} to {_count(high)}; {_probes(self.probes)} in "
                f"{self.seconds:.2f} s)"
            )
        left = self.seconds_to_explore
        if left is not None:
            text += (
                f"; exploring them all would take {'more than' if self.at_least else 'about'} "
                f"{duration(left)} at the probes' rate ({self.rate:,.0f} executions/s)"
            )
        if self.at_least:
            text += (
                ". Unreliable: a lower bound; give a longer time budget for the exact count, "
                "or estimate with strategy='dfs' for an upper bound"
            )
        elif self.unreliable:
            text += (
                f". Unreliable: {self.blocked:,} of {self.probes:,} probes ended sleep-set "
                "blocked (they count 0), so the estimate rests on the few that did not and is "
                "probably far too low; estimate with strategy='dfs' for an upper bound"
            )
        return text


def _finite(value: float) -> float | None:
    # JSON has no infinity: an unknown spread or upper end is null.
    return value if math.isfinite(value) else None


def _probes(n: int) -> str:
    return "1 probe" if n == 1 else f"{n:,} probes"


def _count(value: float) -> str:
    return f"{round(value):,}" if math.isfinite(value) else "?"


def duration(seconds: float) -> str:
    """``seconds`` for people: ``0.4 s``, ``12 s``, ``3 min 20 s``, ``2 h 5 min``, ``3.1 days``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{seconds / 86_400:,.1f} days"
