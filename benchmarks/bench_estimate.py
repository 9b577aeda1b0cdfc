"""The estimate of the number of executions (``interleave.estimate``) against the true counts.

For each workload (n threads x k unlocked increments of one ``Shared``), with the default
strategy (dpor: the estimate counts Mazurkiewicz traces), prints the estimate that
``interleave.estimate`` gives by default (its time budget, counted from the call; seed 0), its
standard error, the known true count, the error, the probes and the seconds of the whole call;
then the same workloads over several seeds: the largest error.
The true counts are constants pinned by ``tests/engine/test_dpor.py`` (1,824,912 for 3 x 3,
which takes minutes to explore; ``bench_dpor.py`` does).

A third table: sparse programs (mostly independent threads), where most probes end sleep-set
blocked and count 0: the estimate counts them with dpor's own exploration in the budget,
exactly when it finishes, else as "more than" what it ran (true counts from ``bench_dpor.py``
and ``test_parallel.py``).

Times depend on the machine's load: the number of probes the budget allows, and so the
error, varies with it. ``quick=True`` runs the two small workloads only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))

import litmus

import interleave
from interleave._estimating import DEFAULT_TIME_BUDGET

#: (label, n, k, true dpor count)
WORKLOADS = [
    ("increments(2,3)", 2, 3, 328),
    ("increments(3,2)", 3, 2, 7_134),
    ("increments(3,3)", 3, 3, 1_824_912),
]
#: (label, factory, true dpor count): programs whose probes are mostly blocked.
SPARSE = [
    ("philosophers(4)", litmus.philosophers(4), 25),
    ("lastzero(8)", litmus.lastzero(8), 704),
    ("readers(10)", litmus.readers(10), 1_024),
    ("indexer(14)", litmus.indexer(14), 512),
]
BUDGET = DEFAULT_TIME_BUDGET  # what a user's interleave.estimate(scenario) spends


def table(quick: bool, budget: float) -> str:
    rows = []
    for label, n, k, truth in WORKLOADS[:2] if quick else WORKLOADS:
        called = time.perf_counter()
        est = interleave.estimate(litmus.increments(n, k), time_budget=budget, seed=0)
        seconds = time.perf_counter() - called
        rows.append(
            (
                label,
                f"{est.executions:,.0f}",
                f"± {100 * est.relative_error:.1f}%",
                f"{truth:,}",
                f"{100 * (est.executions / truth - 1):+.1f}%",
                f"{est.probes:,}",
                f"{seconds:.2f}",
            )
        )
    return tabulate(
        rows,
        headers=["workload", "estimate", "std. error", "true", "error", "probes", "call (s)"],
        disable_numparse=True,
    )


def table_seeds(quick: bool, budget: float, seeds: int) -> str:
    rows = []
    for label, n, k, truth in WORKLOADS[:2] if quick else WORKLOADS:
        errors = []
        for seed in range(seeds):
            est = interleave.estimate(litmus.increments(n, k), time_budget=budget, seed=seed)
            errors.append(est.executions / truth - 1)
        worst = max(errors, key=abs)
        within = sum(abs(e) <= 0.15 for e in errors)
        rows.append((label, seeds, f"{100 * worst:+.1f}%", f"{within}/{seeds}"))
    return tabulate(
        rows,
        headers=["workload", "seeds", "largest error", "within ±15%"],
        disable_numparse=True,
    )


def table_sparse(quick: bool, budget: float) -> str:
    rows = []
    for label, factory, truth in SPARSE[:2] if quick else SPARSE:
        est = interleave.estimate(factory, time_budget=budget, seed=0)
        if est.exact:
            said = f"exactly {est.executions:,.0f}"
        elif est.at_least:
            said = f"more than {est.at_least:,}"
        else:
            said = f"about {est.executions:,.0f}"
        rows.append(
            (
                label,
                said,
                f"{truth:,}",
                "yes" if est.exact and est.executions == truth else "no",
                f"{est.blocked:,} / {est.probes:,}",
                f"{est.seconds:.2f}",
            )
        )
    return tabulate(
        rows,
        headers=["workload", "estimate", "true", "exact", "blocked / executions", "seconds"],
        disable_numparse=True,
    )


def main(quick: bool = False) -> None:
    budget = 0.2 if quick else BUDGET
    print(f"estimate (dpor, seed 0, a call of at most {budget:g} s) against the true count")
    print(table(quick, budget))
    seeds = 2 if quick else 10
    print(f"\nover {seeds} seeds")
    print(table_seeds(quick, budget, seeds))
    print(f"\nsparse programs (most probes blocked), {budget:g} s")
    print(table_sparse(quick, budget))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
