"""DPOR on asyncio tasks: the exact trace counts of the threaded litmus programs."""

from __future__ import annotations

import math

import litmus
import pytest

import interleave


@pytest.mark.parametrize(
    ("n", "k", "traces"), [(2, 1, 4), (2, 2, 34), (3, 1, 36), (2, 3, 328), (3, 2, 7134)]
)
def test_unlocked_increments_across_awaits_count_as_the_threads(
    n: int, k: int, traces: int
) -> None:
    # The threads' counts are pinned by tests/engine/test_dpor.py (the same table).
    tasks = interleave.explore(litmus.async_increments(n, k), max_schedules=100_000)
    assert tasks.exhausted
    assert tasks.schedules_run == traces
    assert tasks.statistics.pruned == 0
    assert {f.kind for f in tasks.findings} == {"lost-update", "invariant", "data-race"}


@pytest.mark.parametrize(("n", "k"), [(2, 1), (2, 2), (3, 1), (2, 3)])
def test_increments_under_an_asyncio_lock_explore_every_lock_order_and_are_clean(
    n: int, k: int
) -> None:
    result = interleave.explore(litmus.async_increments(n, k, locked=True))
    assert result.ok and result.exhausted
    assert result.schedules_run == math.factorial(n * k) // math.factorial(k) ** n


def test_sleep_zero_conflicts_with_nothing() -> None:
    def scenario() -> interleave.Scenario:
        import asyncio

        async def idle() -> None:
            for _ in range(3):
                await asyncio.sleep(0)

        return interleave.Scenario(threads=[idle, idle, idle])

    result = interleave.explore(scenario, suppress_health_check=["single_schedule"])
    assert result.ok and result.exhausted and result.schedules_run == 1
