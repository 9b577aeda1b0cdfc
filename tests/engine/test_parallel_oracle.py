"""Parallel exploration against one process, on the DPOR oracle's generated programs.

The tasks run in this process (``InlineExecutor``): the splitting, what each task is handed
and the merging are exactly those of ``workers=N``, without the processes. The budgets (the
first task's too) are made small, so even these small programs are split into many tasks,
and many run ahead of one process's order (some of them dropped as stale). For each program:

* ``dfs`` with tasks runs exactly the executions of one process and keeps the same findings
  with the same schedule IDs;
* ``dpor`` with tasks reaches every observation, final state, finding and trace class that
  ``dfs`` reaches (the classes computed by the oracle's own canonicaliser), runs each class
  once, and is one process's ``dpor``: the same findings with the same schedule IDs and
  occurrences; also when the results come back in a random order, as from a process pool.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import litmus
import pytest
from hypothesis import HealthCheck, given, reject, settings
from test_dpor_oracle import _PROGRAM, Action, _Run, _scenario, explore_options
from test_parallel import Shuffled

import interleave
import interleave._engine._dpor_split as _dpor_split
import interleave._engine._parallel as parallel
from interleave._worker import InlineExecutor


@pytest.fixture(autouse=True)
def small_tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(parallel, "FIRST_BUDGET", 2)
    monkeypatch.setattr(parallel, "TASK_BUDGET", 3)
    # No cap on the work run ahead: as many risky tasks as can go out, so that stale results
    # (and their dropping) are as common as they can be.
    monkeypatch.setattr(_dpor_split, "WASTE_SHARE", 1e9)
    yield


def _options(plan: Sequence[Sequence[Action]]) -> dict[str, Any]:
    return explore_options(plan, 20_000)


def _findings(result: interleave.ExploreResult) -> list[tuple[object, ...]]:
    return [(f.kind, *f.signature, f.schedule_id) for f in result.findings]


def check_parallel(plan: Sequence[Sequence[Action]]) -> None:
    options = _options(plan)
    one, split = _Run(), _Run()
    dfs = interleave.explore(_scenario(plan, one), strategy="dfs", **options)
    if not dfs.exhausted:
        reject()
    tasks = interleave.explore(
        _scenario(plan, split), strategy="dfs", executor=InlineExecutor(), **options
    )
    assert tasks.exhausted
    assert tasks.schedules_run == dfs.schedules_run
    assert _findings(tasks) == _findings(dfs)
    assert list(tasks.occurrences) == list(dfs.occurrences)
    assert split.outcomes == one.outcomes
    classes = set(one.classes)

    seen = _Run()
    dpor = interleave.explore(
        _scenario(plan, seen), strategy="dpor", executor=InlineExecutor(), **options
    )
    alone = interleave.explore(_scenario(plan, _Run()), strategy="dpor", **options)
    assert dpor.exhausted
    missing = one.outcomes - seen.outcomes
    assert not missing, f"dpor with tasks missed {len(missing)} observation(s): {min(missing)!r}"
    assert {f[:-1] for f in _findings(dpor)} == {f[:-1] for f in _findings(dfs)}
    assert set(seen.classes) == classes
    # One execution per class among those not sleep-set blocked (probes and replays of the
    # kept findings run the scenario too, but are not counted as schedules).
    assert dpor.schedules_run == len(classes), (
        f"{dpor.schedules_run} dpor executions with tasks for {len(classes)} trace classes"
    )
    assert _findings(dpor) == _findings(alone)
    assert list(dpor.occurrences) == list(alone.occurrences)
    # Results coming back in any order (as from a process pool): still one process's answer.
    pool = Shuffled(len(classes))
    try:
        shuffled = interleave.explore(
            _scenario(plan, _Run()), strategy="dpor", executor=pool, **options
        )
    finally:
        pool.shutdown()
    assert shuffled.schedules_run == alone.schedules_run
    assert _findings(shuffled) == _findings(alone)
    assert list(shuffled.occurrences) == list(alone.occurrences)


@settings(
    max_examples=int(os.environ.get("INTERLEAVE_PARALLEL_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(_PROGRAM)
def test_tasks_cover_what_one_process_covers(plan: list[list[Action]]) -> None:
    check_parallel(plan)


@pytest.mark.parametrize(
    "name", ["lastzero(4)", "readers(3)", "filesystem(2)", "indexer(2)", "philosophers(3)"]
)
def test_the_literature_counts_hold_with_tasks(name: str) -> None:
    function, _, argument = name.rstrip(")").partition("(")
    factory = getattr(litmus, function)(int(argument))
    one = interleave.explore(factory, suppress_health_check="all")
    split = interleave.explore(factory, executor=InlineExecutor(), suppress_health_check="all")
    # (A program of a class or two is covered by the first task: no split.)
    assert split.statistics.tasks > 1 or one.schedules_run <= parallel.FIRST_BUDGET
    assert split.schedules_run == one.schedules_run
    assert [f.schedule_id for f in split.findings] == [f.schedule_id for f in one.findings]


@pytest.mark.parametrize("name", ["increments(3,2)", "philosophers(3)", "lastzero(5)"])
@pytest.mark.parametrize(
    "options",
    [
        {"preemption_bound": 0},
        {"preemption_bound": 1},
        {"preemption_bound": 2},
        {"max_schedules": 7},
        {"max_schedules": 50},
        {"stop_on_first": True},
    ],
    ids=repr,
)
def test_dpor_with_tasks_stops_where_one_process_stops(name: str, options: dict[str, Any]) -> None:
    # A preemption bound's cut, max_schedules and stop_on_first fall where one process's do:
    # the results are applied in its order.
    function, _, arguments = name.rstrip(")").partition("(")
    factory = getattr(litmus, function)(*(int(a) for a in arguments.split(",")))
    one = interleave.explore(factory, suppress_health_check="all", **options)
    split = interleave.explore(
        factory, executor=InlineExecutor(), suppress_health_check="all", **options
    )
    assert split.statistics.tasks > 1 or one.schedules_run <= parallel.FIRST_BUDGET
    assert split.schedules_run == one.schedules_run
    assert split.stopped_because == one.stopped_because
    assert split.exhausted == one.exhausted
    assert [f.schedule_id for f in split.findings] == [f.schedule_id for f in one.findings]
    assert split.occurrences == one.occurrences
