"""The speed of the core: exhaustive DFS against a bare greenlet explorer and a raw switch pair.

Workloads (deterministic counts, the same on every machine):

- ``2 x 5``: two threads, five writes each to one ``interleave.Shared``: C(10, 5) = 252
  schedules, 2,520 steps.
- ``3 x 3``: three threads, three writes each: 9! / (3!)^3 = 1,680 schedules, 15,120 steps.
- ``2 x 2 locked``: two threads, two ``with lock: counter.set(counter.get() + 1)`` each; the
  blocking path (lock waits) with every detector on.

Each workload runs under ``interleave.explore(strategy="dfs")`` with every detector on, and
(for the unlocked ones) under a bare DFS explorer written here over plain greenlets, with no
detectors, no trace and no schedule IDs: the floor of any greenlet-based explorer. A raw
greenlet switch pair (hub -> thread -> hub) is measured in the same run; one scheduling step
costs at least one such pair. Times are machine dependent: compare them only as ratios within
one run. Repetitions are interleaved (every measurement once per round) and the best round is
kept, so background noise hits every column alike.

Run it with ``python benchmarks/bench_core.py [--quick]`` or through ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import greenlet
from tabulate import tabulate

import interleave
from interleave._core._native import compiled

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Measurement

#: Seconds one timed repetition of a measurement aims for (full mode).
TARGET_SECONDS = 0.25
#: Rounds of repetitions (full mode); the best round of each measurement is kept.
ROUNDS = 7
#: Switch pairs timed per repetition.
SWITCH_PAIRS = 200_000
#: The target of the issue: one step within this many raw switch pairs.
TARGET_RATIO = 10.0
#: The target of the issue: a DPOR execution within this many DFS executions' time.
DPOR_TARGET = 1.3


@dataclass(frozen=True)
class Workload:
    """``threads`` threads that each do ``accesses`` writes of one shared value (or, when
    ``locked``, ``accesses`` locked read-modify-writes), with the counts DFS must produce."""

    name: str
    threads: int
    accesses: int
    schedules: int
    steps: int
    locked: bool = False


WORKLOADS = (
    # (2 * 5)! / (5!)^2 interleavings of 10 writes.
    Workload("2 x 5", 2, 5, schedules=252, steps=252 * 10),
    # (3 * 3)! / (3!)^3 interleavings of 9 writes.
    Workload("3 x 3", 3, 3, schedules=1_680, steps=1_680 * 9),
    # 4!/(2!)^2 lock orders; each execution has 16 steps (acquire, get, set, release x 4).
    Workload("2 x 2 locked", 2, 2, schedules=6, steps=6 * 16, locked=True),
)


# ---------------------------------------------------------------------------- scenarios
def scenario(workload: Workload) -> Callable[[], interleave.Scenario]:
    """The scenario factory of ``workload`` for ``interleave.explore``."""
    k = workload.accesses
    if workload.locked:

        def locked_factory() -> interleave.Scenario:
            lock = interleave.Lock(name="lock")
            counter = interleave.Shared("counter", 0)

            def worker() -> None:
                for _ in range(k):
                    with lock:
                        counter.set(counter.get() + 1)

            return interleave.Scenario(
                threads=[worker] * workload.threads,
                check=lambda: counter.get() == workload.threads * k,
            )

        return locked_factory

    def factory() -> interleave.Scenario:
        # Blind writes race on purpose (racy=True: the race detector still watches each step).
        shared = interleave.Shared("x", 0, racy=True)

        def worker() -> None:
            for i in range(k):
                shared.set(i)

        return interleave.Scenario(threads=[worker] * workload.threads)

    return factory


def explore_interleave(
    workload: Workload, *, strategy: str = "dfs", patch_threading: bool = True
) -> tuple[int, int]:
    """One exhaustive exploration with every detector on; (schedules, steps).

    ``patch_threading=False`` leaves out the ``threading`` patch (the row that shows what
    that patch costs); everything else is ``explore()``'s defaults. Every write of these
    workloads conflicts with every other, so ``dpor`` runs the same executions as ``dfs``:
    the time ratio of the two is DPOR's bookkeeping per execution.
    """
    result = interleave.explore(
        scenario(workload),
        strategy=strategy,
        max_schedules=10**7,
        patch_threading=patch_threading,
    )
    if not (result.exhausted and result.ok):
        raise RuntimeError(f"benchmark {workload.name}: unexpected result\n{result.report()}")
    return result.schedules_run, result.statistics.steps


def explore_bare(workload: Workload) -> tuple[int, int]:
    """Exhaustive DFS over plain greenlets: no detectors, trace or IDs; (schedules, steps).

    Every thread switches to the hub before each write, exactly where ``Shared.set`` yields;
    the DFS keeps one ``[options, position]`` node per step and tries the default choice
    (keep the last thread) first, like interleave's DFS. Greenlets are pooled as interleave's
    runtime pools them (a greenlet whose thread ended waits for the next thread), so the
    ratio compares like with like: neither side pays for greenlet creation per execution.
    """
    n, k = workload.threads, workload.accesses
    stack: list[list[object]] = []
    schedules = steps = 0
    hub = greenlet.getcurrent()
    ended = object()

    def serve(box: list[int]) -> None:
        # One thread's writes, then back to the hub as idle; resumed with the next box.
        while True:
            for i in range(k):
                hub.switch()
                box[0] = i
            box = hub.switch(ended)

    pool = [greenlet.greenlet(serve, parent=hub) for _ in range(n)]
    while True:
        box = [0]
        glets = pool
        done = [False] * n
        for glet in glets:
            glet.switch(box)  # run up to the first yield point
        depth = 0
        last = -1
        while True:
            enabled = [t for t in range(n) if not done[t]]
            if not enabled:
                break
            if depth < len(stack):
                options, pos = stack[depth]
                tid = options[pos]  # type: ignore[index]
            else:
                tid = last if last in enabled else enabled[0]
                stack.append([[tid, *(t for t in enabled if t != tid)], 0])
            if glets[tid].switch() is ended:  # type: ignore[index]
                done[tid] = True  # type: ignore[index]
            last = tid  # type: ignore[assignment]
            depth += 1
        schedules += 1
        steps += depth
        del stack[depth:]
        while stack:
            node = stack[-1]
            if node[1] + 1 < len(node[0]):  # type: ignore[operator, arg-type]
                node[1] += 1  # type: ignore[operator]
                break
            stack.pop()
        if not stack:
            for glet in pool:
                glet.throw(greenlet.GreenletExit)
            return schedules, steps


def switch_pair_seconds(pairs: int) -> float:
    """Seconds per raw greenlet switch pair (hub -> greenlet -> hub)."""
    hub = greenlet.getcurrent()

    def ping() -> None:
        while True:
            hub.switch()

    glet = greenlet.greenlet(ping)
    glet.switch()
    switch = glet.switch
    start = time.perf_counter()
    for _ in range(pairs):
        switch()
    elapsed = time.perf_counter() - start
    glet.throw(greenlet.GreenletExit)
    return elapsed / pairs


# ---------------------------------------------------------------------------- measuring
@dataclass(frozen=True)
class Row:
    """One line of the result table (counts, absolute times and ratios)."""

    workload: str
    explorer: str
    schedules: int
    steps: int
    ms_per_exploration: float
    schedules_per_second: float
    us_per_step: float
    step_per_switch_pair: float
    vs_bare: float | None


def measure(quick: bool = False) -> tuple[float, list[Row]]:
    """Measure everything in one run; return (seconds per switch pair, rows).

    ``quick`` runs each measurement once (a smoke test of the script, not a measurement).
    """
    rounds = 1 if quick else ROUNDS
    target = 0.0 if quick else TARGET_SECONDS
    pairs = 1_000 if quick else SWITCH_PAIRS
    measurements: list[tuple[Workload, list[Measurement], Measurement | None]] = []
    for workload in WORKLOADS:
        ours = [Measurement("interleave dfs", lambda w=workload: explore_interleave(w))]
        bare = None
        if not workload.locked:
            ours.append(
                Measurement(
                    "interleave dpor",
                    lambda w=workload: explore_interleave(w, strategy="dpor"),
                )
            )
            ours.append(
                Measurement(
                    "interleave dfs, patch_threading=False",
                    lambda w=workload: explore_interleave(w, patch_threading=False),
                )
            )
            bare = Measurement("bare greenlet dfs", lambda w=workload: explore_bare(w))
        for m in [*ours, bare]:
            if m is not None:
                m.calibrate(target)
                _check_counts(workload, m)
        measurements.append((workload, ours, bare))
    switch = math.inf
    for _ in range(rounds):
        switch = min(switch, switch_pair_seconds(pairs))
        for _workload, ours, bare in measurements:
            for m in [*ours, bare]:
                if m is not None:
                    m.repeat()
    rows = []
    for workload, ours, bare in measurements:
        for m in [bare, *ours]:
            if m is None:
                continue
            rows.append(
                Row(
                    workload=workload.name,
                    explorer=m.label,
                    schedules=m.schedules,
                    steps=m.steps,
                    ms_per_exploration=m.best * 1e3,
                    schedules_per_second=m.schedules / m.best,
                    us_per_step=m.best / m.steps * 1e6,
                    step_per_switch_pair=m.best / m.steps / switch,
                    vs_bare=None if bare is None else m.best / bare.best,
                )
            )
    return switch, rows


def _check_counts(workload: Workload, m: Measurement) -> None:
    expected = (workload.schedules, workload.steps)
    if (m.schedules, m.steps) != expected:
        raise RuntimeError(
            f"benchmark {workload.name} ({m.label}): {m.schedules} schedules and "
            f"{m.steps} steps, expected {expected[0]} and {expected[1]}"
        )


def render(switch: float, rows: list[Row], quick: bool = False) -> str:
    """The result table as text."""
    table = [
        (
            r.workload,
            r.explorer,
            f"{r.schedules:,}",
            f"{r.steps:,}",
            f"{r.ms_per_exploration:.2f}",
            f"{r.schedules_per_second:,.0f}",
            f"{r.us_per_step:.2f}",
            f"{r.step_per_switch_pair:.1f}x",
            "-" if r.vs_bare is None else f"{r.vs_bare:.2f}x",
        )
        for r in rows
    ]
    headers = (
        "workload",
        "explorer",
        "schedules",
        "steps",
        "ms/exploration",
        "schedules/s",
        "us/step",
        "step / switch pair",
        "time / bare",
    )
    mode = "quick (one repetition, not a measurement)" if quick else f"best of {ROUNDS} rounds"
    core = "compiled core" if compiled() else "plain-Python core (make bench measures the compiled)"
    lines = [
        "bench_core: exhaustive DFS, every detector on, vs a bare greenlet explorer",
        f"python {platform.python_version()}, greenlet {greenlet.__version__}, "
        f"interleave {interleave.__version__} ({core}); {mode}",
        f"raw greenlet switch pair: {switch * 1e6:.3f} us (the unit of the ratio column)",
        "",
        tabulate(table, headers=headers, disable_numparse=True, colalign=("left",) * 2),
        "",
        *_dpor_lines(rows),
        f"us/step includes per-execution setup; target: step / switch pair <= "
        f"{TARGET_RATIO:.0f}x with every detector on. Compare times only within one run.",
    ]
    return "\n".join(lines)


def _dpor_lines(rows: list[Row]) -> list[str]:
    """DPOR's cost per execution over DFS's on each workload both ran (same executions)."""
    per_execution = {(r.workload, r.explorer): r.ms_per_exploration / r.schedules for r in rows}
    lines = []
    for (workload, explorer), dpor in per_execution.items():
        dfs = per_execution.get((workload, "interleave dfs"))
        if explorer == "interleave dpor" and dfs is not None:
            lines.append(
                f"{workload}: dpor / dfs cost per execution = {dpor / dfs:.2f}x "
                f"(target <= {DPOR_TARGET}x)"
            )
    return lines


def main(quick: bool = False) -> None:
    """Measure and print the table (the ``benchmarks/run_all.py`` convention)."""
    switch, rows = measure(quick=quick)
    print(render(switch, rows, quick=quick))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
