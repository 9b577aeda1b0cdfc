"""Unmodified ``threading`` code under the scheduler: what the patch and attribute tracing cost.

Workloads (deterministic counts, the same on every machine; exhaustive ``strategy="dfs"``):

- ``locked counter``: a main thread starts two threads that each do
  ``with lock: box.value += 1`` and joins them. Written twice: with ``threading.Thread`` /
  ``threading.Lock`` (the threading patch turns them into scheduled objects) and with
  ``interleave.spawn`` / ``interleave.Lock``. Both have the same yield points (start, acquire,
  release, join), so they explore the same number of schedules and steps; the ratio of their
  executions per second is the price of the patch (installing it around every execution,
  ``Thread`` objects, swapping module-level primitives).
- ``racy counter``: two threads do ``self.count += 1`` on a plain class, explored with
  ``trace_attributes=True``, against the same read-then-write written with
  ``interleave.Shared`` ``get``/``set``. Same steps (read, write per thread); the ratio is the
  price of the attribute hooks.
- ``attribute access``: nanoseconds per ``obj.value`` read outside any exploration, for a plain
  class and for a ``watch``-ed one (the cost a watched class adds to production code).

Times are machine dependent: compare them only as ratios within one run. Repetitions are
interleaved (every measurement once per round) and the best round is kept.

Run it with ``python benchmarks/bench_threading.py [--quick]`` or through
``benchmarks/run_all.py``.
"""

from __future__ import annotations

import gc
import platform
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tabulate import tabulate

import interleave
from interleave.instrument._watch import unwatch, watch

#: Seconds one timed repetition aims for (full mode).
TARGET_SECONDS = 0.3
#: Rounds (full mode); the best round of each measurement is kept.
ROUNDS = 5


# ---------------------------------------------------------------------------- scenarios
class Box:
    """A plain object holding a value (no interleave anywhere)."""

    def __init__(self) -> None:
        self.value = 0


class HitCounter:
    """The racy counter of the threading guide: ``self.count += 1`` without a lock."""

    def __init__(self) -> None:
        self.count = 0

    def hit(self) -> None:
        self.count += 1


def threading_counter() -> interleave.Scenario:
    """Unmodified threading code: Thread + Lock."""
    box = Box()
    lock = threading.Lock()

    def worker() -> None:
        with lock:
            box.value += 1

    def main() -> None:
        workers = [threading.Thread(target=worker) for _ in range(2)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()

    return interleave.Scenario(threads=[main], check=lambda: box.value == 2)


def primitives_counter() -> interleave.Scenario:
    """The same scenario written with interleave's primitives."""
    box = Box()
    lock = interleave.Lock()

    def worker() -> None:
        with lock:
            box.value += 1

    def main() -> None:
        workers = [interleave.spawn(worker) for _ in range(2)]
        for t in workers:
            t.join()

    return interleave.Scenario(threads=[main], check=lambda: box.value == 2)


def traced_racy_counter() -> interleave.Scenario:
    """``self.count += 1`` in two threads (explored with ``trace_attributes=True``)."""
    hits = HitCounter()
    return interleave.Scenario(threads=[hits.hit, hits.hit])


def shared_racy_counter() -> interleave.Scenario:
    """The same read-then-write with ``interleave.Shared``."""
    count = interleave.Shared("count", 0)

    def hit() -> None:
        count.set(count.get() + 1)

    return interleave.Scenario(threads=[hit, hit])


@dataclass(frozen=True)
class Case:
    """One exploration to time, with the counts it must produce."""

    workload: str
    variant: str
    factory: Callable[[], interleave.Scenario]
    trace_attributes: bool
    findings: bool
    schedules: int
    steps: int


# The first case of each workload is the baseline (interleave's own primitives).
CASES = (
    Case("locked counter", "interleave primitives", primitives_counter, False, False, 39, 390),
    Case("locked counter", "threading (patched)", threading_counter, False, False, 39, 390),
    Case("racy counter", "interleave.Shared", shared_racy_counter, False, True, 6, 24),
    Case("racy counter", "trace_attributes=True", traced_racy_counter, True, True, 6, 24),
)


def explore(case: Case) -> tuple[int, int]:
    """One exhaustive exploration; (schedules, steps), checked against the case."""
    result = interleave.explore(
        case.factory, strategy="dfs", trace_attributes=case.trace_attributes
    )
    if not result.exhausted or result.ok == case.findings:
        raise RuntimeError(f"{case.variant}: unexpected result\n{result.report()}")
    counts = (result.schedules_run, result.statistics.steps)
    if counts != (case.schedules, case.steps):
        raise RuntimeError(
            f"{case.workload} / {case.variant}: expected {case.schedules} schedules and "
            f"{case.steps} steps, got {counts}"
        )
    return counts


def time_explorations(case: Case, repeat: int) -> float:
    """Seconds for ``repeat`` explorations of ``case``."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(repeat):
        explore(case)
    return time.perf_counter() - start


def attribute_read_ns(cls: type[Box], reads: int) -> float:
    """Nanoseconds per ``obj.value`` read outside an exploration."""
    obj = cls()
    start = time.perf_counter()
    for _ in range(reads):
        obj.value  # noqa: B018 - the read is what is measured
    return (time.perf_counter() - start) / reads * 1e9


# ---------------------------------------------------------------------------- main
def main(quick: bool = False) -> None:
    """Measure and print the table."""
    rounds = 1 if quick else ROUNDS
    repeats = {}
    for case in CASES:
        explore(case)  # warm up, and check the counts once
        if quick:
            repeats[case] = 1
        else:
            once = max(time_explorations(case, 5) / 5, 1e-6)
            repeats[case] = max(1, int(TARGET_SECONDS / once))
    best: dict[Case, float] = {case: float("inf") for case in CASES}
    for _ in range(rounds):
        for case in CASES:
            elapsed = time_explorations(case, repeats[case])
            best[case] = min(best[case], elapsed / repeats[case])

    @watch
    class WatchedBox(Box):
        pass

    reads = 20_000 if quick else 1_000_000
    plain_ns = watched_ns = float("inf")
    try:
        for _ in range(rounds):
            plain_ns = min(plain_ns, attribute_read_ns(Box, reads))
            watched_ns = min(watched_ns, attribute_read_ns(WatchedBox, reads))
    finally:
        unwatch(WatchedBox)

    mode = "quick (one round, not a measurement)" if quick else f"best of {rounds} rounds"
    print(
        "Unmodified threading code vs interleave primitives (executions/s, exhaustive dfs); "
        f"interleave {interleave.__version__}, Python {platform.python_version()}, {mode}"
    )
    rows = []
    baseline: dict[str, float] = {}
    for case in CASES:
        per_second = case.schedules / best[case]
        baseline.setdefault(case.workload, per_second)
        rows.append(
            [
                case.workload,
                case.variant,
                case.schedules,
                case.steps,
                f"{per_second:,.0f}",
                f"{baseline[case.workload] / per_second:.2f}x",
            ]
        )
    print(
        tabulate(
            rows,
            headers=["workload", "variant", "schedules", "steps", "executions/s", "time vs first"],
            disable_numparse=True,
        )
    )
    print()
    print(
        tabulate(
            [
                ["plain class", f"{plain_ns:.0f}", "1.00x"],
                ["@watch class", f"{watched_ns:.0f}", f"{watched_ns / plain_ns:.1f}x"],
            ],
            headers=["obj.value outside an exploration", "ns per read", "ratio"],
            disable_numparse=True,
        )
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
