"""Litmus tests: exact schedule counts of the exhaustive DFS strategy (loom's style).

Every count here is a closed formula: with nothing blocking, DFS must run each interleaving of
the yield points exactly once (a multinomial coefficient) and then report ``exhausted``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from textbook import lost_update

import interleave


def _steps(label: str, n: int, resource: str | None = None) -> Callable[[], None]:
    def thread() -> None:
        for i in range(n):
            if resource is None:
                interleave.point(f"{label}{i}")
            else:
                interleave.point(f"{label}{i}", resource=f"{resource}{i}")

    thread.__name__ = label
    return thread


def _multinomial(*counts: int) -> int:
    total = math.factorial(sum(counts))
    for c in counts:
        total //= math.factorial(c)
    return total


PAIRS = [(a, b) for a in range(1, 5) for b in range(1, 5)]


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=[f"{a}x{b}" for a, b in PAIRS])
def test_two_threads_with_points_give_binomial_count(a: int, b: int) -> None:
    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[_steps("a", a), _steps("b", b)])

    result = interleave.explore(scenario, strategy="dfs")

    assert result.ok
    assert result.exhausted
    assert result.stopped_because == "exhausted"
    assert result.schedules_run == math.comb(a + b, a)


@pytest.mark.parametrize(("a", "b"), [(1, 1), (2, 3), (4, 1), (3, 3)])
def test_two_threads_writing_different_shared_objects_give_binomial_count(a: int, b: int) -> None:
    def scenario() -> interleave.Scenario:
        left = [interleave.Shared(f"left{i}", 0) for i in range(a)]
        right = [interleave.Shared(f"right{i}", 0) for i in range(b)]

        def writer_left() -> None:
            for i, box in enumerate(left):
                box.set(i)

        def writer_right() -> None:
            for i, box in enumerate(right):
                box.set(i)

        return interleave.Scenario(threads=[writer_left, writer_right])

    result = interleave.explore(scenario, strategy="dfs")

    assert result.ok
    assert result.exhausted
    assert result.schedules_run == math.comb(a + b, a)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [((1, 1, 1), 6), ((2, 2, 2), 90), ((1, 2, 3), 60)],
    ids=["1x1x1", "2x2x2", "1x2x3"],
)
def test_three_threads_give_multinomial_count(counts: tuple[int, ...], expected: int) -> None:
    def scenario() -> interleave.Scenario:
        return interleave.Scenario(
            threads=[_steps(name, n, resource=name) for name, n in zip("xyz", counts, strict=True)]
        )

    result = interleave.explore(scenario, strategy="dfs")

    assert expected == _multinomial(*counts)
    assert result.ok
    assert result.exhausted
    assert result.schedules_run == expected


def test_single_thread_has_exactly_one_schedule() -> None:
    with pytest.warns(interleave.HealthCheckWarning, match="ran a single thread"):
        result = interleave.explore(lambda: [_steps("solo", 5)], strategy="dfs")

    assert result.ok
    assert result.exhausted
    assert result.schedules_run == 1


def test_statistics_count_every_step_of_every_schedule() -> None:
    result = interleave.explore(lambda: [_steps("a", 2), _steps("b", 2)], strategy="dfs")

    assert result.schedules_run == 6
    assert result.statistics.executions == 6
    assert result.statistics.max_depth == 4
    assert result.statistics.steps == 6 * 4


# ---------------------------------------------------------------------------- locked / atomic


def _locked_increments(n: int) -> Callable[[], interleave.Scenario]:
    def scenario() -> interleave.Scenario:
        lock = interleave.Lock(name="x-lock")
        x = interleave.Shared("x", 0)

        def worker() -> None:
            with lock:
                x.set(x.get() + 1)

        return interleave.Scenario(threads=[worker] * n, check=lambda: x.get() == n)

    return scenario


@pytest.mark.parametrize("n", [2, 3])
def test_locked_increments_are_clean_and_exhausted(n: int) -> None:
    result = interleave.explore(_locked_increments(n), strategy="dfs")

    assert result.findings == ()
    assert result.ok
    assert result.exhausted
    assert result.stopped_because == "exhausted"


@pytest.mark.parametrize("n", [2, 3])
def test_atomic_counter_add_is_clean_and_exhausted(n: int) -> None:
    def scenario() -> interleave.Scenario:
        visits = interleave.Counter("visits")

        def worker() -> None:
            visits.add()

        return interleave.Scenario(threads=[worker] * n, check=lambda: visits.get() == n)

    result = interleave.explore(scenario, strategy="dfs")

    assert result.findings == ()
    assert result.exhausted
    # One atomic step per thread: every order of the n steps.
    assert result.schedules_run == math.factorial(n)


@pytest.mark.parametrize("n", [2, 3])
def test_atomic_shared_update_is_clean_and_exhausted(n: int) -> None:
    def scenario() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)

        def worker() -> None:
            hits.update(lambda v: v + 1)

        return interleave.Scenario(threads=[worker] * n, check=lambda: hits.get() == n)

    result = interleave.explore(scenario, strategy="dfs")

    assert result.findings == ()
    assert result.exhausted
    assert result.schedules_run == math.factorial(n)


def test_lost_update_gives_lost_update_and_invariant_findings() -> None:
    result = interleave.explore(lost_update, strategy="dfs")

    assert not result.ok
    assert result.exhausted
    assert result.schedules_run == math.comb(4, 2)
    kinds = [f.kind for f in result.findings]
    assert sorted(kinds) == ["data-race", "invariant", "lost-update"]
    lost = next(f for f in result.findings if f.kind == "lost-update")
    assert isinstance(lost, interleave.LostUpdate)
    assert lost.resource == ("shared", "hits")
    assert set(lost.threads) == {"worker#1", "worker#2"}
    assert lost.read_step < lost.other_write_step < lost.write_step


def test_unlocked_increment_without_check_still_reports_lost_update() -> None:
    def scenario() -> list[Callable[[], None]]:
        hits = interleave.Shared("hits", 0)

        def worker() -> None:
            hits.set(hits.get() + 1)

        return [worker, worker]

    result = interleave.explore(scenario, strategy="dfs")

    assert [f.kind for f in result.findings] == ["lost-update", "data-race"]


# ---------------------------------------------------------------------------- spawn / join


def _spawning_parent() -> interleave.Scenario:
    done = interleave.Counter("done")
    names: list[str] = []

    def worker() -> None:
        done.add()

    def parent() -> None:
        first = interleave.spawn(worker)
        second = interleave.spawn(worker)
        names.extend([first.name, second.name])
        first.join()
        second.join()
        assert done.get() == 2

    return interleave.Scenario(threads=[parent], check=lambda: names == ["worker#1", "worker#2"])


def test_parent_spawns_and_joins_two_children_without_findings() -> None:
    result = interleave.explore(_spawning_parent, strategy="dfs")

    assert result.findings == ()
    assert result.exhausted
    assert result.schedules_run > 1


def test_spawned_thread_names_are_stable_across_executions() -> None:
    per_execution: list[list[str]] = []

    def scenario() -> interleave.Scenario:
        names: list[str] = []
        per_execution.append(names)

        def worker() -> None:
            interleave.point("child")

        def parent() -> None:
            handles = [interleave.spawn(worker), interleave.spawn(worker)]
            names.extend(h.name for h in handles)
            for handle in handles:
                handle.join()

        # Fails on purpose, so every finding carries its execution's trace.
        return interleave.Scenario(threads=[parent], check=lambda: False)

    result = interleave.explore(scenario, strategy="dfs")

    assert result.exhausted
    # Minimising a finding may run a few more executions than the exploration counts.
    assert len(per_execution) >= result.schedules_run > 1
    assert all(names == ["worker#1", "worker#2"] for names in per_execution)
    (finding,) = result.findings
    assert finding.trace is not None
    assert finding.trace.thread_names == ("parent#1", "worker#1", "worker#2")
    run = interleave.replay(scenario, finding.schedule_id)
    assert run.trace.thread_names == ("parent#1", "worker#1", "worker#2")
