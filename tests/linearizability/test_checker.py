"""The Wing-Gong checker against a brute-force one, on random small histories.

The law: the memoised search (with interned model states, and split by key where the model
says so) says "linearizable" exactly when some permutation of the calls that keeps real time
gives every call its outcome on a fresh model. Its witness order is such a permutation; when
there is none, the longest order it reports is explained by the model, and each call it says
could come next gets, after that order, what it says the model gives.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interleave._linearizability._checker import (
    HistoryCall,
    Outcome,
    Spec,
    apply,
    check_history,
    freeze,
)
from interleave.models import CacheModel, CounterModel, QueueModel


class RegisterModel:
    def __init__(self) -> None:
        self.value = 0

    def set(self, value: int) -> None:
        self.value = value

    def get(self) -> int:
        return self.value


class RaisingQueueModel(QueueModel):
    empty = LookupError


class UnfreezableModel:
    """A counter whose state cannot be frozen (a bytearray: unhashable, no attributes), so the
    search runs on model objects instead of interned states."""

    def __init__(self) -> None:
        self.count = bytearray([0])

    def increment(self) -> int:
        self.count[0] += 1
        return self.count[0]

    def get(self) -> int:
        return self.count[0]


#: model -> the calls a history may hold: (method, args, possible outcomes).
CALLS: dict[type, list[tuple[str, tuple[Any, ...], list[Outcome]]]] = {
    CounterModel: [
        ("increment", (), [Outcome(False, v) for v in (1, 2, 3)]),
        ("get", (), [Outcome(False, v) for v in (0, 1, 2)]),
    ],
    UnfreezableModel: [
        ("increment", (), [Outcome(False, v) for v in (1, 2)]),
        ("get", (), [Outcome(False, v) for v in (0, 1, 2)]),
    ],
    RegisterModel: [
        ("set", (1,), [Outcome(False, None)]),
        ("set", (2,), [Outcome(False, None)]),
        ("get", (), [Outcome(False, v) for v in (0, 1, 2)]),
    ],
    RaisingQueueModel: [
        ("put", (1,), [Outcome(False, None)]),
        ("put", (2,), [Outcome(False, None)]),
        ("get", (), [Outcome(False, 1), Outcome(False, 2), Outcome(True, LookupError())]),
    ],
    CacheModel: [
        ("set", ("a", 1), [Outcome(False, None)]),
        ("set", ("b", 2), [Outcome(False, None)]),
        ("get", ("a",), [Outcome(False, v) for v in (None, 1)]),
        ("get", ("b",), [Outcome(False, v) for v in (None, 2)]),
        ("get_or_set", ("a", 3), [Outcome(False, v) for v in (1, 3)]),
        ("delete", ("a",), [Outcome(False, v) for v in (True, False)]),
    ],
}


@st.composite
def histories(draw: st.DrawFn) -> tuple[type, list[HistoryCall], list[int]]:
    """A model and a history: threads of sequential calls whose invocations and responses
    are interleaved at random, with outcomes drawn from the plausible ones."""
    model = draw(st.sampled_from(sorted(CALLS, key=lambda m: m.__name__)))
    shapes = CALLS[model]
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    calls: list[HistoryCall] = []
    per_thread: list[list[int]] = []
    for thread, size in enumerate(sizes):
        mine = []
        for _ in range(size):
            method, args, outcomes = draw(st.sampled_from(shapes))
            calls.append(HistoryCall(thread, method, args, draw(st.sampled_from(outcomes))))
            mine.append(len(calls) - 1)
        per_thread.append(mine)
    # Each thread's events in order (invoke, respond, invoke ...), merged at random.
    pending = [[(c, kind) for c in mine for kind in ("inv", "resp")] for mine in per_thread]
    time: dict[tuple[int, str], int] = {}
    clock = 0
    while any(pending):
        thread = draw(st.sampled_from([t for t, events in enumerate(pending) if events]))
        time[pending[thread].pop(0)] = clock
        clock += 1
    before = [
        sum(1 << d for d in range(len(calls)) if time[(d, "resp")] < time[(c, "inv")])
        for c in range(len(calls))
    ]
    return model, calls, before


def brute_force(model: Callable[[], object], calls: Sequence[HistoryCall], before: Sequence[int]):
    for order in itertools.permutations(range(len(calls))):
        placed = 0
        ok = True
        for c in order:
            if before[c] & ~placed:
                ok = False
                break
            placed |= 1 << c
        if not ok:
            continue
        instance = model()
        if all(calls[c].outcome.matches(apply(instance, calls[c])) for c in order):
            return order
    return None


def _explains(
    model: Callable[[], object], calls: Sequence[HistoryCall], before: Sequence[int], order
) -> bool:
    instance = model()
    placed = 0
    for c in order:
        if before[c] & ~placed:
            return False
        if not calls[c].outcome.matches(apply(instance, calls[c])):
            return False
        placed |= 1 << c
    return True


@given(histories())
def test_the_search_agrees_with_brute_force(
    history: tuple[type, list[HistoryCall], list[int]],
) -> None:
    model, calls, before = history
    spec = Spec(model)

    analysis = check_history(spec, calls, before)
    witness = brute_force(model, calls, before)

    assert analysis.ok == (witness is not None)
    if analysis.ok:
        assert sorted(analysis.order) == list(range(len(calls)))
        assert _explains(model, calls, before, analysis.order)
    else:
        # The part that failed (all calls, or one partition key's) has no explaining order
        # either; its longest order is explained, and each stuck call gets, after that order,
        # what the analysis says the model gives.
        members = analysis.checked
        index = {c: i for i, c in enumerate(members)}
        part = [calls[c] for c in members]
        part_before = _restricted(before, members)
        assert brute_force(model, part, part_before) is None
        assert _explains(model, part, part_before, [index[c] for c in analysis.order])
        assert analysis.stuck
        for c, gives in analysis.stuck:
            instance = model()
            for done in analysis.order:
                apply(instance, calls[done])
            assert apply(instance, calls[c]).describe() == gives.describe()
            assert not calls[c].outcome.matches(gives)


def _restricted(before: Sequence[int], members: Sequence[int]) -> list[int]:
    index = {c: i for i, c in enumerate(members)}
    return [sum(1 << index[d] for d in members if before[c] >> d & 1) for c in members]


@given(histories())
def test_one_spec_answers_many_histories_the_same_as_a_fresh_one(
    history: tuple[type, list[HistoryCall], list[int]],
) -> None:
    # The interned states and moves a Spec keeps between searches never change an answer.
    model, calls, before = history
    shared = SHARED_SPECS.setdefault(model, Spec(model))

    assert check_history(shared, calls, before).ok == check_history(Spec(model), calls, before).ok


SHARED_SPECS: dict[type, Spec] = {}


def test_a_stale_increment_is_explained_by_no_order() -> None:
    calls = [
        HistoryCall(0, "increment", (), Outcome(False, 2)),
        HistoryCall(1, "increment", (), Outcome(False, 2)),
    ]

    analysis = check_history(Spec(CounterModel), calls, [0, 0])

    assert not analysis.ok
    assert analysis.order == ()
    assert [(c, gives.value) for c, gives in analysis.stuck] == [(0, 1), (1, 1)]


def test_real_time_order_decides() -> None:
    # t1 put(1) returned before t2's get() was invoked, and the get found the queue empty.
    calls = [
        HistoryCall(0, "put", (1,), Outcome(False, None)),
        HistoryCall(1, "get", (), Outcome(False, None)),
    ]

    assert check_history(Spec(QueueModel), calls, [0, 0]).ok  # overlapping: get first
    analysis = check_history(Spec(QueueModel), calls, [0, 0b01])
    assert not analysis.ok
    assert analysis.order == (0,)
    assert [(c, gives.value) for c, gives in analysis.stuck] == [(1, 1)]


def test_a_partitioned_model_reports_the_key_that_fails() -> None:
    calls = [
        HistoryCall(0, "set", ("a", 1), Outcome(False, None)),
        HistoryCall(1, "get", ("a",), Outcome(False, 1)),
        HistoryCall(0, "set", ("b", 2), Outcome(False, None)),
        HistoryCall(1, "get", ("b",), Outcome(False, None)),
    ]
    # Thread 0's calls come first, both returned before thread 1 started.
    before = [0, 0b0101, 0b0001, 0b0101]

    analysis = check_history(Spec(CacheModel), calls, before)

    assert not analysis.ok
    assert analysis.partitioned and analysis.key == "b"
    assert analysis.checked == (2, 3)


def test_a_call_on_the_whole_cache_checks_the_history_whole() -> None:
    calls = [
        HistoryCall(0, "set", ("a", 1), Outcome(False, None)),
        HistoryCall(1, "clear", (), Outcome(False, None)),
        HistoryCall(1, "get", ("a",), Outcome(False, 1)),
    ]

    analysis = check_history(Spec(CacheModel), calls, [0, 0, 0b010])

    assert analysis.ok and not analysis.partitioned  # set after clear explains it


def test_an_exception_outcome_matches_by_type() -> None:
    model = RaisingQueueModel
    empty = [HistoryCall(0, "get", (), Outcome(True, LookupError("x")))]
    wrong = [HistoryCall(0, "get", (), Outcome(True, KeyError("x")))]

    assert check_history(Spec(model), empty, [0]).ok
    assert not check_history(Spec(model), wrong, [0]).ok


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}, True),
        (1, True, False),
        (1, 1.0, False),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, False),  # iteration order is state too
        ((1, 2), [1, 2], False),
    ],
)
def test_freeze_compares_states_by_value_type_and_order(
    left: object, right: object, equal: bool
) -> None:
    assert (freeze(left) == freeze(right)) is equal


def test_freeze_sees_through_objects_and_slots() -> None:
    first, second = CounterModel(), CounterModel()
    second.increment()

    assert freeze(first) != freeze(second)
    first.increment()
    assert freeze(first) == freeze(second)
    assert freeze(Slotted(1)) == freeze(Slotted(1)) != freeze(Slotted(2))


def test_freeze_refuses_what_it_cannot_compare() -> None:
    from interleave._linearizability._checker import state_key

    assert state_key(UnfreezableModel()) is None


class Slotted:
    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n
