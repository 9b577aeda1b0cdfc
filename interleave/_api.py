"""The public entry points: ``Scenario``, ``explore()`` and ``replay()``.

Arguments are validated here, up front, before any execution runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FunctionType

from ._core import _interrupts
from ._core._observer import Observer
from ._core._runtime import Program, Runtime, ScheduleChooser, ThreadSpec
from ._core._schedule import decode
from ._engine._dpor import DporStrategy
from ._engine._explorer import explore_program
from ._engine._strategies import (
    DfsStrategy,
    IterativeBound,
    PctStrategy,
    RandomStrategy,
    Strategy,
)
from ._results import ExploreResult, Interrupted, RunResult
from .detectors._deadlock import DeadlockDetector
from .detectors._lost_update import LostUpdateDetector
from .errors import InvalidArgument, ScenarioError
from .instrument import _threading
from .instrument._patches import enabled_patches

__all__ = ["EXHAUSTIVE_STRATEGIES", "STRATEGIES", "Scenario", "explore", "replay"]

#: The strategy names ``explore()`` accepts.
STRATEGIES = ("dpor", "dfs", "random", "pct")
#: The strategies that can cover every schedule: deterministic (no seed), boundable.
EXHAUSTIVE_STRATEGIES = ("dpor", "dfs")

ScenarioFactory = Callable[[], "Scenario | Sequence[Callable[[], object]]"]


@dataclass(frozen=True, slots=True, kw_only=False)
class Scenario:
    """What a scenario factory returns: fresh shared state's threads and how to check it.

    Args:
        threads: the logical threads, as a sequence of callables (named after the function,
            ``worker#1``, ``worker#2`` …) or a mapping ``name -> callable``.
        check: called after every thread finished; returning False (or raising) is an
            ``invariant`` finding.
        teardown: called after every execution, also failed ones (close files, drop state).
        name: shown in reports; defaults to the factory's name.

    Example::

        def lost_update():
            hits = interleave.Shared("hits", 0)
            def worker():
                hits.set(hits.get() + 1)
            return interleave.Scenario(threads=[worker, worker],
                                       check=lambda: hits.get() == 2)
    """

    threads: Sequence[Callable[[], object]] | Mapping[str, Callable[[], object]]
    check: Callable[[], object] | None = None
    teardown: Callable[[], object] | None = None
    name: str | None = field(default=None)

    #: The normalised threads, computed once when the Scenario is made.
    _specs: tuple[ThreadSpec, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_specs", _thread_specs(self.threads, "Scenario"))
        for label, fn in (("check", self.check), ("teardown", self.teardown)):
            if fn is not None and not callable(fn):
                raise ScenarioError(
                    f"Scenario {label}= must be a callable taking no arguments, "
                    f"not {type(fn).__name__}"
                )
        if self.name is not None and not isinstance(self.name, str):
            raise ScenarioError(f"Scenario name={self.name!r} must be a string")


def _thread_specs(threads: object, where: str) -> tuple[ThreadSpec, ...]:
    if type(threads) is list and threads:
        # The common case, on every execution: a list of plain, synchronous functions.
        for fn in threads:
            if type(fn) is not FunctionType or fn.__code__.co_flags & inspect.CO_COROUTINE:
                break
        else:
            return tuple([ThreadSpec(None, fn) for fn in threads])
    if isinstance(threads, Mapping):
        specs = []
        for name, fn in threads.items():
            if not isinstance(name, str) or not name:
                raise ScenarioError(f"{where} thread names must be non-empty strings, got {name!r}")
            if not callable(fn):
                raise ScenarioError(
                    f"{where} thread {name!r} must be a callable, not {type(fn).__name__}"
                )
            specs.append(ThreadSpec(name, fn))
        result = tuple(specs)
    elif isinstance(threads, Sequence) and not isinstance(threads, str | bytes):
        for i, fn in enumerate(threads):
            if not callable(fn):
                raise ScenarioError(
                    f"{where} thread {i} must be a callable, not {type(fn).__name__} "
                    f"({fn!r}); pass the function itself, not its result"
                )
        result = tuple(ThreadSpec(None, fn) for fn in threads)
    else:
        raise ScenarioError(
            f"{where} threads= must be a list of callables or a mapping name -> callable, "
            f"not {type(threads).__name__}"
        )
    for spec in result:
        fn = spec.fn
        # Plain functions (the common case, on every execution) are checked by their code
        # flags; anything else (partials, methods, callables) through inspect.
        if (
            fn.__code__.co_flags & inspect.CO_COROUTINE
            if type(fn) is FunctionType
            else inspect.iscoroutinefunction(fn)
        ):
            raise ScenarioError(
                f"{where} thread {getattr(spec.fn, '__name__', spec.fn)!r} is an async function: "
                "interleave runs threads, not coroutines (calling it would only create a "
                "coroutine and explore nothing). Wrap synchronous code, or test asyncio code "
                "with an asyncio tool"
            )
    if not result:
        raise ScenarioError(
            f"{where} needs at least one thread: threads= is empty (return the thread "
            "functions, e.g. Scenario(threads=[worker, worker]))"
        )
    return result


def _factory_name(factory: object) -> str:
    return str(getattr(factory, "__qualname__", None) or getattr(factory, "__name__", "scenario"))


def _target(factory: object) -> str | None:
    """``module:qualname`` for the command line, or ``path.py:name`` for scripts."""
    name = getattr(factory, "__qualname__", None)
    module = getattr(factory, "__module__", None)
    if not isinstance(name, str) or "<" in name or "." in name:
        return None
    if module in (None, "__main__") or not isinstance(module, str):
        import inspect
        import os

        try:
            path = inspect.getsourcefile(factory)  # type: ignore[arg-type]
        except TypeError:
            return None
        if not path:
            return None
        rel = os.path.relpath(path)
        return f"{path if rel.startswith('..') else rel}:{name}"
    return f"{module}:{name}"


def _check_factory(factory: object) -> None:
    if isinstance(factory, Scenario):
        raise ScenarioError(
            "explore() needs the scenario *factory* (a function that builds fresh state and "
            "returns a Scenario), not a Scenario: each execution must start from fresh state. "
            "Pass the function itself, e.g. explore(lost_update), not explore(lost_update())"
        )
    if not callable(factory):
        raise ScenarioError(
            f"the scenario must be a callable factory returning interleave.Scenario, "
            f"not {type(factory).__name__}"
        )


def _builder(factory: Callable[[], object]) -> Callable[[], Program]:
    default_name = _factory_name(factory)

    def build() -> Program:
        produced = factory()
        if isinstance(produced, Scenario):
            return Program(
                threads=produced._specs,
                check=produced.check,
                teardown=produced.teardown,
                name=produced.name or default_name,
            )
        if isinstance(produced, Sequence | Mapping) and not isinstance(produced, str | bytes):
            return Program(
                threads=_thread_specs(produced, f"scenario factory {default_name}()"),
                name=default_name,
            )
        raise ScenarioError(
            f"scenario factory {default_name}() returned {type(produced).__name__} "
            f"({produced!r:.60}); it must return interleave.Scenario(threads=[...]) or a "
            "list of callables"
        )

    return build


def _detectors() -> Sequence[Observer]:
    return (LostUpdateDetector(), DeadlockDetector())


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an int (got {type(value).__name__})")
    if value < 1:
        raise InvalidArgument(f"{name}={value!r} must be at least 1")
    return value


def _validate(
    *,
    max_schedules: object,
    strategy: object,
    seed: object,
    max_steps: object,
    timeout: object,
    stop_on_first: object,
    **flags: object,
) -> None:
    _positive_int("max_schedules", max_schedules)
    _positive_int("max_steps", max_steps)
    if strategy not in STRATEGIES:
        choices = ", ".join(repr(s) for s in STRATEGIES)
        raise InvalidArgument(f"strategy={strategy!r} is not one of {choices}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidArgument(f"seed={seed!r} must be an int or None")
    if seed is not None and strategy in EXHAUSTIVE_STRATEGIES:
        raise InvalidArgument(
            f"seed={seed!r} only applies to strategy='random' or 'pct' ({strategy} is "
            "deterministic "
            "without a seed)"
        )
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise InvalidArgument(f"timeout={timeout!r} must be a number of seconds or None")
        if not timeout > 0 or math.isnan(timeout):
            raise InvalidArgument(f"timeout={timeout!r} must be greater than 0 seconds")
    for name, value in {"stop_on_first": stop_on_first, **flags}.items():
        if not isinstance(value, bool):
            raise InvalidArgument(f"{name}={value!r} must be True or False")


def _validate_search(strategy: object, preemption_bound: object, depth: object) -> None:
    if preemption_bound is not None:
        if strategy not in EXHAUSTIVE_STRATEGIES:
            raise InvalidArgument(
                f"preemption_bound= applies to strategy='dfs' or 'dpor', not {strategy!r}"
            )
        if preemption_bound != "iterative" and (
            isinstance(preemption_bound, bool)
            or not isinstance(preemption_bound, int)
            or preemption_bound < 0
        ):
            raise InvalidArgument(
                f"preemption_bound={preemption_bound!r} must be an int >= 0, 'iterative' or None"
            )
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise InvalidArgument(f"depth={depth!r} must be an int of at least 1")


def _patches(
    patch_threading: bool, patch_sqlite: bool, trace_attributes: bool
) -> list[Callable[[Runtime], contextlib.AbstractContextManager[object]]]:
    """The per-execution patches the switches turn on."""
    return enabled_patches(
        {
            "patch_threading": patch_threading,
            "patch_sqlite": patch_sqlite,
            "trace_attributes": trace_attributes,
        }
    )


def _watchdog_scope(watchdog: object) -> contextlib.AbstractContextManager[object]:
    """The watchdog setting for a run: ambient (None), off (0) or a limit in seconds."""
    if watchdog is None:
        return contextlib.nullcontext()
    if watchdog == 0 and not isinstance(watchdog, bool):
        return _threading.watchdog_limit(None)
    if isinstance(watchdog, bool) or not isinstance(watchdog, int | float) or not watchdog > 0:
        raise InvalidArgument(
            f"watchdog={watchdog!r} must be a number of seconds (0 turns the watchdog off) "
            "or None for the default"
        )
    return _threading.watchdog_limit(float(watchdog))


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
    watchdog: float | None = None,
    progress: Callable[[int, int, float], None] | None = None,
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
        timeout: stop after this many seconds (the report says so).
        stop_on_first: stop at the first execution with a finding.
        patch_threading: run unmodified ``threading``/``queue``/``time.sleep`` code under the
            scheduler (see the threading guide).
        patch_sqlite: inside each execution, ``sqlite3.connect`` returns scheduled
            connections (every statement a yield point), so unmodified database code is
            explored (see the SQLite guide).
        trace_attributes: make reads and writes of watched objects' attributes yield points.
        watchdog: seconds a thread may run without reaching a yield point before the
            execution is ended with ``BlockedOutsideScheduler`` (a blocking call interleave
            cannot see); ``0`` turns it off; ``None`` (default) keeps the ambient setting
            (``INTERLEAVE_WATCHDOG``, else 10 s).
        progress: called about twice a second with (schedules run, findings, seconds).

    Returns:
        An :class:`ExploreResult`: ``ok``, ``findings`` (distinct), ``exhausted`` (every
        schedule was covered: a proof over the instrumented operations), ``report()``.

    Raises:
        Interrupted: Ctrl-C (a ``KeyboardInterrupt``) stopped the exploration; its ``result``
            is the partial :class:`ExploreResult` (the findings found so far, stopped because
            ``"interrupted"``). Everything the exploration set up is undone first.

    Example::

        result = interleave.explore(lost_update, max_schedules=1000)
        assert not result.ok
        print(result.report())
    """
    _check_factory(scenario)
    _validate_search(strategy, preemption_bound, depth)
    _validate(
        max_schedules=max_schedules,
        strategy=strategy,
        seed=seed,
        max_steps=max_steps,
        timeout=timeout,
        stop_on_first=stop_on_first,
        patch_threading=patch_threading,
        patch_sqlite=patch_sqlite,
        trace_attributes=trace_attributes,
        minimise=minimise,
    )
    watchdog_scope = _watchdog_scope(watchdog)
    chosen = _make_strategy(strategy, seed, preemption_bound, depth)
    # Ctrl-C: the guard holds a SIGINT back while interleave's own code runs (entered first,
    # left last, so setting up and undoing the patches is never cut short).
    with _interrupts.guard() as interrupt, contextlib.ExitStack() as scope:
        scope.enter_context(watchdog_scope)
        if patch_threading:
            # Keep the threading swap installed across executions (restored at the end).
            scope.enter_context(_threading.exploration_scope())
        raw = explore_program(
            _builder(scenario),
            chosen,
            max_schedules=max_schedules,
            max_steps=max_steps,
            timeout=timeout,
            stop_on_first=stop_on_first,
            detectors=_detectors,
            progress=progress,
            contexts=_patches(patch_threading, patch_sqlite, trace_attributes),
            minimise_budget=min(max_schedules, 2_000) if minimise else 0,
            interrupted=interrupt.is_signalled,
        )
        # Built while the guard holds SIGINT back: a Ctrl-C now cannot lose the result.
        result = ExploreResult(
            scenario=raw.scenario_name or _factory_name(scenario),
            strategy=chosen.describe(),
            max_schedules=max_schedules,
            raw=raw,
            target=_target(scenario),
            max_steps=max_steps,
        )
    if interrupt.signalled or raw.stopped_because == "interrupted":
        raw = dataclasses.replace(raw, stopped_because="interrupted", exhausted=False)
        raise Interrupted(dataclasses.replace(result, raw=raw))
    return result


def replay(
    scenario: Callable[[], object],
    schedule_id: str,
    *,
    max_steps: int = 10_000,
    patch_threading: bool = True,
    patch_sqlite: bool = True,
    trace_attributes: bool = False,
    watchdog: float | None = None,
) -> RunResult:
    """Run ``scenario`` once, exactly as recorded in ``schedule_id``.

    Raises:
        InvalidScheduleId: the ID is malformed (the message says how).
        ScheduleDivergence: the run could not follow the schedule: the scenario changed
            since the ID was recorded, or it is not deterministic.

    Example::

        run = interleave.replay(lost_update, "1-AQIDBA")
        print(run.report())
    """
    _check_factory(scenario)
    schedule = decode(schedule_id)
    _positive_int("max_steps", max_steps)
    chooser = ScheduleChooser(schedule)
    runtime = Runtime(
        _builder(scenario),
        chooser,
        observers=_detectors(),
        max_steps=max_steps,
        contexts=_patches(patch_threading, patch_sqlite, trace_attributes),
    )
    with _interrupts.guard() as interrupt, _watchdog_scope(watchdog):
        outcome = runtime.run()
    if interrupt.signalled:
        raise KeyboardInterrupt  # held back until the run had cleaned up after itself
    chooser.check_complete(runtime)
    return RunResult(
        scenario=runtime.program.name if runtime.program is not None else _factory_name(scenario),
        schedule_id=schedule_id.strip(),
        trace=outcome.trace,
        findings=outcome.findings,
    )
