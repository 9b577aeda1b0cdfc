"""What an exploration produced: its phases, counts and times, and the saved schedules reused.

Plain data, returned to the user (``ExploreResult.statistics``) and sent back from workers.
The explorer (``_explorer``), which fills it in, is compiled in a wheel (see
``_core/_native.py``); this module is not, so its classes pickle and document themselves as
plain Python classes do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .._core._findings import Finding
from ._settings import ExitReason

__all__ = ["Exploration", "Phase", "Reused", "Statistics"]


class Phase(StrEnum):
    """The phases of an exploration, in the order they run."""

    REUSE = "reuse"
    EXPLORE = "explore"
    MINIMISE = "minimise"


@dataclass(frozen=True, slots=True)
class Reused:
    """What the reuse phase did with one schedule saved by an earlier run.

    Attributes:
        schedule_id: the saved ID.
        outcome: ``"reproduced"`` (it still fails: a finding, kept in the database),
            ``"fixed"`` (it replays and passes now: deleted) or ``"stale"`` (it no longer
            replays, the scenario changed: deleted).
    """

    schedule_id: str
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Statistics:
    """Counts and times of an exploration.

    Attributes:
        executions: executions run in every phase, redundant ones included.
        steps: scheduling steps taken over the explore phase's executions.
        max_depth: the most steps in one execution.
        pruned: executions that turned out redundant (sleep-set blocked under DPOR: they
            were equivalent to an explored one); 0 for plain DFS.
        threads: the most threads in one execution.
        phases: seconds per phase that ran, e.g. ``{"explore": 1.2, "minimise": 0.1}``.
        phase_executions: executions per phase that ran.
        tasks: tasks the explore phase was split into (``workers=``/``executor=``; 0 when
            it ran in this process alone).
        retried: times a task was run again because a worker died (a process pool that
            loses one runs all the tasks it had again), by this process or by
            the executor (Dask's scheduler); its executions are counted once: only a
            finished task's are.
    """

    executions: int = 0
    steps: int = 0
    max_depth: int = 0
    pruned: int = 0
    threads: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    phase_executions: dict[str, int] = field(default_factory=dict)
    tasks: int = 0
    retried: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Exploration:
    """What an exploration produced (``ExploreResult`` adds what it explored and how)."""

    findings: tuple[Finding, ...]
    occurrences: tuple[int, ...]
    schedules_run: int
    exhausted: bool
    stopped_because: ExitReason
    elapsed: float
    statistics: Statistics
    scenario_name: str | None = None
    reused: tuple[Reused, ...] = ()
