"""The public entry points: ``Scenario``, ``explore()`` and ``replay()``.

Arguments are validated here, up front, before any execution runs.
"""

from __future__ import annotations

import bdb
import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import replace

from ._contrast import closest_passing_phase
from ._core import _debugger, _interrupts, _watchdog
from ._core._findings import DataRace, Finding
from ._core._replay import ScheduleChooser
from ._core._schedule import ExecutionOptions, decode
from ._engine._database import ScheduleDatabase
from ._engine._dpor import DporStrategy
from ._engine._exploration import Exploration
from ._engine._explorer import explore_program
from ._engine._run import run_once
from ._engine._settings import (
    EXHAUSTIVE_STRATEGIES,
    STRATEGIES,
    ExitReason,
    ExploreSettings,
    HealthCheck,
)
from ._engine._strategies import (
    DfsStrategy,
    IterativeBound,
    PctStrategy,
    RandomStrategy,
    Strategy,
)
from ._execution import contexts as _contexts
from ._execution import detectors_for as _detectors_for
from ._execution import detectors_without_races as _detectors_without_races
from ._execution import exploration_scope
from ._execution import watchdog_limit as _watchdog_limit
from ._health import HealthMonitor, run_health_checks
from ._progress import ProgressCallback, Reporter, check_progress, reporter
from ._results import ExploreResult, Interrupted, RunResult
from ._scenario import Scenario, builder, check_factory, factory_name, factory_target
from ._worker import Pool
from .errors import InvalidArgument, ScheduleDivergence
from .instrument._project import scenario_project

__all__ = [
    "EXHAUSTIVE_STRATEGIES",
    "STRATEGIES",
    "Scenario",
    "explore",
    "replay",
    "run_exploration",
]


def _races_after(findings: Sequence[Finding]) -> list[int]:
    """The order of ``findings`` with the data races after the others (stable otherwise):
    the first schedule of a racy program usually shows a race already, but the lost update or
    the failed check it leads to is what a reader should see first."""
    return sorted(range(len(findings)), key=lambda i: findings[i].kind == DataRace.kind)


def _races_last(raw: Exploration) -> Exploration:
    """``raw`` with its findings in the order of :func:`_races_after`."""
    order = _races_after(raw.findings)
    if order == sorted(order):
        return raw
    return replace(
        raw,
        findings=tuple(raw.findings[i] for i in order),
        occurrences=tuple(raw.occurrences[i] for i in order),
    )


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an int (got {type(value).__name__})")
    if value < 1:
        raise InvalidArgument(f"{name}={value!r} must be at least 1")
    return value


def _make_strategy(
    strategy: str, seed: int | None, preemption_bound: int | str | None, depth: int
) -> Strategy:
    if strategy == "random":
        return RandomStrategy(0 if seed is None else seed)
    if strategy == "pct":
        return PctStrategy(0 if seed is None else seed, depth)
    make: Callable[[int | None], Strategy] = DporStrategy if strategy == "dpor" else DfsStrategy
    if preemption_bound == "iterative":
        return IterativeBound(make)
    assert preemption_bound is None or isinstance(preemption_bound, int)
    return make(preemption_bound)


def explore(
    scenario: Callable[[], object],
    *,
    max_schedules: int = 10_000,
    strategy: str = "dpor",
    seed: int | None = None,
    preemption_bound: int | str | None = None,
    depth: int = 3,
    minimise: bool = True,
    max_steps: int = 10_000,
    timeout: float | None = None,
    stop_on_first: bool = False,
    patch_threading: bool = True,
    patch_sqlite: bool = True,
    trace_attributes: bool = False,
    cancellation: bool = False,
    detect_data_races: bool = True,
    watchdog: float | None = None,
    project: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    suppress_health_check: Iterable[HealthCheck | str] = (),
    fail_health_check: Iterable[HealthCheck | str] = (),
    workers: int = 1,
    progress: ProgressCallback | None = None,
    settings: ExploreSettings | None = None,
    database: ScheduleDatabase | None = None,
    database_key: str | None = None,
    executor: Executor | None = None,
) -> ExploreResult:
    """Run ``scenario`` under many interleavings and report what went wrong.

    Args:
        scenario: a factory called once per execution; it builds fresh shared state and
            returns a :class:`Scenario` (or a list of thread callables).
        max_schedules: stop after this many executions (the report says so).
        strategy: ``"dpor"`` (exhaustive with partial-order reduction: one execution per
            class of equivalent interleavings), ``"dfs"`` (every interleaving), ``"random"``
            or ``"pct"`` (probabilistic concurrency testing); the last two are seeded.
        seed: the seed of ``"random"`` and ``"pct"`` (default 0, so runs repeat exactly).
        preemption_bound: for ``"dfs"``/``"dpor"``: explore only schedules with at most this
            many preemptions (CHESS), or ``"iterative"`` for bounds 0, 1, 2 … until one covers
            everything. A bound makes the search incomplete; the result says which bound was
            covered.
        depth: the bug depth ``"pct"`` targets (d - 1 priority change points).
        minimise: replace each finding by the simplest schedule that shows it (fewest
            preemptions, then fewest steps).
        max_steps: steps one thread may take in one execution before it is reported as a
            ``step-limit`` finding (a spin loop, most likely).
        timeout: stop after this many seconds (the report says so), also inside a long
            execution (the clock is read every 1,000 steps; the unfinished execution is
            dropped, the findings found so far are kept).
        stop_on_first: stop at the first execution with a finding.
        patch_threading: run unmodified ``threading``/``queue``/``time.sleep`` code under the
            scheduler (see the threading guide).
        patch_sqlite: inside each execution, ``sqlite3.connect`` returns scheduled
            connections (every statement a yield point), so unmodified database code is
            explored (see the SQLite guide).
        trace_attributes: make reads and writes of the attributes of the project's classes
            yield points (see ``project``).
        cancellation: asyncio scenarios: also explore each task being cancelled at each of
            its suspension points (``await``), one cancellation per execution, so that cleanup
            missing on cancellation is found (see the asyncio guide). Recorded in the IDs.
        detect_data_races: report ``data-race`` findings: two accesses to the same
            ``Shared``/``Counter``/``Cache`` data or traced attribute, one of them a write,
            that no synchronisation orders (no lock, join, event …), even when the values
            came out right (see the concepts page). ``Shared(..., racy=True)`` exempts one
            variable; False turns the detector off.
        watchdog: seconds an execution may go without reaching a yield point (in a thread,
            the scenario factory, ``check()`` or ``teardown()``) before the exploration is
            ended with ``BlockedOutsideScheduler`` (a blocking call interleave cannot see);
            ``0`` turns it off; ``None`` (default) keeps the ambient setting
            (``INTERLEAVE_WATCHDOG``, else 10 s). See the threading guide for what it can
            interrupt.
        project: packages (dotted names) or paths that are project code besides the default:
            the scenario factory's module and its top-level package, and everything outside
            the standard library, installed distributions and interleave. Only project code's
            attribute accesses are traced, and only project modules' locks are swapped for
            scheduled ones. Replay with the same value.
        suppress_health_check: :class:`HealthCheck` members (or names) not to run.
        fail_health_check: :class:`HealthCheck` members (or names, ``"all"``) that raise
            :class:`~interleave.errors.FailedHealthCheck` instead of warning.
        workers: run the exploration in this many processes on this machine (spawned, each
            importing the scenario by its ``module:qualname`` name). The answer is the one
            process gives: ``dfs`` runs exactly the same executions and keeps the same
            findings and IDs; so does ``dpor`` (one execution per class, the same ones),
            beside a few percent of work run ahead and dropped; ``random``/``pct`` split
            their budget into chunks seeded from ``seed``, so the sample depends on the seed
            alone, not on ``workers``.
        progress: called about twice a second (after the first second) with a
            :class:`Progress`: executions so far, findings, elapsed seconds, rate, and the
            total the exploration is heading for (for dpor and dfs an estimate, made by a
            quarter of a second of random probes at the first call; see
            :func:`estimate`). A function of three arguments gets the older
            ``(executions, findings, seconds)``.
        settings: an :class:`ExploreSettings` holding the options above (for programs that
            pass them around); a keyword given with a value other than its default overrides
            the same option of ``settings``.
        database: a :class:`ScheduleDatabase`: its failing schedules saved for this scenario
            by earlier runs are replayed first (a failure that still shows stops the
            exploration there: ``stopped_because="reproduced"``), and the failures found are
            saved. ``None`` (default): no database.
        database_key: the key of this scenario in ``database`` (default: its
            ``module:factory`` name).
        executor: a ``concurrent.futures.Executor`` to run the exploration's tasks on instead
            of a process pool of ``workers`` (a Dask cluster's
            ``distributed.Client(...).get_executor()``, say); its workers must be able to
            import the scenario. A task whose worker dies is submitted again
            (``statistics.retried``). Not with ``workers`` above 1 (``InvalidArgument``).

    Returns:
        An :class:`ExploreResult`: ``ok``, ``findings`` (distinct), ``exhausted`` (every
        schedule was covered: a proof over the instrumented operations), ``report()``.

    Warns:
        HealthCheckWarning: the exploration found nothing but proved less than it seems (a
            single thread, nothing traced …; see :class:`HealthCheck`).

    Raises:
        Interrupted: Ctrl-C (a ``KeyboardInterrupt``) stopped the exploration; its ``result``
            is the partial :class:`ExploreResult` (the findings found so far, stopped because
            ``"interrupted"``). Everything the exploration set up is undone first.

    Example::

        result = interleave.explore(lost_update, max_schedules=1000)
        assert not result.ok
        print(result.report())
    """
    check_factory(scenario)
    given = {
        "max_schedules": max_schedules,
        "strategy": strategy,
        "seed": seed,
        "preemption_bound": preemption_bound,
        "depth": depth,
        "minimise": minimise,
        "max_steps": max_steps,
        "timeout": timeout,
        "stop_on_first": stop_on_first,
        "patch_threading": patch_threading,
        "patch_sqlite": patch_sqlite,
        "trace_attributes": trace_attributes,
        "cancellation": cancellation,
        "detect_data_races": detect_data_races,
        "watchdog": watchdog,
        "project": project,
        "suppress_health_check": suppress_health_check,
        "fail_health_check": fail_health_check,
        "workers": workers,
    }
    chosen_settings = _settings(settings, given)
    return run_exploration(
        scenario,
        chosen_settings,
        progress=progress,
        database=database,
        database_key=database_key,
        executor=executor,
    )


def _settings(base: ExploreSettings | None, given: dict[str, object]) -> ExploreSettings:
    """``base`` (or the defaults) with every keyword that differs from its default."""
    if base is None:
        return ExploreSettings(**given)  # type: ignore[arg-type]
    if not isinstance(base, ExploreSettings):
        raise InvalidArgument(f"settings={base!r} must be an interleave.ExploreSettings (or None)")
    defaults = ExploreSettings()
    changes = {name: value for name, value in given.items() if _differs(value, defaults, name)}
    return base.replace(**changes) if changes else base


def _differs(value: object, defaults: ExploreSettings, name: str) -> bool:
    default = getattr(defaults, name)
    if name in ("project", "suppress_health_check", "fail_health_check"):
        return value not in (None, ()) and value != default
    return value != default or type(value) is not type(default)


def run_exploration(
    scenario: Callable[[], object],
    settings: ExploreSettings,
    *,
    progress: ProgressCallback | None = None,
    database: ScheduleDatabase | None = None,
    database_key: str | None = None,
    target: str | None = None,
    executor: Executor | None = None,
) -> ExploreResult:
    """:func:`explore` with its options already made into ``settings`` (the CLI's and the
    pytest plugin's entry point). ``target`` names the scenario for ``interleave replay``
    when its ``module:factory`` name would not (a file the command line loaded)."""
    check_factory(scenario)
    if progress is not None:
        check_progress(progress)
    if database is not None and not isinstance(database, ScheduleDatabase):
        raise InvalidArgument(
            f"database={database!r} must be an interleave.ScheduleDatabase (for example "
            "interleave.DirectoryDatabase('.interleave')) or None"
        )
    scope_project = scenario_project(scenario, settings.project)
    limit = _watchdog_limit(settings.watchdog)
    chosen = _make_strategy(
        settings.strategy, settings.seed, settings.preemption_bound, settings.depth
    )
    target = target or factory_target(scenario)
    key = database_key or target or factory_name(scenario)
    pool = Pool(scenario, target, settings, executor)
    monitor = HealthMonitor()
    # Ctrl-C: the guard holds a SIGINT back while interleave's own code runs (entered first,
    # left last, so setting up and undoing the patches is never cut short).
    with _interrupts.guard() as interrupt, contextlib.ExitStack() as scope:
        scope.callback(pool.close)
        watch = scope.enter_context(_watchdog.guard(limit))
        scope.enter_context(exploration_scope(settings.patch_threading))
        options = settings.execution
        report = None
        if progress is not None:  # (the probes of its estimated total run like executions)
            build, probe_contexts = (
                builder(scenario, options),
                _contexts(watch, scope_project, options),
            )
            report = reporter(progress, settings, build, probe_contexts)
            pool.progress = report  # workers=: the same reports, from the merged counts
        raw = explore_program(
            builder(scenario, options),
            chosen,
            settings,
            detectors=_detectors_for(settings.detect_data_races),
            progress=report,
            contexts=_contexts(watch, scope_project, options, monitor),
            interrupted=interrupt.is_signalled,
            database=database,
            key=key if database is not None else None,
            parallel=pool.explore if pool.wanted else None,
        )
        raw = _races_last(raw)
        stopped = raw.stopped_because
        if isinstance(report, Reporter):
            report.finish(raw.schedules_run, len(raw.findings), raw.elapsed, raw.exhausted)
        # What changed: the closest passing schedule of each finding (with the minimise phase).
        closest, statistics, cut = closest_passing_phase(
            raw,
            settings,
            build=builder(scenario, options),
            # Every schedule of a racy program shows its race: passing means no other finding.
            detectors=_detectors_without_races,
            contexts=_contexts(watch, scope_project, options),
            interrupted=interrupt.is_signalled,
        )
        if cut:
            stopped = ExitReason.INTERRUPTED
        # Built while the guard holds SIGINT back: a Ctrl-C now cannot lose the result.
        if interrupt.signalled:
            stopped = ExitReason.INTERRUPTED
        result = ExploreResult(
            scenario=raw.scenario_name or factory_name(scenario),
            strategy=chosen.describe(),
            findings=raw.findings,
            occurrences=raw.occurrences,
            schedules_run=raw.schedules_run,
            exhausted=raw.exhausted and stopped is not ExitReason.INTERRUPTED,
            stopped_because=stopped,
            elapsed=raw.elapsed,
            statistics=statistics,
            settings=settings,
            target=target,
            reused=raw.reused,
            closest_passing=closest,
        )
    if interrupt.signalled and stopped is not ExitReason.INTERRUPTED:
        # Held back after the check above (building the result, undoing the scopes): the
        # guard is left now, so this is the last look; an interrupt is never dropped.
        stopped = ExitReason.INTERRUPTED
        result = replace(result, stopped_because=stopped, exhausted=False)
    if stopped is ExitReason.INTERRUPTED:
        raise Interrupted(result)
    run_health_checks(
        result,
        monitor,
        project=scope_project,
        trace_attributes=settings.trace_attributes,
        suppress=settings.suppress_health_check,
        fail=settings.fail_health_check,
    )
    return result


def _stop_before(step: object, steps: int, schedule_id: str) -> _debugger.StopBefore:
    """The observer of ``replay(breakpoint_at=step)``, once ``step`` is checked."""
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < steps:
        raise InvalidArgument(
            f"breakpoint_at={step!r} is not a step of {schedule_id}: its steps are numbered "
            f"0 to {steps - 1} (the step column of its report)"
        )
    return _debugger.StopBefore(step, schedule_id.strip())


def replay(
    scenario: Callable[[], object],
    schedule_id: str,
    *,
    max_steps: int | None = None,
    patch_threading: bool | None = None,
    patch_sqlite: bool | None = None,
    trace_attributes: bool | None = None,
    cancellation: bool | None = None,
    detect_data_races: bool = True,
    watchdog: float | None = None,
    project: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    breakpoint_at: int | None = None,
) -> RunResult:
    """Run ``scenario`` once, exactly as recorded in ``schedule_id``.

    The ID records the options that shaped the execution (``max_steps``,
    ``patch_threading``, ``patch_sqlite``, ``trace_attributes``): each keyword left at None
    takes the recorded value, so the line a report prints replays without them. Pass one only
    to replay under a different setting (IDs from interleave before format 2 record none:
    the defaults of ``explore()`` apply). The ID also records a fingerprint of every step's
    operation: a replay that runs a different operation stops there with
    ``ScheduleDivergence``.

    Args:
        scenario: the scenario factory, as for :func:`explore`.
        schedule_id: the ID from a report (``finding.schedule_id``).
        max_steps: the per-thread step limit (None: as recorded).
        patch_threading: as for :func:`explore` (None: as recorded).
        patch_sqlite: as for :func:`explore` (None: as recorded).
        trace_attributes: as for :func:`explore` (None: as recorded).
        cancellation: as for :func:`explore` (None: as recorded).
        detect_data_races: as for :func:`explore` (not recorded: it only watches).
        watchdog: as for :func:`explore` (not recorded: it does not shape the execution).
        project: as for :func:`explore` (not recorded: give the value the exploration ran
            with when it was not the default).
        breakpoint_at: stop in ``pdb`` just before this step (the ``step`` column of a
            report, from 0), in the thread that runs it, on the line of its code that is
            about to perform the step; the other threads wait at their own yield points.
            ``c`` runs the replay on, ``n`` and ``s`` step through the user's code (never
            interleave's), ``q`` stops the replay (``bdb.BdbQuit`` is raised). The watchdog
            is off: a debugging session may take its time.

    Raises:
        InvalidScheduleId: the ID is malformed or damaged (the message says how).
        ScheduleDivergence: the run could not follow the schedule, or ran other operations
            than the recorded ones: the scenario changed since the ID was recorded, or it is
            not deterministic.
        bdb.BdbQuit: ``q`` in the debugger (with ``breakpoint_at``) stopped the replay.

    Example::

        run = interleave.replay(lost_update, finding.schedule_id)
        print(run.report())
    """
    check_factory(scenario)
    given = {
        "max_steps": max_steps,
        "patch_threading": patch_threading,
        "patch_sqlite": patch_sqlite,
        "trace_attributes": trace_attributes,
        "cancellation": cancellation,
    }
    if max_steps is not None:
        _positive_int("max_steps", max_steps)
    for name in ("patch_threading", "patch_sqlite", "trace_attributes", "cancellation"):
        value = given[name]
        if value is not None and not isinstance(value, bool):
            raise InvalidArgument(
                f"{name}={value!r} must be True, False or None (None: as the ID recorded)"
            )
    if not isinstance(detect_data_races, bool):
        raise InvalidArgument(f"detect_data_races={detect_data_races!r} must be True or False")
    schedule = decode(schedule_id)
    observers = list(_detectors_for(detect_data_races)())
    stop = None
    if breakpoint_at is not None:
        stop = _stop_before(breakpoint_at, schedule.steps, schedule_id)
        observers.append(stop)
        watchdog = 0  # a debugging session may stay at a prompt for as long as it likes
    recorded = schedule.options
    options = ExecutionOptions(
        max_steps=recorded.max_steps if max_steps is None else max_steps,
        patch_threading=recorded.patch_threading if patch_threading is None else patch_threading,
        patch_sqlite=recorded.patch_sqlite if patch_sqlite is None else patch_sqlite,
        trace_attributes=(
            recorded.trace_attributes if trace_attributes is None else trace_attributes
        ),
        cancellation=recorded.cancellation if cancellation is None else cancellation,
    )
    scope_project = scenario_project(scenario, project)
    limit = _watchdog_limit(watchdog)
    chooser = ScheduleChooser(schedule)
    try:
        with _interrupts.guard() as interrupt, _watchdog.guard(limit) as watch:
            runtime, outcome = run_once(
                builder(scenario, options),
                chooser,
                observers=observers,
                max_steps=options.max_steps,
                contexts=_contexts(watch, scope_project, options),
            )
        if interrupt.signalled:
            raise KeyboardInterrupt  # held back until the run had cleaned up after itself
        chooser.check_complete(runtime)
    except _debugger.QuitReplay:
        raise bdb.BdbQuit(f"quit in the debugger: the replay of {schedule_id} stopped") from None
    except ScheduleDivergence as exc:
        overridden = [
            f"{name}={getattr(options, name)!r} (the ID recorded {getattr(recorded, name)!r})"
            for name in given
            if getattr(options, name) != getattr(recorded, name)
        ]
        if not overridden or schedule_id.strip().startswith("1-"):
            raise  # (format-1 IDs record no options)
        raise type(exc)(
            f"{exc}. This replay overrode the options the ID recorded: {', '.join(overridden)}; "
            "leave them out to replay as recorded"
        ) from None
    finally:
        if stop is not None:
            stop.close()
    found = outcome.findings
    return RunResult(
        scenario=runtime.program.name if runtime.program is not None else factory_name(scenario),
        schedule_id=schedule_id.strip(),
        trace=outcome.trace,
        findings=tuple(found[i] for i in _races_after(found)),
    )
