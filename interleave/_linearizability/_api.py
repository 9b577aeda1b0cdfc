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

import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .._api import replay
from .._core._findings import Finding
from .._engine._exploration import Statistics
from .._engine._settings import ExitReason, ExploreSettings, HealthCheck, parse_health_checks
from .._health import _user_stacklevel
from .._results import RunResult
from ..errors import (
    FailedHealthCheck,
    HealthCheckWarning,
    InvalidArgument,
)
from ..instrument._project import scenario_project
from ._checker import (
    Spec,
    display_name,
)
from ._program import (
    _Checker,
    _Program,
)
from ._results import (
    LinearizabilityResult,
    _convert,
)
from ._runner import (
    _Runner,
)
from ._scenarios import (
    ScenarioCalls,
    all_scenarios,
    count_scenarios,
    decode_id,
    hypothesis_search,
    parse_operations,
    sample_scenarios,
    shrink,
)

__all__ = ["LinearizabilityResult", "check_linearizable", "replay_linearizable"]


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
