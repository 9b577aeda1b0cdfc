"""Exploring the scenarios of a check one by one (:class:`_Runner`): each explored, its
candidates confirmed by replay, its findings made ``not-linearizable``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .._api import explore, replay
from .._core._findings import Finding, InvariantViolation
from .._core._schedule import ExecutionOptions, Schedule, encode
from .._engine._settings import HealthCheck
from .._results import ExploreResult, RunResult
from ..errors import (
    FailedHealthCheck,
    ScheduleDivergence,
)
from ._checker import (
    Spec,
)
from ._history import (
    realize,
)
from ._program import (
    _Checker,
    _finding,
    _Program,
)
from ._results import (
    _convert,
    _reported,
)
from ._scenarios import (
    ScenarioCalls,
    encode_id,
)


# ------------------------------------------------------------------ the run
class _Runner:
    """Explores scenarios for one check and keeps the counts."""

    def __init__(
        self,
        make: Callable[[], object],
        spec: Spec,
        name: str,
        *,
        explore_options: dict[str, Any],
        watchdog: float | None,
        roots: list[str],
        deadline: float | None,
    ) -> None:
        self.make = make
        self.spec = spec
        self.name = name
        self.checker = _Checker(spec)
        self.options = explore_options
        self.execution_options = ExecutionOptions(
            max_steps=explore_options["max_steps"],
            patch_threading=explore_options["patch_threading"],
            patch_sqlite=explore_options["patch_sqlite"],
            trace_attributes=explore_options["trace_attributes"],
        )
        self.watchdog = watchdog
        self.roots = roots
        self.deadline = deadline
        self.probes: dict[ScenarioCalls, _Probe] = {}
        self.unconfirmed = 0
        self.timed_out = False
        self.incomplete: str | None = None
        self.clean = 0
        self.health: dict[HealthCheck, int] = {}
        self.schedules = self.executions = self.steps = self.depth = self.pruned = 0
        self.max_threads = 0
        self.seconds = 0.0

    def program(self, scenario: ScenarioCalls) -> _Program:
        return _Program(self.make, scenario, self.checker, self.name)

    def _explore(
        self, program: _Program, *, first: bool
    ) -> tuple[ExploreResult, tuple[HealthCheck, ...]] | None:
        """Explore one scenario (until its first finding, with ``first``); each finding is
        replaced by its simplest schedule (minimisation runs only when something was found)."""
        remaining = None
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.timed_out = True
                return None
        checks: tuple[HealthCheck, ...] = ()
        try:
            result = explore(
                program,
                stop_on_first=first,
                timeout=remaining,
                watchdog=self.watchdog,
                project=self.roots or None,
                fail_health_check=["all"],
                # Judged by its results: a race that changes none is no finding here.
                detect_data_races=False,
                **self.options,
            )
        except FailedHealthCheck as exc:
            result = exc.result
            checks = tuple(exc.checks)
        stats = result.statistics
        self.schedules += result.schedules_run
        self.executions += stats.executions
        self.steps += stats.steps
        self.depth = max(self.depth, stats.max_depth)
        self.pruned += stats.pruned
        self.max_threads = max(self.max_threads, stats.threads)
        self.seconds += result.elapsed
        if result.stopped_because == "timeout":
            self.timed_out = True
        return result, checks

    def fails(self, scenario: ScenarioCalls) -> bool:
        """Explore ``scenario`` until its first finding; does it have one?"""
        probe = self.probes.get(scenario)
        if probe is None:
            program = self.program(scenario)
            explored = self._explore(program, first=True)
            if (
                explored is not None
                and explored[0].findings
                and not _reported(explored[0].findings)
            ):
                # Stopped at a finding the check does not report: explore it all.
                program = self.program(scenario)
                explored = self._explore(program, first=False)
            if explored is None:
                return False
            found, checks = explored
            confirmed = None if _reported(found.findings) else self._confirm(program)
            probe = self.probes[scenario] = _Probe(found, program, confirmed)
            if not probe.failed:
                self._count_clean(found, checks)
        return probe.failed

    def _count_clean(self, result: ExploreResult, checks: tuple[HealthCheck, ...]) -> None:
        if result.ok:  # (the health checks run only when nothing at all was found)
            self.clean += 1
            for check in checks:
                self.health[check] = self.health.get(check, 0) + 1
        if not result.exhausted and result.stopped_because != "timeout":
            self.incomplete = self.incomplete or result.stopped_because

    def _confirm(self, program: _Program) -> tuple[RunResult, int] | None:
        """Replay the scenario's failing reorderings, each in its own order; the first whose
        own history fails (converted findings' run), and how many executions showed it."""
        for key, candidate in list(program.candidates.items()):
            try:
                order = realize(
                    candidate.choices, candidate.clocks, candidate.spans, candidate.before
                )
            except ValueError:
                self.unconfirmed += 1
                continue
            schedule = Schedule(
                choices=tuple(candidate.choices[k] for k in order),
                steps=len(order),
                options=self.execution_options,
            )
            try:
                run = self._replay(program, encode(schedule, [candidate.ops[k] for k in order]))
            except ScheduleDivergence:
                self.unconfirmed += 1
                continue
            if program.last is not None and program.last.failure is not None:
                return run, program.seen.get(key, 1)
            self.unconfirmed += 1
        return None

    def findings(self, scenario: ScenarioCalls) -> tuple[tuple[Finding, ...], tuple[int, ...]]:
        """The findings of a failing scenario (minimised when it was explored), as reported."""
        probe = self.probes[scenario]
        if probe.confirmed is not None:
            # Only a reordering failed: its replay is the finding (nothing else was found).
            run, seen = probe.confirmed
            lin_id = encode_id(scenario, run.trace.schedule_id)
            found = _convert(run.findings, probe.program, self.spec.name, lin_id, run.trace)
            return found, (seen,) * len(found)
        result, program = probe.result, probe.program
        out: list[Finding] = []
        occurrences: list[int] = []
        for finding, seen in zip(result.findings, result.occurrences, strict=True):
            if not _reported((finding,)):
                continue
            occurrences.append(seen)
            if isinstance(finding, InvariantViolation):
                out.append(self._not_linearizable(program, scenario, finding))
            else:
                out.append(replace(finding, schedule_id=encode_id(scenario, finding.schedule_id)))
        return tuple(out), tuple(occurrences)

    def _replay(self, program: _Program, schedule_id: str) -> RunResult:
        self.executions += 1
        return replay(program, schedule_id, watchdog=self.watchdog, project=self.roots or None)

    def _not_linearizable(
        self, program: _Program, scenario: ScenarioCalls, finding: Finding
    ) -> Finding:
        run = self._replay(program, finding.schedule_id)
        failure = program.last.failure if program.last is not None else None
        lin_id = encode_id(scenario, run.trace.schedule_id)
        if failure is None:
            # check() raised (its traceback is the finding's), or, if the object is not
            # deterministic, the history passed this time: the finding stands as found.
            return replace(finding, schedule_id=lin_id)
        return _finding(failure, run.trace, lin_id, self.spec.name)


@dataclass(frozen=True, slots=True)
class _Probe:
    """A scenario explored until its first finding, and the reordering that failed when
    nothing else did."""

    result: ExploreResult
    program: _Program
    confirmed: tuple[RunResult, int] | None

    @property
    def failed(self) -> bool:
        return bool(_reported(self.result.findings)) or self.confirmed is not None
