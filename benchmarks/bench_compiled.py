"""The compiled core against plain Python: the same explorations, side by side in one run.

Each round starts two child processes, one importing the compiled build (the unpacked wheel
``make`` puts in ``build/compiled/site``), one the checkout's plain-Python modules. Each child
times a raw greenlet switch pair and ``bench_core``'s unlocked workloads explored exhaustively
with ``dfs`` and ``dpor``, every detector on (after one untimed run, the best of three); the
rounds alternate which build goes first, and the best round of each measurement is kept, so
background noise hits both alike.

Prints the time per step of each build, each as a multiple of its own switch pair (the issue's
unit), and the speed-up of the compiled build. Without a compiled build it says how to make
one and measures nothing.

Run it with ``python benchmarks/bench_compiled.py [--quick]`` or through ``make bench``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
COMPILED_SITE = ROOT / "build" / "compiled" / "site"
#: Rounds (full mode); the best of each measurement is kept.
ROUNDS = 5

# What a child process measures: bench_core's workloads, as bench_core runs them.
_CHILD = """
import json, time
import bench_core
from interleave._core._native import compiled
switch = min(bench_core.switch_pair_seconds(200_000) for _ in range(3))
rows = []
for workload in bench_core.WORKLOADS:
    if workload.locked:
        continue
    for strategy in ("dfs", "dpor"):
        bench_core.explore_interleave(workload, strategy=strategy)  # warm up (lazy imports)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            schedules, steps = bench_core.explore_interleave(workload, strategy=strategy)
            times.append(time.perf_counter() - start)
        rows.append([workload.name, strategy, min(times), steps])
print(json.dumps({"compiled": compiled(), "switch": switch, "rows": rows}))
"""


@dataclass
class Build:
    """The best measurements of one build: its switch pair, and per (workload, strategy) the
    seconds of one exploration and its steps."""

    switch: float = float("inf")
    rows: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)

    def keep(self, got: dict[str, Any]) -> None:
        """Keep the better of what it has and one child's measurements."""
        self.switch = min(self.switch, got["switch"])
        for name, strategy, seconds, steps in got["rows"]:
            old = self.rows.get((name, strategy))
            if old is None or seconds < old[0]:
                self.rows[(name, strategy)] = (seconds, steps)


def _child(site: Path) -> dict[str, Any]:
    """One measurement in a fresh process that imports interleave from ``site``."""
    env = dict(os.environ)
    # PYTHONSAFEPATH: `python -c` must not put the current folder (perhaps the checkout) first.
    env.update(PYTHONSAFEPATH="1", PYTHONPATH=os.pathsep.join([str(site), str(BENCH_DIR)]))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the child process for {site} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["compiled"] is not (site == COMPILED_SITE):
        raise RuntimeError(f"the child process for {site} imported the other build")
    return result


def measure(rounds: int) -> tuple[Build, Build]:
    """(plain, compiled): each build's best of ``rounds`` rounds, the order alternating."""
    plain, compiled = Build(), Build()
    for n in range(rounds):
        order = [(ROOT, plain), (COMPILED_SITE, compiled)]
        for site, build in order if n % 2 else reversed(order):
            build.keep(_child(site))
    return plain, compiled


def render(plain: Build, compiled: Build, quick: bool) -> str:
    """The table: per workload and strategy, both builds' step costs and the speed-up."""
    table = []
    for key, (p_seconds, steps) in plain.rows.items():
        c_seconds, c_steps = compiled.rows[key]
        if steps != c_steps:
            raise RuntimeError(f"{key}: the builds ran {steps} and {c_steps} steps")
        p_step, c_step = p_seconds / steps, c_seconds / steps
        table.append(
            [
                *key,
                f"{steps:,}",
                f"{p_step * 1e6:.2f}",
                f"{c_step * 1e6:.2f}",
                f"{p_step / plain.switch:.1f}x",
                f"{c_step / compiled.switch:.1f}x",
                f"{p_seconds / c_seconds:.2f}x",
            ]
        )
    headers = (
        "workload",
        "strategy",
        "steps",
        "plain us/step",
        "compiled us/step",
        "plain / switch pair",
        "compiled / switch pair",
        "speed-up",
    )
    mode = "quick (one round, not a measurement)" if quick else f"best of {ROUNDS} rounds"
    return "\n".join(
        [
            "bench_compiled: the compiled core against plain Python, same explorations",
            f"python {sys.version.split()[0]}; {mode}; switch pair: plain "
            f"{plain.switch * 1e6:.3f} us, compiled {compiled.switch * 1e6:.3f} us",
            "",
            tabulate(table, headers=headers, disable_numparse=True),
            "",
            "Each build in its own process; times per step include per-execution setup. The "
            "issue's target: step / switch pair <= 10x on 2 x 5 dfs with every detector on.",
        ]
    )


def main(quick: bool = False) -> None:
    """Measure and print the table (or why it cannot)."""
    if not (COMPILED_SITE / "interleave").is_dir():
        print(
            f"bench_compiled: no compiled build in {COMPILED_SITE}; "
            "`make build/compiled/.built` (or `make bench`) makes one"
        )
        return
    print(render(*measure(1 if quick else ROUNDS), quick), flush=True)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
