"""gather, TaskGroup and asyncio.timeout under the scheduler: the tasks they start are explored
like any other, and a timeout that must fire does."""

from __future__ import annotations

import asyncio

import interleave
from interleave import Scenario, Shared


def _increments(start: str) -> interleave.ExploreResult:
    def scenario() -> Scenario:
        x = Shared("x", 0)

        async def inc() -> None:
            seen = x.get()
            await asyncio.sleep(0)
            x.set(seen + 1)

        async def gathered() -> None:
            await asyncio.gather(inc(), inc())

        async def grouped() -> None:
            async with asyncio.TaskGroup() as group:
                group.create_task(inc())
                group.create_task(inc())

        main = gathered if start == "gather" else grouped
        return Scenario(threads={"main": main}, check=lambda: x.get() == 2)

    return interleave.explore(scenario, suppress_health_check="all")


def test_tasks_started_by_gather_interleave_and_lose_an_update() -> None:
    result = _increments("gather")
    assert result.exhausted
    assert {"lost-update", "invariant"} <= {f.kind for f in result.findings}


def test_tasks_of_a_task_group_interleave_and_lose_an_update() -> None:
    result = _increments("taskgroup")
    assert result.exhausted
    assert {"lost-update", "invariant"} <= {f.kind for f in result.findings}


def test_a_timeout_shorter_than_the_sleep_fires_in_every_schedule() -> None:
    def scenario() -> Scenario:
        outcome = Shared("outcome", "")

        async def main() -> None:
            try:
                async with asyncio.timeout(0.5):
                    await asyncio.sleep(1.0)
                outcome.set("slept")
            except TimeoutError:
                outcome.set("timed out")

        return Scenario(threads={"main": main}, check=lambda: outcome.get() == "timed out")

    result = interleave.explore(scenario, suppress_health_check="all")
    assert result.ok and result.exhausted
