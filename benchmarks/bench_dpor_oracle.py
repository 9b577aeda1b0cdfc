"""The DPOR oracle in its long mode: thousands of generated programs, dpor against dfs.

Runs ``check_program`` of ``tests/engine/test_dpor_oracle.py`` (see its docstring: every
observation, finding and trace class of ``dfs`` must be reached by ``dpor``, with one execution
per class) over programs drawn by the same hypothesis strategies, and prints:

- programs checked, those too big for dfs to enumerate (skipped: the oracle needs every
  interleaving), and how many broke a law (``unsound``: must be 0);
- trace classes, ``dpor`` executions, executions per class (1.00 when optimal) and the
  sleep-set blocked executions (the only surplus the oracle accepts, each counted);
- ``dfs`` schedules against ``dpor`` executions (the reduction).

``python benchmarks/bench_dpor_oracle.py [N]`` checks N programs (default 3,000) plus N/10
SQLite programs; ``quick=True`` checks 10 (it proves the script works; not a measurement).
A failing program is printed with its plan and the law it broke, and the exit status is 1.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from tabulate import tabulate

ORACLE = Path(__file__).resolve().parents[1] / "tests" / "engine" / "test_dpor_oracle.py"


def _oracle() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_interleave_dpor_oracle", ORACLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(programs: int, strategy: Any, check: Any, too_big: type[Exception]) -> dict[str, Any]:
    """Check ``programs`` plans drawn from ``strategy``; sum the counts, collect failures."""
    totals: dict[str, Any] = {
        "programs": 0,
        "unsound": 0,
        "classes": 0,
        "dpor": 0,
        "blocked": 0,
        "dfs": 0,
        "with_blocked": 0,
        "too_big": 0,
        "failures": [],
        "blocked_plans": [],
    }

    @settings(
        max_examples=programs,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(plan: list[list[Any]]) -> None:
        try:
            counts = check(plan)
        except too_big:
            totals["too_big"] += 1
            return
        except AssertionError as exc:
            totals["programs"] += 1
            totals["unsound"] += 1
            totals["failures"].append((plan, str(exc).splitlines()[0]))
            return
        totals["programs"] += 1
        for key in ("classes", "dpor", "blocked", "dfs"):
            totals[key] += counts[key]
        if counts["blocked"]:
            totals["with_blocked"] += 1
            totals["blocked_plans"].append((plan, counts["blocked"]))

    one()
    return totals


def main(quick: bool = False, programs: int = 3_000) -> None:
    oracle = _oracle()
    n = 10 if quick else programs
    print(
        f"bench_dpor_oracle: {n:,} generated programs (and {max(n // 10, 2):,} with SQLite), "
        "dpor against dfs and hand-computed trace classes"
    )
    if quick:
        print("quick (a smoke test, not a measurement)")
    rows = []
    failures = []
    blocked_plans = []
    for label, strategy, count in (
        ("every primitive", oracle._PROGRAM, n),
        ("SQLite statements", oracle._SQL_PROGRAM, max(n // 10, 2)),
    ):
        start = time.perf_counter()
        totals = run(count, strategy, oracle.check_program, oracle.TooBig)
        elapsed = time.perf_counter() - start
        failures += totals["failures"]
        blocked_plans += totals["blocked_plans"]
        classes = totals["classes"]
        rows.append(
            [
                label,
                totals["programs"],
                totals["too_big"],
                totals["unsound"],
                classes,
                totals["dpor"],
                f"{totals['dpor'] / classes:.3f}" if classes else "-",
                totals["blocked"],
                totals["with_blocked"],
                totals["dfs"],
                f"{totals['dfs'] / max(totals['dpor'], 1):.1f}x",
                f"{elapsed:.0f}",
            ]
        )
    print(
        tabulate(
            rows,
            headers=[
                "programs of",
                "checked",
                "too big for dfs",
                "unsound",
                "trace classes",
                "dpor executions",
                "per class",
                "sleep-set blocked",
                "programs with blocked",
                "dfs schedules",
                "dfs / dpor",
                "seconds",
            ],
            colalign=("left",) + ("right",) * 11,
        )
    )
    # Optimal DPOR with wakeup trees should block no execution: a program that did is printed
    # (the generator does not keep it otherwise) so that it can be studied.
    for plan, blocked in blocked_plans[:5]:
        print(f"\nSLEEP-SET BLOCKED ({blocked}): {plan}")
    for plan, why in failures[:5]:
        print(f"\nUNSOUND: {plan}\n  {why}")
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(quick="--quick" in sys.argv[1:], programs=int(args[0]) if args else 3_000)
