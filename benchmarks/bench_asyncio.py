"""asyncio tasks against threads: executions per second of the same counter, in the same run.

Workload: ``litmus.increments(n, k)`` (n threads, each k unlocked ``v = x.get(); x.set(v + 1)``)
against ``litmus.async_increments(n, k)`` (n asyncio tasks, each increment ``v = x.get();
await asyncio.sleep(0); x.set(v + 1)``), explored exhaustively with dpor. Both explore the same
number of executions (the trace counts 34 and 328 are pinned by the tests); the ratio of their
executions per second is what running coroutines as tasks costs (a task per thread, the
scheduled event loop, the asyncio patch, the extra ``sleep(0)`` step per increment).

Times are machine dependent: compare them only as ratios within one run. Repetitions are
interleaved (each measurement once per round) and the best round is kept.

Run it with ``python benchmarks/bench_asyncio.py [--quick]`` or through
``benchmarks/run_all.py``.
"""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass

import litmus
from tabulate import tabulate

import interleave

ROUNDS = 3
#: The dpor trace counts each workload must produce (threads and tasks alike).
EXPECTED = {(2, 2): 34, (2, 3): 328}


@dataclass
class Row:
    workload: str
    kind: str
    schedules: int
    steps: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.schedules / self.seconds


def _measure(factory: litmus.Factory) -> tuple[int, int, float]:
    start = time.perf_counter()
    result = interleave.explore(
        factory, strategy="dpor", max_schedules=100_000, minimise=False, stop_on_first=False
    )
    seconds = time.perf_counter() - start
    assert result.exhausted
    return result.schedules_run, result.statistics.steps, seconds


def measure(*, quick: bool = False) -> list[Row]:
    """The rows of the table (best of ``ROUNDS`` rounds; one round when quick)."""
    sizes = [(2, 2)] if quick else [(2, 2), (2, 3)]
    best: dict[tuple[str, str], Row] = {}
    for _ in range(1 if quick else ROUNDS):
        for n, k in sizes:
            for kind, factory in (
                ("threads", litmus.increments(n, k)),
                ("asyncio tasks", litmus.async_increments(n, k)),
            ):
                schedules, steps, seconds = _measure(factory)
                if schedules != EXPECTED[(n, k)]:
                    raise RuntimeError(
                        f"{kind} {n} x {k}: {schedules} executions, not {EXPECTED[(n, k)]}"
                    )
                key = (f"{n} x {k} increments", kind)
                row = Row(key[0], kind, schedules, steps, seconds)
                if key not in best or seconds < best[key].seconds:
                    best[key] = row
    return list(best.values())


def render(rows: list[Row]) -> str:
    """The table, with each task row's speed relative to the threads of the same size."""
    threads = {r.workload: r for r in rows if r.kind == "threads"}
    table = [
        (
            r.workload,
            r.kind,
            f"{r.schedules:,}",
            f"{r.steps:,}",
            f"{r.per_second:,.0f}",
            f"{r.per_second / threads[r.workload].per_second:.2f}",
        )
        for r in rows
    ]
    return tabulate(
        table,
        headers=["workload", "explored as", "schedules", "steps", "executions/s", "vs threads"],
    )


def main(quick: bool = False) -> None:
    """Measure and print the table."""
    rows = measure(quick=quick)
    mode = "quick" if quick else f"best of {ROUNDS} rounds"
    print(
        "asyncio tasks vs threads: dpor executions/s of the same counter "
        f"(interleave {interleave.__version__}, Python {platform.python_version()}, {mode})"
    )
    print(render(rows))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
