"""An independent oracle for DPOR on asyncio tasks: for small generated async programs
(``INTERLEAVE_ASYNC_ORACLE_EXAMPLES`` of them, 15 by default), dpor reaches exactly the outcomes
(what every task observed, the final state) and the findings that dfs reaches by running every
interleaving; with and without cancellation as a choice."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import interleave

Action = tuple[Any, ...]

_SIMPLE = st.one_of(
    st.tuples(st.just("read"), st.sampled_from("xy")),
    st.tuples(st.just("write"), st.sampled_from("xy"), st.integers(1, 2)),
    st.tuples(st.just("sleep")),
    st.tuples(st.just("put"), st.integers(1, 2)),
    st.tuples(st.just("take")),
    st.tuples(st.just("set")),
    st.tuples(st.just("wait")),
)
_ACTION = st.one_of(
    _SIMPLE, st.tuples(st.just("locked"), st.lists(_SIMPLE, min_size=1, max_size=2))
)
_PROGRAM = st.lists(st.lists(_ACTION, min_size=1, max_size=2), min_size=2, max_size=3)


def _scenario(plan: Sequence[Sequence[Action]], outcomes: set[Any]) -> Callable[[], Any]:
    def scenario() -> interleave.Scenario:
        cells = {"x": interleave.Shared("x", 0), "y": interleave.Shared("y", 0)}
        queue: asyncio.Queue[int] = asyncio.Queue()
        event = asyncio.Event()
        lock = asyncio.Lock()
        seen: list[list[object]] = [[] for _ in plan]

        async def run(actions: Sequence[Action], obs: list[object]) -> None:
            for action in actions:
                kind = action[0]
                if kind == "read":
                    obs.append(cells[action[1]].get())
                elif kind == "write":
                    cells[action[1]].set(action[2])
                elif kind == "sleep":
                    await asyncio.sleep(0)
                elif kind == "put":
                    queue.put_nowait(action[1])
                elif kind == "take":
                    try:
                        obs.append(queue.get_nowait())
                    except asyncio.QueueEmpty:
                        obs.append("empty")
                elif kind == "set":
                    event.set()
                elif kind == "wait":
                    await event.wait()
                    obs.append("woken")
                else:
                    async with lock:
                        await run(action[1], obs)

        def task(i: int) -> Callable[[], Any]:
            async def main() -> None:
                try:
                    await run(plan[i], seen[i])
                except asyncio.CancelledError:
                    seen[i].append("cancelled")
                    raise

            return main

        def check() -> bool:
            rest = []
            while not queue.empty():
                rest.append(queue.get_nowait())
            outcomes.add((tuple(map(tuple, seen)), cells["x"].get(), cells["y"].get(), *rest))
            return True

        return interleave.Scenario(threads=[task(i) for i in range(len(plan))], check=check)

    return scenario


def _findings(result: interleave.ExploreResult) -> set[tuple[object, ...]]:
    return {(f.kind, *f.signature) for f in result.findings}


def check_program(plan: Sequence[Sequence[Action]], *, cancellation: bool) -> None:
    options: dict[str, Any] = {
        "max_schedules": 1_500,
        "minimise": False,
        "watchdog": 0,
        "suppress_health_check": "all",
        "cancellation": cancellation,
    }
    dfs_outcomes: set[Any] = set()
    dpor_outcomes: set[Any] = set()
    dfs = interleave.explore(_scenario(plan, dfs_outcomes), strategy="dfs", **options)
    if not dfs.exhausted:
        reject()  # too big for the oracle, which needs every interleaving
    dpor = interleave.explore(_scenario(plan, dpor_outcomes), strategy="dpor", **options)
    assert dpor.exhausted
    assert dpor_outcomes == dfs_outcomes
    assert _findings(dpor) == _findings(dfs)
    assert dpor.schedules_run <= dfs.schedules_run


@settings(
    max_examples=int(os.environ.get("INTERLEAVE_ASYNC_ORACLE_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_PROGRAM, st.booleans())
def test_dpor_reaches_every_outcome_and_finding_of_dfs_on_tasks(
    plan: list[list[Action]], cancellation: bool
) -> None:
    check_program(plan, cancellation=cancellation)


def test_the_oracle_sees_a_difference() -> None:
    # The outcome sets are not trivially equal: a racy program has several outcomes.
    outcomes: set[Any] = set()
    plan = [[("write", "x", 1)], [("read", "x")]]
    interleave.explore(_scenario(plan, outcomes), strategy="dfs", suppress_health_check="all")
    assert len(outcomes) == 2
