"""Every execution an explorer runs is reproduced exactly by its (minimal) schedule ID.

The ID stores only the prefix of choices up to the last one the default policy would not have
made; this checks that the runtime's bookkeeping of that prefix matches the replay's policy, on
random executions of programs with locks, events, spawn/join and data races.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

import interleave
from interleave._core._replay import ScheduleChooser
from interleave._core._schedule import decode
from interleave._engine._run import run_once
from interleave._engine._settings import DEFAULT_MAX_STEPS as MAX_STEPS
from interleave._engine._strategies import DfsStrategy, RandomStrategy
from interleave._scenario import builder as _builder


def mixed(*, bystander_looks: bool = True) -> interleave.Scenario:
    lock = interleave.Lock(name="L")
    ready = interleave.Event(name="ready")
    total = interleave.Shared("total", 0)

    def child() -> None:
        with lock:
            total.set(total.get() + 1)
        ready.set()

    def parent() -> None:
        handle = interleave.spawn(child)
        total.set(total.get() + 10)
        ready.wait()
        handle.join()

    def bystander() -> None:
        if bystander_looks:
            interleave.point("look")
        with lock:
            total.get()

    return interleave.Scenario(threads=[parent, bystander])


def small_mixed() -> interleave.Scenario:
    return mixed(bystander_looks=False)


def _replays_exactly(factory: Callable[[], object], seed: int, runs: int) -> None:
    strategy = RandomStrategy(seed)
    build = _builder(factory)
    for _ in range(runs):
        chooser = strategy.next_chooser()
        assert chooser is not None
        _, outcome = run_once(build, chooser, observers=(), max_steps=MAX_STEPS)
        schedule = decode(outcome.trace.schedule_id)
        again = ScheduleChooser(schedule)
        runtime, replayed = run_once(build, again, observers=(), max_steps=MAX_STEPS)
        again.check_complete(runtime)
        assert replayed.trace.choices == outcome.trace.choices
        assert replayed.trace.schedule == outcome.trace.schedule


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32))
def test_random_executions_replay_exactly_from_their_id(seed: int) -> None:
    _replays_exactly(mixed, seed, runs=5)


def test_every_dfs_execution_replays_exactly_from_its_id() -> None:
    strategy = DfsStrategy()
    build = _builder(small_mixed)
    runs = 0
    while (chooser := strategy.next_chooser()) is not None:
        _, outcome = run_once(build, chooser, observers=(), max_steps=MAX_STEPS)
        strategy.record(outcome)
        again = ScheduleChooser(decode(outcome.trace.schedule_id))
        replay_runtime, replayed = run_once(build, again, observers=(), max_steps=MAX_STEPS)
        assert replayed.trace.choices == outcome.trace.choices
        again.check_complete(replay_runtime)
        runs += 1

    assert runs > 10


def test_distinct_dfs_executions_have_distinct_ids() -> None:
    strategy = DfsStrategy()
    build = _builder(small_mixed)
    ids = []
    while (chooser := strategy.next_chooser()) is not None:
        _, outcome = run_once(build, chooser, observers=(), max_steps=MAX_STEPS)
        strategy.record(outcome)
        ids.append(outcome.trace.schedule_id)

    assert len(set(ids)) == len(ids)
