"""``check_linearizable`` and ``replay_linearizable``: is an object's every concurrent history
explained by its sequential model?

How a check runs:

1. scenarios: every multiset of ``threads`` threads of ``calls_per_thread`` calls drawn from
   ``operations`` (threads are interchangeable), a seeded sample of them when there are more
   than ``max_scenarios``, or, when an argument is a hypothesis strategy, up to
   ``max_scenarios`` scenarios drawn by hypothesis;
2. each scenario is a scenario factory (:class:`_Program`): ``make()`` builds the object, each
   thread makes its calls between two marks (``_history`` says what is atomic), and ``check()``
   checks the history of the execution against the model; it is explored with
   ``interleave.explore`` (the default strategy, dpor);
3. ``check()`` also checks every real-time order the execution's independent steps allow
   (``_history.maximal_histories``). One that fails is a *candidate*: after the exploration,
   the steps are replayed in that order (``_history.realize``), and only when that execution's
   own history fails too is it a finding. A candidate whose replay differs (other steps, or
   other results) shows state interleave cannot see, and is reported as a health warning, never
   as a finding: every ``not-linearizable`` finding is the history of a real execution, shown
   as it ran;
4. the first scenario with a finding is shrunk (fewest calls that still fail: greedily, or by
   hypothesis), explored again with minimisation, and each finding gets an ID that holds the
   scenario and the schedule (``L1-<scenario>.<schedule ID>``).

The result is an :class:`~interleave.ExploreResult` (a :class:`LinearizabilityResult`): it is
``proved`` only when every scenario was enumerated and every one explored exhaustively.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import time
import warnings
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .._api import Scenario, explore, replay
from .._core import _context
from .._core._findings import CallRecord, Finding, InvariantViolation, NotLinearizable
from .._core._ops import Operation
from .._core._runtime import Runtime
from .._core._schedule import ExecutionOptions, Schedule, encode
from .._core._trace import Trace
from .._engine._explorer import Statistics
from .._engine._settings import ExitReason, ExploreSettings, HealthCheck, parse_health_checks
from .._health import _user_stacklevel
from .._results import ExploreResult, RunResult
from ..errors import (
    FailedHealthCheck,
    HealthCheckWarning,
    InvalidArgument,
    ScenarioError,
    ScheduleDivergence,
)
from ..instrument._project import scenario_project
from ..instrument._shared import point
from ._checker import (
    Analysis,
    HistoryCall,
    Outcome,
    Spec,
    check_history,
    display_name,
    freeze,
    short_repr,
)
from ._history import (
    Poset,
    Span,
    call_poset,
    direct_before,
    happens_before,
    maximal_histories,
    realize,
)
from ._scenarios import (
    ScenarioCalls,
    all_scenarios,
    count_scenarios,
    decode_id,
    encode_id,
    hypothesis_search,
    parse_operations,
    sample_scenarios,
    shrink,
)

__all__ = ["LinearizabilityResult", "check_linearizable", "replay_linearizable"]

_CACHE_LIMIT = 100_000
#: Failing reorderings kept (and replayed) per scenario: each costs one execution to confirm.
_MAX_CANDIDATES = 20


# ------------------------------------------------------------------ one execution
@dataclass(frozen=True, slots=True)
class _Failure:
    """A history that no order explains: the execution's own (``clocks`` empty), or that of a
    reordering of its independent steps (a candidate, with what is needed to replay it)."""

    spans: tuple[Span, ...]
    before: tuple[int, ...]
    analysis: Analysis
    choices: tuple[int, ...] = ()
    ops: tuple[Operation, ...] = ()
    clocks: list[list[int]] = field(default_factory=list)
    key: Hashable | None = None


class _Execution:
    """What one execution recorded: its runtime, its calls and, after check(), the failure."""

    __slots__ = ("failure", "rt", "spans")

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.spans: list[Span] = []
        self.failure: _Failure | None = None


def _snapshot(value: object) -> object:
    # A result the object keeps changing (an internal list) must be compared as returned.
    if isinstance(value, str | int | float | bytes | bool | type(None)):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


#: A call ready to run: method, arguments, the label of its mark, its name for the model.
_PreparedCall = tuple[str, tuple[Any, ...], str, str]


def _call_label(method: str, args: tuple[Any, ...]) -> str:
    inner = ", ".join(short_repr(a, 20) for a in args)
    return f"call {method}({inner})"


def _run_calls(
    execution: _Execution, obj: object, thread: int, calls: tuple[_PreparedCall, ...]
) -> None:
    """A thread of a scenario: its calls, each between an invocation and a response mark."""
    rt = execution.rt
    for method, args, label, name in calls:
        bound = getattr(obj, method)
        point(label)
        invoked = len(rt.choices) - 1
        try:
            outcome = Outcome(False, _snapshot(bound(*args)))
        except Exception as exc:
            outcome = Outcome(True, exc)
        point(outcome.describe(30))
        execution.spans.append(
            Span(HistoryCall(thread, method, args, outcome, name), invoked, len(rt.choices) - 1)
        )


def _calls_key(calls: Sequence[HistoryCall]) -> Hashable | None:
    try:
        return tuple(
            (
                c.thread,
                c.name,
                (True, type(c.outcome.value)) if c.outcome.raised else freeze(c.outcome.value),
            )
            for c in calls
        )
    except Exception:
        return None


class _Checker:
    """The ``check()`` of every execution of a run: its histories against the model.

    Counts what the benchmark and the health checks need: histories checked (and searched:
    not answered from the cache), seconds spent, calls, and calls that took a step of their own.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.histories = 0
        self.searched = 0
        self.seconds = 0.0
        self.calls = 0
        self.calls_with_steps = 0
        self._cache: dict[tuple[Hashable, tuple[int, ...]], Analysis] = {}
        self._orders: dict[Poset, list[tuple[int, ...]]] = {}
        #: (calls, poset) pairs whose every order was explained: the same again is too.
        self._clean: set[tuple[Hashable, Poset]] = set()

    def check(
        self, rt: Runtime, recorded: Sequence[Span]
    ) -> tuple[_Failure | None, _Failure | None]:
        """The execution's own failing history, else a failing reordering (a candidate)."""
        start = time.perf_counter()
        try:
            return self._check(rt, recorded)
        finally:
            self.seconds += time.perf_counter() - start

    def _check(
        self, rt: Runtime, recorded: Sequence[Span]
    ) -> tuple[_Failure | None, _Failure | None]:
        spans = tuple(sorted(recorded, key=lambda s: (s.call.thread, s.invoked)))
        calls = tuple(s.call for s in spans)
        key = _calls_key(calls)
        choices = rt.choices
        self.calls += len(spans)
        for s in spans:
            t = s.call.thread
            if any(choices[k] == t for k in range(s.invoked + 1, s.returned)):
                self.calls_with_steps += 1
        direct = direct_before(spans)
        analysis = self._verdict(calls, key, direct)
        if not analysis.ok:
            return _Failure(spans, direct, analysis), None
        clocks = happens_before(choices, rt.ops, [t.created_at for t in rt.threads])
        poset = call_poset(choices, clocks, spans)
        if key is not None and (key, poset) in self._clean:
            return None, None
        histories = self._orders.get(poset)
        if histories is None:
            if len(self._orders) >= _CACHE_LIMIT:
                self._orders.clear()
            histories = self._orders[poset] = maximal_histories(poset)
        for before in histories:
            if before == direct:
                continue
            analysis = self._verdict(calls, key, before)
            if not analysis.ok:
                candidate = _Failure(
                    spans,
                    before,
                    analysis,
                    tuple(choices),
                    tuple(rt.ops),
                    clocks,
                    None if key is None else (key, before),
                )
                return None, candidate
        if key is not None:
            if len(self._clean) >= _CACHE_LIMIT:
                self._clean.clear()
            self._clean.add((key, poset))
        return None, None

    def _verdict(
        self, calls: tuple[HistoryCall, ...], key: Hashable | None, before: tuple[int, ...]
    ) -> Analysis:
        self.histories += 1
        if key is not None:
            known = self._cache.get((key, before))
            if known is not None:
                return known
        self.searched += 1
        analysis = check_history(self.spec, calls, before)
        if key is not None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[(key, before)] = analysis
        return analysis


class _Program:
    """The scenario factory of one scenario (a callable object: ``explore(program)``)."""

    def __init__(
        self, make: Callable[[], object], scenario: ScenarioCalls, checker: _Checker, name: str
    ) -> None:
        self.make = make
        self.scenario = scenario
        self.checker = checker
        self.name = name
        self.last: _Execution | None = None
        self.prepared = tuple(
            tuple((m, a, _call_label(m, a), f"{m}{a!r}") for m, a in thread) for thread in scenario
        )
        #: Failing reorderings seen, one per distinct history (in the order first seen), and
        #: how many executions showed each.
        self.candidates: dict[Hashable, _Failure] = {}
        self.seen: dict[Hashable, int] = {}

    def __call__(self) -> Scenario:
        rt = _context.building()
        if rt is None:
            raise ScenarioError("a check_linearizable scenario runs only inside interleave")
        obj = self.make()
        for thread in self.scenario:
            for method, _ in thread:
                if not callable(getattr(obj, method, None)):
                    raise ScenarioError(
                        f"make() returned {type(obj).__name__!s}, which has no method "
                        f"{method!r} (operations= calls it); make() must build the object "
                        "under test"
                    )
        execution = self.last = _Execution(rt)
        threads = {
            f"t{i + 1}": functools.partial(_run_calls, execution, obj, i, calls)
            for i, calls in enumerate(self.prepared)
        }
        return Scenario(
            threads=threads, check=functools.partial(self._check, execution), name=self.name
        )

    def _check(self, execution: _Execution) -> bool:
        execution.failure, candidate = self.checker.check(execution.rt, execution.spans)
        if candidate is not None:
            key = candidate.key if candidate.key is not None else len(self.seen)
            self.seen[key] = self.seen.get(key, 0) + 1
            if key not in self.candidates and len(self.candidates) < _MAX_CANDIDATES:
                self.candidates[key] = candidate
        return execution.failure is None


# ------------------------------------------------------------------ findings
def _describe(call: HistoryCall) -> str:
    return f"t{call.thread + 1} {call.describe(20)}"


def _message(failure: _Failure, model: str) -> str:
    analysis = failure.analysis
    spans = failure.spans
    count = len(analysis.checked)
    where = f" on key {short_repr(analysis.key)}" if analysis.partitioned else ""
    head = (
        f"the results of {count} calls{where} cannot come from any sequential order of them "
        f"that keeps real time (a call after every call that returned before it was invoked) "
        f"under {model}."
    )
    misses = "; ".join(
        f"{_describe(spans[i].call)} {spans[i].call.outcome.describe(60)} where {model} "
        f"{got.as_model(60)}"
        for i, got in analysis.stuck
    )
    if analysis.order:
        steps = ", ".join(
            f"{_describe(spans[i].call)} {spans[i].call.outcome.describe(60)}"
            for i in analysis.order
        )
        return f"{head} The longest order that explains its calls is {steps}; after it, {misses}."
    return f"{head} Whichever call comes first: {misses}."


def _finding(failure: _Failure, trace: Trace, lin_id: str, model: str) -> NotLinearizable:
    spans = failure.spans
    names = trace.thread_names
    analysis = failure.analysis
    calls = tuple(
        CallRecord(
            thread=names[s.call.thread],
            method=s.call.method,
            args=s.call.args,
            result=s.call.outcome.value,
            raised=s.call.outcome.raised,
            invoked=s.invoked,
            returned=s.returned,
        )
        for s in spans
    )
    after = tuple(
        (a, b)
        for b, mask in enumerate(failure.before)
        for a in range(len(spans))
        if mask >> a & 1 and spans[a].call.thread != spans[b].call.thread
    )
    return NotLinearizable(
        message=_message(failure, model),
        threads=tuple(dict.fromkeys(names[spans[i].call.thread] for i in analysis.checked)),
        steps=tuple(sorted(spans[i].returned for i, _ in analysis.stuck)),
        schedule_id=lin_id,
        trace=trace,
        signature=("not-linearizable",),
        model=model,
        calls=calls,
        after=after,
        checked=analysis.checked,
        key=short_repr(analysis.key, 60) if analysis.partitioned else None,
        order=analysis.order,
        stuck=tuple((i, got.as_model(200)) for i, got in analysis.stuck),
    )


#: Finding kinds a linearizability check does not report: it judges the object by its results,
#: and the lost-update detector flags a read-then-write race whatever the values (two callers
#: that both cache the same value). A race that changes a result is a not-linearizable finding.
_NOT_REPORTED = frozenset({"lost-update"})


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


# ------------------------------------------------------------------ validation and names
def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an int (got {type(value).__name__})")
    if value < 1:
        raise InvalidArgument(f"{name}={value!r} must be at least 1")
    return value


def _check_callables(make: object, model: object) -> None:
    if not callable(make):
        raise InvalidArgument(
            f"make={make!r} must be a callable that builds the object under test (called once "
            "per execution), e.g. make=MyCache or make=lambda: MyCache(size=2)"
        )
    if not callable(model):
        raise InvalidArgument(
            f"model={model!r} must be the model class (a fresh model is made for every "
            f"history), not an instance: pass {type(model).__name__}, not "
            f"{type(model).__name__}()"
        )


def _roots(make: object, project: object) -> list[str]:
    # The scenario factories are interleave's own, so the project is where make() lives.
    return list(scenario_project(make, project).roots)


def check_linearizable(
    make: Callable[[], object],
    model: Callable[[], object],
    operations: Iterable[str | tuple[str, tuple[Any, ...]]],
    *,
    threads: int = 2,
    calls_per_thread: int = 2,
    max_scenarios: int = 200,
    seed: int = 0,
    max_schedules: int = 10_000,
    max_steps: int = 10_000,
    timeout: float | None = None,
    patch_threading: bool = True,
    patch_sqlite: bool = True,
    trace_attributes: bool = False,
    watchdog: float | None = None,
    project: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    suppress_health_check: Iterable[HealthCheck | str] = (),
    fail_health_check: Iterable[HealthCheck | str] = (),
) -> LinearizabilityResult:
    """Check that every concurrent history of an object is explained by its sequential model.

    Each scenario runs ``threads`` threads, each making up to ``calls_per_thread`` calls from
    ``operations`` on one object that ``make()`` builds for every execution. Every interleaving
    of each scenario is explored (strategy ``dpor``), each call's invocation and response are
    recorded as steps, and each history is checked against ``model``: some order of the calls
    that keeps real time (a call comes after every call that returned before it was invoked)
    must give, run one by one on a fresh model, the result each call had (returned values are
    compared with ``==``, raised exceptions by type). A history that has none is a
    ``not-linearizable`` finding.

    Args:
        make: builds the object under test; called once per execution, in the execution, so
            the object's locks and shared values are scheduled.
        model: the sequential specification: a class with the same methods, made with no
            arguments for every history; its state is its attributes (compared by value,
            copied with ``copy.deepcopy``). If it defines ``partition_key(method, args)``,
            calls with different keys are checked apart (see ``interleave.models.CacheModel``;
            None means the call touches everything).
        operations: the calls to try: a method name (no arguments) or a ``(method, args)``
            pair; each argument is a literal value (a schedule ID records it) or a hypothesis
            strategy (hypothesis then draws the scenarios and shrinks a failing one).
        threads: threads per scenario.
        calls_per_thread: calls per thread.
        max_scenarios: with fixed arguments, every scenario runs when there are at most this
            many (a proof), else a seeded sample of this many; with strategies, how many
            scenarios hypothesis draws.
        seed: the seed of the sample and of hypothesis (runs repeat exactly).
        max_schedules: the budget of each scenario's exploration.
        max_steps: as for :func:`interleave.explore`.
        timeout: seconds for the whole check (the report says when it stopped there).
        patch_threading: as for :func:`interleave.explore` (``threading.Lock`` in the object
            is scheduled).
        patch_sqlite: as for :func:`interleave.explore`.
        trace_attributes: as for :func:`interleave.explore` (plain attributes of the object
            become steps).
        watchdog: as for :func:`interleave.explore`.
        project: as for :func:`interleave.explore`; the module of ``make`` is project code.
        suppress_health_check: checks not to run (:class:`HealthCheck`): ``single_step``
            warns when no call took a step of its own (interleave saw none of the object's
            state), or when an order of an execution's independent steps ran differently when
            replayed (state interleave cannot see), ``single_schedule`` when no scenario had
            two schedules, ``single_thread``
            for ``threads=1``, ``nothing_traced`` and ``watched_class_untraced`` as for
            :func:`interleave.explore` (when every scenario failed them).
        fail_health_check: checks that raise :class:`~interleave.errors.FailedHealthCheck`.

    Returns:
        A :class:`LinearizabilityResult` (an :class:`ExploreResult`): ``ok``, ``findings``
        (``not-linearizable`` and any other finding, of the first failing scenario, shrunk;
        not ``lost-update``: the results are the judge here),
        ``verdict`` (``proved`` only when every scenario was explored exhaustively),
        ``report()``. Each finding's ID replays with :func:`replay_linearizable`.

    Example::

        class CounterModel:
            def __init__(self):
                self.value = 0
            def increment(self):
                self.value += 1
                return self.value

        result = interleave.check_linearizable(LockedCounter, CounterModel, ["increment"])
        assert result.ok and result.verdict == "proved"
    """
    _check_callables(make, model)
    threads = _positive("threads", threads)
    calls = _positive("calls_per_thread", calls_per_thread)
    max_scenarios = _positive("max_scenarios", max_scenarios)
    _positive("max_schedules", max_schedules)
    _positive("max_steps", max_steps)
    for flag, value in (
        ("patch_threading", patch_threading),
        ("patch_sqlite", patch_sqlite),
        ("trace_attributes", trace_attributes),
    ):
        if not isinstance(value, bool):
            raise InvalidArgument(f"{flag}={value!r} must be True or False")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidArgument(f"seed={seed!r} must be an int")
    suppress = parse_health_checks("suppress_health_check", suppress_health_check)
    fail = parse_health_checks("fail_health_check", fail_health_check)
    templates = parse_operations(operations, lambda name: callable(getattr(model, name, None)))
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or math.isnan(timeout)
        or not timeout > 0
    ):
        raise InvalidArgument(f"timeout={timeout!r} must be a number of seconds > 0, or None")
    start = time.perf_counter()
    make_name = display_name(make, "make")
    spec = Spec(model)
    name = f"check_linearizable({make_name}, {spec.name})"
    runner = _Runner(
        make,
        spec,
        name,
        explore_options={
            "max_schedules": max_schedules,
            "max_steps": max_steps,
            "patch_threading": patch_threading,
            "patch_sqlite": patch_sqlite,
            "trace_attributes": trace_attributes,
        },
        watchdog=watchdog,
        roots=_roots(make, project),
        deadline=None if timeout is None else time.monotonic() + timeout,
    )
    failing: ScenarioCalls | None = None
    total: int | None = None
    if any(t.drawn for t in templates):
        generation = "hypothesis"
        failing = hypothesis_search(
            templates, threads, calls, max_scenarios=max_scenarios, seed=seed, fails=runner.fails
        )
    else:
        total = count_scenarios(len(templates), threads, calls)
        generation = "every" if total <= max_scenarios else "sample"
        scenarios = (
            all_scenarios(templates, threads, calls)
            if generation == "every"
            else iter(sample_scenarios(templates, threads, calls, max_scenarios, seed))
        )
        for scenario in scenarios:
            if runner.fails(scenario):
                failing = scenario
                break
            if runner.timed_out:
                break
        if failing is not None and not runner.timed_out:
            failing = shrink(failing, runner.fails)
    findings: tuple[Finding, ...] = ()
    occurrences: tuple[int, ...] = ()
    if failing is not None:
        findings, occurrences = runner.findings(failing)
    stopped = _stopped(runner, failing, generation)
    result = LinearizabilityResult(
        scenario=name,
        strategy=_strategy_text(generation, threads, calls, len(templates)),
        findings=findings,
        occurrences=occurrences,
        schedules_run=runner.schedules,
        exhausted=stopped is ExitReason.EXHAUSTED,
        stopped_because=stopped,
        elapsed=time.perf_counter() - start,
        statistics=Statistics(
            executions=runner.executions,
            steps=runner.steps,
            max_depth=runner.depth,
            pruned=runner.pruned,
            threads=runner.max_threads,
            phases={"explore": runner.seconds, "check": runner.checker.seconds},
            phase_executions={"explore": runner.executions},
        ),
        settings=ExploreSettings(max_schedules=max_schedules, max_steps=max_steps),
        target=None,
        make=make_name,
        model=display_name(model, "model"),
        threads=threads,
        calls_per_thread=calls,
        operations=len(templates),
        generation=generation,
        scenarios_run=len(runner.probes),
        scenarios_total=total,
        failing_scenario=failing,
        histories_checked=runner.checker.histories,
        histories_searched=runner.checker.searched,
        check_seconds=runner.checker.seconds,
    )
    if result.ok:
        _health(result, runner, threads, suppress, fail)
    return result


def _stopped(runner: _Runner, failing: ScenarioCalls | None, generation: str) -> ExitReason:
    if runner.timed_out:
        return ExitReason.TIMEOUT
    if failing is not None:
        return ExitReason.FIRST_FINDING
    if runner.incomplete is not None:
        return ExitReason(runner.incomplete)
    if generation != "every":
        return ExitReason.SCENARIOS_SAMPLED
    return ExitReason.EXHAUSTED


def _strategy_text(generation: str, threads: int, calls: int, operations: int) -> str:
    shape = f"{threads} threads x {calls} calls of {operations} operations"
    what = {
        "every": "every scenario",
        "sample": "a seeded sample of the scenarios",
        "hypothesis": "scenarios drawn by hypothesis, up to",
    }[generation]
    return f"dpor on {what} {shape}"


# ------------------------------------------------------------------ health checks
_VISIBLE = (
    "interleave.Shared/Cache/Lock and "
    "the other primitives, trace_attributes=True or watch() for plain attributes, "
    "patch_threading (on by default) for threading code, point() for anything else"
)


def _health(
    result: LinearizabilityResult,
    runner: _Runner,
    threads: int,
    suppress: frozenset[HealthCheck],
    fail: frozenset[HealthCheck],
) -> None:
    name = result.scenario
    clean = runner.clean
    everywhere = {check for check, n in runner.health.items() if clean and n == clean}
    found: list[tuple[HealthCheck, str]] = []
    if HealthCheck.nothing_traced in everywhere:
        found.append(
            (
                HealthCheck.nothing_traced,
                f"{name}: trace_attributes=True traced no attribute access in any scenario: "
                "the object's plain attributes are invisible, so races on them cannot show. "
                "If its class lives outside the project (an installed package), name it with "
                "project=[...], or watch() the class; else drop trace_attributes=True.",
            )
        )
    if HealthCheck.watched_class_untraced in everywhere:
        found.append(
            (
                HealthCheck.watched_class_untraced,
                f"{name}: objects of a watched class took part in every scenario, but none of "
                "their attribute accesses was traced (see explore()'s health check of the same "
                "name).",
            )
        )
    interleaving: tuple[HealthCheck, str] | None = None
    if threads == 1:
        interleaving = (
            HealthCheck.single_thread,
            f"{name}: threads=1: no call ever ran concurrently with another, so this only "
            "checks the object against the model sequentially. Use threads=2 or more.",
        )
    elif runner.checker.calls and not runner.checker.calls_with_steps:
        interleaving = (
            HealthCheck.single_step,
            f"{name}: no call took a step of its own in {result.statistics.executions:,} "
            "execution(s): interleave saw none of the object's shared state, so every call ran "
            "as one atomic step and the check says nothing about concurrency. Make the object's "
            f"shared state visible to interleave: {_VISIBLE}.",
        )
    elif HealthCheck.single_schedule in everywhere:
        interleaving = (
            HealthCheck.single_schedule,
            f"{name}: in every scenario every execution followed the same schedule: the calls "
            "never touched a common resource in a way that makes their order matter. If they "
            f"share state interleave cannot see, make it visible: {_VISIBLE}.",
        )
    if runner.unconfirmed and (
        interleaving is None or interleaving[0] is HealthCheck.single_schedule
    ):
        interleaving = (
            HealthCheck.single_step,
            f"{name}: {runner.unconfirmed:,} history(ies) that another order of an execution's "
            "independent steps would give failed the check, but replaying the steps in that "
            "order ran other operations or gave other results: the object shares state "
            "interleave cannot see (plain attributes without trace_attributes=True, say), so "
            "steps it calls independent are not, and some interleavings were never explored. "
            f"Nothing was reported for those histories. Make that state visible: {_VISIBLE}.",
        )
    if interleaving is not None and (not found or interleaving[0] is HealthCheck.single_thread):
        found.append(interleaving)
    failed: list[tuple[HealthCheck, str]] = []
    for check, text in found:
        if check in suppress:
            continue
        message = f"{text} [health check {check!r}: suppress_health_check=[{check!r}] silences it]"
        if check in fail:
            failed.append((check, message))
        else:
            warnings.warn(HealthCheckWarning(message, check), stacklevel=_user_stacklevel())
    if failed:
        raise FailedHealthCheck(
            "\n".join(message for _, message in failed),
            checks=tuple(check for check, _ in failed),
            result=result,
        )


# ------------------------------------------------------------------ replay
def replay_linearizable(
    make: Callable[[], object],
    model: Callable[[], object],
    schedule_id: str,
    *,
    watchdog: float | None = None,
    project: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
) -> RunResult:
    """Run one execution of a :func:`check_linearizable` finding again, from its ID.

    The ID (``L1-...``) holds the scenario (each thread's calls) and the schedule; the
    options that shaped the execution are recorded in it too. The history of the execution is
    checked against ``model`` as during the check.

    Args:
        make: the same object builder as for the check.
        model: the same model.
        schedule_id: the ID from the report (``finding.schedule_id``).
        watchdog: as for :func:`interleave.replay`.
        project: as for :func:`interleave.replay` (give the value the check ran with when it
            was not the default).

    Raises:
        InvalidScheduleId: the ID is malformed, damaged, or a plain schedule ID.
        ScheduleDivergence: the run could not follow the schedule (``make`` or the object
            changed, or they are not deterministic).

    Example::

        run = interleave.replay_linearizable(StaleCounter, CounterModel, finding.schedule_id)
        assert run.findings[0].kind == "not-linearizable"
        print(run.report())
    """
    _check_callables(make, model)
    scenario, inner = decode_id(schedule_id)
    for thread in scenario:
        for method, _ in thread:
            if not callable(getattr(model, method, None)):
                raise InvalidArgument(
                    f"the scenario of {schedule_id.strip()[:40]!r}... calls {method!r}, which "
                    f"the model {display_name(model, 'model')} does not have: pass the model "
                    "the check ran with"
                )
    spec = Spec(model)
    name = f"check_linearizable({display_name(make, 'make')}, {spec.name})"
    program = _Program(make, scenario, _Checker(spec), name)
    run = replay(program, inner, watchdog=watchdog, project=_roots(make, project) or None)
    lin_id = schedule_id.strip()
    return RunResult(
        scenario=name,
        schedule_id=lin_id,
        trace=run.trace,
        findings=_convert(run.findings, program, spec.name, lin_id, run.trace),
    )
