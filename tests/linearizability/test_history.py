"""Histories read off executions: every real-time order an execution stands for.

The checker explores with marks that conflict with nothing, and considers every real-time order
of the calls that the execution's independent steps allow (``_history``). The oracle here does
what that replaces: marks that conflict exactly where real time can differ (an invocation reads
a ``history`` resource that every response writes), so DPOR itself runs every order of the
marks, and each execution's own history is checked by brute force. Both must find the same
scenarios failing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from lin_objects import (
    AtomicCounter,
    LockedCounter,
    LockedQueue,
    PerThreadQueue,
    RacyCache,
    RacyQueue,
    StaleCounter,
    ThreadingLockedCache,
)
from test_checker import brute_force

import interleave
from interleave._linearizability._api import _Runner
from interleave._linearizability._checker import HistoryCall, Outcome, Spec
from interleave._linearizability._history import Poset, maximal_histories
from interleave._linearizability._scenarios import ScenarioCalls, canonical
from interleave.models import CacheModel, CounterModel, QueueModel

CASES = [
    (StaleCounter, CounterModel, ["increment", "get"]),
    (LockedCounter, CounterModel, ["increment", "get"]),
    (AtomicCounter, CounterModel, ["increment", "get"]),
    (RacyCache, CacheModel, [("get_or_set", ("k", 1)), ("get_or_set", ("k", 2)), ("get", ("k",))]),
    (ThreadingLockedCache, CacheModel, [("get_or_set", ("k", 1)), ("get", ("k",))]),
    (RacyQueue, QueueModel, [("put", (1,)), "get"]),
    (LockedQueue, QueueModel, [("put", (1,)), "get"]),
    (PerThreadQueue, QueueModel, [("put", (1,)), "get"]),
]


def _scenarios(operations: list[Any]) -> list[ScenarioCalls]:
    calls = [(op, ()) if isinstance(op, str) else op for op in operations]
    threads = [seq for n in (1, 2) for seq in itertools.product(calls, repeat=n)]
    return sorted({canonical(pair) for pair in itertools.combinations_with_replacement(threads, 2)})


def _offline_fails(make: Callable[[], object], model: type, scenario: ScenarioCalls) -> bool:
    runner = _Runner(
        make,
        Spec(model),
        "offline",
        explore_options={
            "max_schedules": 10_000,
            "max_steps": 10_000,
            "patch_threading": True,
            "patch_sqlite": True,
            "trace_attributes": False,
        },
        watchdog=None,
        roots=[],
        deadline=None,
    )
    return runner.fails(scenario)


def _oracle_fails(make: Callable[[], object], model: type, scenario: ScenarioCalls) -> bool:
    def factory() -> interleave.Scenario:
        obj = make()
        history: list[tuple[HistoryCall, int, int]] = []
        clock = itertools.count()

        def thread(t: int) -> Callable[[], None]:
            def run() -> None:
                for method, args in scenario[t]:
                    interleave.point("call", resource=("history", "calls"), access="read")
                    invoked = next(clock)
                    try:
                        outcome = Outcome(False, getattr(obj, method)(*args))
                    except Exception as exc:
                        outcome = Outcome(True, exc)
                    interleave.point("->", resource=("history", "calls", t), access="write")
                    history.append((HistoryCall(t, method, args, outcome), invoked, next(clock)))

            return run

        def linearizable() -> bool:
            calls = [h[0] for h in history]
            before = [
                sum(1 << d for d, other in enumerate(history) if other[2] < mine[1])
                for mine in history
            ]
            return brute_force(model, calls, before) is not None

        return interleave.Scenario(
            threads={f"t{i + 1}": thread(i) for i in range(len(scenario))}, check=linearizable
        )

    result = interleave.explore(factory, suppress_health_check=["all"])
    assert result.exhausted
    return any(f.kind == "invariant" for f in result.findings)


@pytest.mark.parametrize(
    ("make", "model", "operations"), CASES, ids=[case[0].__name__ for case in CASES]
)
def test_the_orders_of_independent_steps_find_what_exploring_every_order_of_the_marks_finds(
    make: Callable[[], object], model: type, operations: list[Any]
) -> None:
    scenarios = _scenarios(operations)
    offline = {s for s in scenarios if _offline_fails(make, model, s)}
    oracle = {s for s in scenarios if _oracle_fails(make, model, s)}

    assert offline == oracle
    # Every case is decided: the thread-safe objects never fail, the others do somewhere.
    assert bool(offline) == (make in (StaleCounter, RacyCache, RacyQueue, PerThreadQueue))


def test_a_bug_only_real_time_shows_needs_the_reordering() -> None:
    # t1 gets, t2 puts: the explored execution runs t1 first (its own history is fine), and
    # only the order with t2's put before t1's get fails; that order is replayed to confirm.
    scenario = canonical(((("get", ()),), (("put", (1,)),)))

    assert _offline_fails(PerThreadQueue, QueueModel, scenario)


def _poset(events: list[tuple[int, int, list[int]]], calls: int) -> Poset:
    """A poset from (first_of, last_of, predecessors) per event."""
    return Poset(
        preds=tuple(sum(1 << p for p in preds) for _, _, preds in events),
        first_of=tuple(f for f, _, _ in events),
        last_of=tuple(last for _, last, _ in events),
        calls=calls,
    )


def test_two_independent_calls_give_both_sequential_orders() -> None:
    # Calls 0 and 1, two steps each, nothing in common: either may run entirely first.
    poset = _poset([(0, -1, []), (-1, 0, [0]), (1, -1, []), (-1, 1, [2])], 2)

    assert maximal_histories(poset) == [(0, 0b01), (0b10, 0)]


def test_calls_ordered_by_a_conflict_give_one_order() -> None:
    # Call 1's first step needs call 0's last step (they conflict and 0's ran first).
    poset = _poset([(0, -1, []), (-1, 0, [0]), (1, -1, [1]), (-1, 1, [2])], 2)

    assert maximal_histories(poset) == [(0, 0b01)]


def test_overlapping_calls_stay_overlapped() -> None:
    # Each call's last step needs the other's first: neither returns before the other starts.
    poset = _poset([(0, -1, []), (-1, 0, [0, 2]), (1, -1, []), (-1, 1, [2, 0])], 2)

    assert maximal_histories(poset) == [(0, 0)]
