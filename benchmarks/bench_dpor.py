"""DPOR against DFS on the classic benchmarks, the 3 x 3 counter, and PCT against random.

Prints, measured in one run:

1. For each program: the optimal number of executions (Mazurkiewicz traces), what ``dpor``
   explored (and how many executions were sleep-set blocked), what ``dfs`` ran, and the time of
   each. Counts are deterministic and comparable across machines; times only as ratios.
   The programs include the lock benchmarks of the literature (``filesystem``, ``indexer`` with
   a lock per slot) and dining philosophers.
2. Schedules per second of ``dpor`` beside ``dfs`` on the same scenario.
3. SCTBench-style programs (``sctbench.py``): the bug each hides, found by the default
   strategy, after how many executions, and the whole exploration.
4. The hit rate of ``random`` and ``pct`` (depth 2) over 1,000 seeded single executions on a
   scenario with a depth-2 ordering bug.

``quick=True`` runs small sizes only (it proves the script works; not a measurement).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))

import litmus
import sctbench

import interleave


def _explore(factory: Callable[[], object], strategy: str, budget: int) -> tuple[int, int, float]:
    start = time.perf_counter()
    result = interleave.explore(
        factory,
        strategy=strategy,
        max_schedules=budget,
        minimise=False,
        suppress_health_check="all",
    )
    elapsed = time.perf_counter() - start
    if not result.exhausted:
        raise RuntimeError(f"{strategy} did not exhaust {factory} within {budget:,}")
    return result.schedules_run, result.statistics.pruned, elapsed


def _programs(quick: bool) -> list[tuple[str, Callable[[], object], int, int | None]]:
    """(name, factory, optimal traces, dfs schedules or None when too many to run)."""
    rows: list[tuple[str, Callable[[], object], int, int | None]] = [
        ("increments(2,2)", litmus.increments(2, 2), 34, 70),
        ("increments(3,1)", litmus.increments(3, 1), 36, 90),
        ("increments(2,3)", litmus.increments(2, 3), 328, 924),
        ("readers(3)", litmus.readers(3), 8, 24),
        ("lastzero(5)", litmus.lastzero(5), 64, None),
        ("indexer(12)", litmus.indexer(12), 8, None),
        ("filesystem(14)", litmus.filesystem(14), 2, None),
        ("locked_indexer(12)", litmus.locked_indexer(12), 8, None),
        ("philosophers(3, naive)", litmus.philosophers(3), 7, None),
        ("philosophers(3, ordered)", litmus.philosophers(3, ordered=True), 6, None),
    ]
    if not quick:
        rows += [
            ("increments(3,2)", litmus.increments(3, 2), 7_134, 34_650),
            ("readers(8)", litmus.readers(8), 256, None),
            ("lastzero(7)", litmus.lastzero(7), 320, None),
            ("indexer(13)", litmus.indexer(13), 64, None),
            ("indexer(14)", litmus.indexer(14), 512, None),
            ("filesystem(16)", litmus.filesystem(16), 8, None),
            ("filesystem(18)", litmus.filesystem(18), 32, None),
            ("locked_indexer(13)", litmus.locked_indexer(13), 64, None),
            ("philosophers(4, naive)", litmus.philosophers(4), 25, None),
            ("philosophers(5, naive)", litmus.philosophers(5), 121, None),
            ("philosophers(5, ordered)", litmus.philosophers(5, ordered=True), 120, None),
        ]
    return rows


def table_counts(quick: bool) -> str:
    rows = []
    for name, factory, optimal, dfs_count in _programs(quick):
        runs, pruned, t_dpor = _explore(factory, "dpor", 10**7)
        if dfs_count is not None:
            dfs_runs, _, t_dfs = _explore(factory, "dfs", 10**7)
            dfs_cell, dfs_time = f"{dfs_runs:,}", f"{t_dfs:.2f}"
        else:
            dfs_cell, dfs_time = "not run (too many)", "-"
        rows.append(
            (
                name,
                f"{optimal:,}",
                f"{runs:,}",
                "yes" if runs == optimal else "NO",
                f"{pruned:,}",
                f"{t_dpor:.2f}",
                dfs_cell,
                dfs_time,
            )
        )
    return tabulate(
        rows,
        headers=[
            "program",
            "traces (optimal)",
            "dpor executions",
            "= optimal",
            "sleep-set blocked",
            "dpor s",
            "dfs schedules",
            "dfs s",
        ],
        disable_numparse=True,
    )


def table_rate(quick: bool) -> str:
    factory = litmus.increments(2, 3) if quick else litmus.increments(3, 2)
    label = "increments(2,3)" if quick else "increments(3,2)"
    rows = []
    for strategy in ("dpor", "dfs"):
        runs, _, elapsed = _explore(factory, strategy, 10**7)
        rows.append((label, strategy, f"{runs:,}", f"{elapsed:.2f}", f"{runs / elapsed:,.0f}"))
    big = []
    if not quick:
        runs, _, elapsed = _explore(litmus.increments(3, 3), "dpor", 10**7)
        big.append(
            (
                "increments(3,3)",
                "dpor",
                f"{runs:,} (optimal 1,824,912; dfs would need 17,153,136)",
                f"{elapsed:.1f}",
                f"{runs / elapsed:,.0f}",
            )
        )
    return tabulate(
        rows + big,
        headers=["scenario", "strategy", "executions", "seconds", "executions/s"],
        disable_numparse=True,
    )


def table_sctbench(quick: bool) -> str:
    rows = []
    for name, (factory, kind) in sctbench.PROGRAMS.items():
        start = time.perf_counter()
        result = interleave.explore(factory, max_schedules=10**6, minimise=False)
        elapsed = time.perf_counter() - start
        found = kind in {f.kind for f in result.findings}
        first = interleave.explore(factory, max_schedules=10**6, stop_on_first=True)
        rows.append(
            (
                name,
                kind,
                "yes" if found else "NO",
                f"{first.schedules_run:,}",
                f"{result.schedules_run:,}",
                "yes" if result.exhausted else "no",
                f"{elapsed:.2f}",
            )
        )
        if not found:
            raise RuntimeError(f"dpor did not find the {kind} of {name}")
    return tabulate(
        rows,
        headers=[
            "program",
            "bug",
            "found",
            "executions to it",
            "dpor executions",
            "exhausted",
            "s",
        ],
        disable_numparse=True,
    )


def table_pct(quick: bool) -> str:
    runs = 100 if quick else 1_000
    rows = []
    for strategy in ("random", "pct"):
        start = time.perf_counter()
        hits = 0
        for seed in range(runs):
            kwargs = {"depth": 2} if strategy == "pct" else {}
            result = interleave.explore(
                litmus.ordering_bug,
                strategy=strategy,
                seed=seed,
                max_schedules=1,
                minimise=False,
                **kwargs,  # type: ignore[arg-type]
            )
            hits += not result.ok
        elapsed = time.perf_counter() - start
        rows.append((strategy, f"{runs:,}", f"{hits:,}", f"{hits / runs:.1%}", f"{elapsed:.2f}"))
    return tabulate(
        rows,
        headers=["strategy", "seeded runs", "bug found", "hit rate", "seconds"],
        disable_numparse=True,
    )


def main(quick: bool = False) -> None:
    """Print the three DPOR tables (small sizes only when ``quick``)."""
    print("DPOR: executions explored against the optimal count (one per Mazurkiewicz trace)")
    print(table_counts(quick))
    print()
    print("Throughput on the same scenario")
    print(table_rate(quick))
    print()
    print("SCTBench-style programs: the bug found by the default strategy")
    print(table_sctbench(quick))
    print()
    print("Depth-2 ordering bug: one execution per seed")
    print(table_pct(quick))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
