"""What checking linearizability costs beside exploring: 3 threads x 2 calls.

Table 1, per workload (a thread-safe object, its model and its operations; every scenario of 3
threads x 2 calls, each explored exhaustively with ``dpor``):

- the counts: scenarios, executions (schedules, minimisation included), histories checked (one
  execution stands for every real-time order of its independent steps: its maximal ones are
  checked) and of those, searched (not answered from the cache);
- the time of the check per history and per execution, against the exploration time per
  execution without the check, and their ratio. The check runs inside each execution's
  ``check()``: it is timed there and taken out of the exploration time.

Table 2, the design choice behind it: the executions one scenario needs when the invocation
and response marks touch nothing and the check enumerates the real-time orders (what
``check_linearizable`` does), against marks that conflict wherever real time can differ (DPOR
then runs every order of the marks, and each execution's own history is checked). Both find
the same bugs (``tests/linearizability/test_history.py``).

Times are best of ``ROUNDS`` rounds, interleaved; compare them only as ratios within one run.
``quick=True`` runs 2 threads x 2 calls once (it proves the script works; not a measurement).

Run it with ``python benchmarks/bench_linearizability.py [--quick]`` or through
``benchmarks/run_all.py``.
"""

from __future__ import annotations

import platform
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate

import interleave
from interleave.models import CacheModel, CounterModel, QueueModel

ROUNDS = 3


class LockedCounter:
    def __init__(self) -> None:
        self.count = interleave.Shared("count", 0)
        self.lock = interleave.Lock()

    def increment(self) -> int:
        with self.lock:
            value = self.count.get() + 1
            self.count.set(value)
            return value

    def get(self) -> int:
        return self.count.get()


class LockedCache:
    def __init__(self) -> None:
        self.data: interleave.Cache[Any, Any] = interleave.Cache("data")
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        return self.data.get(key)

    def get_or_set(self, key: Any, value: Any) -> Any:
        with self.lock:
            current = self.data.get(key)
            if current is None:
                self.data.set(key, value)
                return value
            return current


class LockedQueue:
    def __init__(self) -> None:
        self.items = interleave.Shared("items", ())
        self.head = interleave.Shared("head", 0)
        self.lock = interleave.Lock()

    def put(self, item: Any) -> None:
        self.items.update(lambda items: (*items, item))

    def get(self) -> Any:
        with self.lock:
            head = self.head.get()
            items = self.items.get()
            if head >= len(items):
                return None
            self.head.set(head + 1)
            return items[head]


#: (name, make, model, operations)
WORKLOADS: list[tuple[str, Callable[[], object], type, list[Any]]] = [
    ("counter (increment, get)", LockedCounter, CounterModel, ["increment", "get"]),
    (
        "cache (get_or_set k=1, k=2; get)",
        LockedCache,
        CacheModel,
        [
            ("get_or_set", ("k", 1)),
            ("get_or_set", ("k", 2)),
            ("get", ("k",)),
        ],
    ),
    ("queue (put 1, get)", LockedQueue, QueueModel, [("put", (1,)), "get"]),
]


@dataclass
class Row:
    workload: str
    scenarios: int
    executions: int
    histories: int
    searched: int
    check: float = float("inf")  # seconds of the check, best round
    explore: float = float("inf")  # seconds of the exploration without the check, same round


def _run(make: Callable[[], object], model: type, operations: list[Any], threads: int) -> Any:
    result = interleave.check_linearizable(
        make, model, operations, threads=threads, calls_per_thread=2, max_scenarios=10_000
    )
    if not result.ok or result.verdict != "proved":
        raise RuntimeError(f"{make.__name__} is not proved linearizable:\n{result.report()}")
    return result


def measure(quick: bool) -> list[Row]:
    """Table 1: every workload, ``ROUNDS`` interleaved rounds (one when quick)."""
    threads = 2 if quick else 3
    rows: dict[str, Row] = {}
    for _ in range(1 if quick else ROUNDS):
        for name, make, model, operations in WORKLOADS:
            result = _run(make, model, operations, threads)
            counts = (
                result.scenarios_run,
                result.statistics.executions,
                result.histories_checked,
                result.histories_searched,
            )
            row = rows.setdefault(name, Row(name, *counts))
            if (row.scenarios, row.executions, row.histories, row.searched) != counts:
                raise RuntimeError(f"{name}: the counts changed between rounds: {counts}")
            explore = result.statistics.phases["explore"] - result.check_seconds
            if result.check_seconds + explore < row.check + row.explore:
                row.check, row.explore = result.check_seconds, explore
    return list(rows.values())


def marks_compared(quick: bool) -> list[tuple[str, int, int, float, float]]:
    """Table 2: (scenario, executions with resource-free marks, with conflicting marks, the
    seconds of each)."""
    cases = [("counter: 2 x (increment, get)", LockedCounter, 2)]
    if not quick:
        cases.append(("counter: 3 x (increment, get)", LockedCounter, 3))
    out = []
    for name, make, threads in cases:
        scenario = tuple((("increment", ()), ("get", ())) for _ in range(threads))
        start = time.perf_counter()
        free = interleave.explore(_marked(make, scenario, conflicting=False), minimise=False)
        free_time = time.perf_counter() - start
        start = time.perf_counter()
        conflicting = interleave.explore(_marked(make, scenario, conflicting=True), minimise=False)
        conflicting_time = time.perf_counter() - start
        if not (free.exhausted and conflicting.exhausted):
            raise RuntimeError(f"{name}: not exhausted")
        out.append(
            (name, free.schedules_run, conflicting.schedules_run, free_time, conflicting_time)
        )
    return out


def _marked(make: Callable[[], object], scenario: Any, *, conflicting: bool) -> Any:
    def factory() -> interleave.Scenario:
        obj = make()

        def thread(t: int) -> Callable[[], None]:
            def run() -> None:
                for method, args in scenario[t]:
                    if conflicting:
                        interleave.point("call", resource=("history", "calls"), access="read")
                    else:
                        interleave.point("call")
                    getattr(obj, method)(*args)
                    if conflicting:
                        interleave.point("->", resource=("history", "calls", t), access="write")
                    else:
                        interleave.point("->")

            return run

        return interleave.Scenario(threads={f"t{i + 1}": thread(i) for i in range(len(scenario))})

    return factory


def render(rows: list[Row], marks: list[tuple[str, int, int, float, float]], quick: bool) -> str:
    threads = 2 if quick else 3
    table = [
        (
            row.workload,
            f"{row.scenarios:,}",
            f"{row.executions:,}",
            f"{row.histories:,}",
            f"{row.searched:,}",
            f"{row.check / row.histories * 1e6:,.0f}",
            f"{row.check / row.executions * 1e6:,.0f}",
            f"{row.explore / row.executions * 1e6:,.0f}",
            f"{row.check / row.explore:.2f}",
        )
        for row in rows
    ]
    first = tabulate(
        table,
        headers=[
            "workload",
            "scenarios",
            "executions",
            "histories",
            "searched",
            "check us/history",
            "check us/execution",
            "explore us/execution",
            "check / explore",
        ],
        tablefmt="simple",
        disable_numparse=True,
    )
    second = tabulate(
        [
            (
                name,
                f"{free:,}",
                f"{conflicting:,}",
                f"{conflicting / free:,.0f}x",
                f"{t2 / t1:,.0f}x",
            )
            for name, free, conflicting, t1, t2 in marks
        ],
        headers=[
            "one scenario",
            "executions (marks touch nothing)",
            "executions (marks conflict)",
            "ratio",
            "time ratio",
        ],
        tablefmt="simple",
        disable_numparse=True,
    )
    mode = "quick" if quick else f"best of {ROUNDS} rounds"
    return (
        f"check_linearizable on every scenario of {threads} threads x 2 calls ({mode}; Python "
        f"{platform.python_version()}, interleave {interleave.__version__})\n\n{first}\n\n"
        f"what enumerating real-time orders saves over exploring them:\n\n{second}"
    )


def main(quick: bool = False) -> None:
    """Measure and print both tables."""
    print(render(measure(quick), marks_compared(quick), quick))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
