"""Detectors carried across executions (``_core/_memo.py``) report what fresh ones report.

An exploration keeps one set of detectors for its explore phase and feeds them only the steps
that differ from the previous execution's, rewinding them to the first difference. The law:
every execution's findings are those that detectors made fresh for it would report. Checked
on the DPOR oracle's generated programs (every primitive, SQLite too), on the benchmarks, and
directly on the detectors' rewind.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence
from typing import Any

import litmus
import pytest
from hypothesis import HealthCheck, given, settings
from test_dpor_oracle import _PROGRAM, _SQL_PROGRAM, Action, _Run, _scenario, explore_options

import interleave
from interleave._core import _memo
from interleave._core._memo import Rewindable, StepMemo
from interleave._core._observer import Observer
from interleave._core._ops import GIVE, Location, Operation, RacyOperation
from interleave._engine import _explorer
from interleave.detectors._data_race import DataRaceDetector
from interleave.detectors._deadlock import DeadlockDetector
from interleave.detectors._lost_update import LostUpdateDetector

# The laws compare runs with and without the memo by patching the explorer, and the rewinding
# tests feed the detectors stand-in threads: neither reaches compiled code.
pytestmark = pytest.mark.plain_python

Seen = list[tuple[int, tuple[object, ...]]]


def _watch(monkeypatch: pytest.MonkeyPatch, carry: bool) -> Seen:
    """Record each explore-phase execution's findings (by origin); ``carry=False`` makes the
    explorer use fresh detectors for every execution, as it did before the memo."""
    seen: Seen = []
    run = _explorer._Exploring.run

    def spy(self: Any, chooser: Any, *, counting: bool = False) -> Any:
        runtime, outcome = run(self, chooser, counting=counting)
        if counting:
            seen.append((len(seen), tuple(f.origin for f in outcome.raw_findings)))
        return runtime, outcome

    monkeypatch.setattr(_explorer._Exploring, "run", spy)
    if not carry:
        monkeypatch.setattr(StepMemo, "of", classmethod(lambda cls, observers: None))
    return seen


def _explore(factory: Any, carry: bool, **options: Any) -> tuple[Seen, Any]:
    with pytest.MonkeyPatch.context() as patch:
        seen = _watch(patch, carry)
        result = interleave.explore(factory, **options)
    return seen, result


def _same(factory: Any, **options: Any) -> int:
    carried, a = _explore(factory, True, **options)
    fresh, b = _explore(factory, False, **options)
    assert carried == fresh
    assert [(f.kind, f.signature, f.schedule_id, f.steps) for f in a.findings] == [
        (f.kind, f.signature, f.schedule_id, f.steps) for f in b.findings
    ]
    assert list(a.occurrences) == list(b.occurrences)
    assert a.schedules_run == b.schedules_run
    return sum(1 for _, origins in carried if origins)


def _options(plan: Sequence[Sequence[Action]]) -> dict[str, Any]:
    return {**explore_options(plan, 2_000), "database": None}


_EXAMPLES = int(os.environ.get("INTERLEAVE_MEMO_EXAMPLES", "40"))
_SETTINGS = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)


@_SETTINGS
@given(_PROGRAM)
def test_carried_detectors_find_what_fresh_ones_find(plan: list[list[Action]]) -> None:
    for strategy in ("dfs", "dpor"):
        _same(_scenario(plan, _Run()), strategy=strategy, **_options(plan))


@settings(_SETTINGS, max_examples=max(1, _EXAMPLES // 4))
@given(_SQL_PROGRAM)
def test_carried_detectors_find_what_fresh_ones_find_with_sqlite(
    plan: list[list[Action]],
) -> None:
    _same(_scenario(plan, _Run()), strategy="dpor", **_options(plan))


@pytest.mark.parametrize(
    "name",
    ["increments(3,2)", "lastzero(5)", "philosophers(3)", "readers(3)", "filesystem(4)"],
)
def test_carried_detectors_on_the_benchmarks(name: str) -> None:
    function, _, arguments = name.rstrip(")").partition("(")
    factory = getattr(litmus, function)(*map(int, arguments.split(",")))
    for strategy in ("dfs", "dpor", "random"):
        _same(
            factory,
            strategy=strategy,
            max_schedules=400,
            database=None,
            minimise=False,
            suppress_health_check="all",
        )


def test_a_scenario_with_races_in_most_executions_is_checked_by_the_law() -> None:
    # The law above must be able to fail: here nearly every execution has findings.
    with_findings = _same(litmus.increments(2, 2), strategy="dpor", database=None)
    assert with_findings >= 4


# ---------------------------------------------------------------- rewinding, directly
_HERE = Location("here.py", 1, "f")
_THERE = Location("there.py", 2, "g")


class _Thread:
    """What a rewindable observer may read of a thread (see _core/_memo.py)."""

    def __init__(self, tid: int, location: Location, created_at: int = -1) -> None:
        self.tid = tid
        self.location = location
        self.created_at = created_at


def _random_steps(rng: random.Random, count: int) -> list[tuple[_Thread, Operation]]:
    ops = [
        Operation("read", ("shared", "x")),
        Operation("write", ("shared", "x")),
        Operation("update", ("shared", "x")),
        Operation("read", ("cache", "c", 1)),
        Operation("write", ("cache", "c")),
        Operation("write", ("cache", "c", 2)),
        RacyOperation("write", ("shared", "y")),
        Operation("acquire", ("lock", "l")),
        Operation("release", ("lock", "l"), footprint=((("lock", "l"), GIVE),)),
        Operation("acquire-failed", ("lock", "l")),
        Operation("read", ("point", "p")),
    ]
    threads = [_Thread(t, loc) for t in range(3) for loc in (_HERE, _THERE)]
    return [(rng.choice(threads), rng.choice(ops)) for _ in range(count)]


def _state(observer: Observer) -> Any:
    names = [n for n in type(observer).__slots__ if not n.startswith("__")]
    state: dict[str, Any] = {n: getattr(observer, n) for n in names}
    if isinstance(observer, DataRaceDetector):
        # The order of the accesses matters too (races are found, and reported, in it).
        state["order"] = [
            (resource, [(u, list(entries.items())) for u, entries in per_thread.items()])
            for resource, per_thread in observer._accesses.items()
        ]
    return state


@pytest.mark.parametrize("kind", [DataRaceDetector, LostUpdateDetector])
@pytest.mark.parametrize("seed", range(30))
def test_rewind_gives_the_state_of_a_detector_fed_the_shorter_history(
    kind: type[Rewindable], seed: int
) -> None:
    rng = random.Random(seed)
    steps = _random_steps(rng, 30)
    carried = kind()
    for index, (thread, op) in enumerate(steps):
        carried.on_step(index, thread, op)  # type: ignore[arg-type]
    for _ in range(5):
        cut = rng.randrange(len(steps) + 1)
        carried.rewind(cut)
        # Go on with other steps, as the next execution does after leaving the path.
        steps = steps[:cut] + _random_steps(rng, rng.randrange(1, 20))
        for index in range(cut, len(steps)):
            thread, op = steps[index]
            carried.on_step(index, thread, op)  # type: ignore[arg-type]
        fresh = kind()
        for index, (thread, op) in enumerate(steps):
            fresh.on_step(index, thread, op)  # type: ignore[arg-type]
        assert _state(carried) == _state(fresh)


def test_observers_that_cannot_be_rewound_are_not_carried() -> None:
    class Watches(Observer):
        def on_step(self, index: int, thread: Any, op: Operation) -> None:
            pass

    class Keeps(Observer):
        def on_finish(self, execution: Any) -> list[Any]:
            return []

    assert StepMemo.of([LostUpdateDetector(), DeadlockDetector(), DataRaceDetector()])
    assert StepMemo.of([DataRaceDetector(), Watches()]) is None
    assert StepMemo.of([Keeps()]) is None


def test_a_run_cut_short_drops_the_carried_detectors() -> None:
    def scenario() -> interleave.Scenario:
        x = interleave.Shared("x", 0)

        def spin() -> None:
            while True:
                x.set(x.get() + 1)

        return interleave.Scenario(threads=[spin, spin])

    states: list[Any] = []
    run = _explorer._Exploring.run

    def spy(self: Any, chooser: Any, *, counting: bool = False) -> Any:
        states.append((self, self.memo))
        return run(self, chooser, counting=counting)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_explorer._Exploring, "run", spy)
        result = interleave.explore(
            scenario, timeout=0.5, max_steps=10**9, database=None, suppress_health_check="all"
        )
    assert result.stopped_because == "timeout"
    # The execution made the carried detectors (see _Exploring.run) and the timeout cut it
    # short, maybe half-way through a step: they are dropped.
    exploring = states[-1][0]
    assert exploring.memo is None


@pytest.fixture(autouse=True)
def _memo_module_is_used() -> Iterator[None]:
    # The explorer must use the memo (the spy above relies on StepMemo.of being its way in).
    assert _explorer.StepMemo is _memo.StepMemo
    yield
