"""Stress tests against interleave on the taskboard's planted bugs (issue 6's
``stress_vs_interleave``; named ``bench_*`` so ``run_all.py`` finds it).

Workload: every buggy scenario of ``examples/taskboard`` (``taskboard.scenarios.CASES``: two
threads on fresh state, the bug each one plants), tested two ways.

- **stress** (the seed suite's approach): build the scenario outside any exploration (the
  interleave primitives are then plain objects, ``sqlite3`` is the real one), run its two
  threads as real ``threading.Thread`` s started together behind a barrier, then run its check.
  A run *detects* the bug when a thread raises, the check fails, or a thread is still running
  after ``JOIN_SECONDS`` (a hang: the deadlock). Repeat ``REPETITIONS`` times (fresh state every
  time), at most ``STRESS_BUDGET_SECONDS`` per scenario. A detected failure comes with no
  schedule: running it again is a new roll of the dice, so it cannot be replayed.
- **interleave**: ``interleave.explore(factory)`` (DPOR, default budget), ``EXPLORE_RUNS``
  times, and ``replay`` of the first finding's schedule ID, which must show the same finding.
  "executions to find" counts the executions of ``explore(stop_on_first=True)``.

The columns: runs that detected the bug out of runs made, the runs (or executions) and seconds
until the first detection, and whether the failure can be replayed. Counts are deterministic for
interleave (the same on every machine); the stress columns depend on the machine and the load,
which is the point.

Run it with ``python benchmarks/bench_stress_vs_interleave.py [--quick]`` or through
``benchmarks/run_all.py``.
"""

from __future__ import annotations

import platform
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

import interleave

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from taskboard import scenarios
from taskboard.scenarios import CASES, Case

#: Stress repetitions per scenario (full mode / quick mode).
REPETITIONS = 200
QUICK_REPETITIONS = 3
#: A stress campaign stops after this many seconds even before its repetitions are done.
STRESS_BUDGET_SECONDS = 15.0
QUICK_STRESS_BUDGET_SECONDS = 1.0
#: A thread still running this long after the start is a hang (counted as detected).
JOIN_SECONDS = 2.0
QUICK_JOIN_SECONDS = 0.3
#: Explorations per scenario (each must find the bug).
EXPLORE_RUNS = 5


@dataclass(frozen=True)
class StressOutcome:
    """A stress campaign on one scenario."""

    runs: int
    detected: int
    first_run: int | None  # 1-based index of the first run that detected the bug
    first_seconds: float | None
    hangs: int


@dataclass(frozen=True)
class ExploreOutcome:
    """Repeated explorations of one scenario."""

    runs: int
    detected: int
    executions_to_find: int
    seconds_to_find: float
    replayed: bool


def stress_once(case: Case, join_seconds: float) -> tuple[bool, bool]:
    """One stress run of the buggy scenario: (detected, hung)."""
    scenario = case.buggy()
    assert isinstance(scenario.threads, dict)
    errors: list[BaseException] = []
    start = threading.Barrier(len(scenario.threads))

    def body(fn: object) -> None:
        try:
            start.wait()
            fn()  # type: ignore[operator]
        except BaseException as exc:  # the seed's worker: count every exception
            errors.append(exc)

    threads = [
        threading.Thread(target=body, args=(fn,), name=name, daemon=True)
        for name, fn in scenario.threads.items()
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + join_seconds
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = any(t.is_alive() for t in threads)
    failed = bool(errors) or hung
    if not hung:
        try:
            failed = failed or (scenario.check is not None and scenario.check() is False)
        except Exception:
            failed = True
        if scenario.teardown is not None:
            scenario.teardown()
    # A hung run keeps its (daemon) threads and state: nothing can stop a thread that waits
    # forever, which is how a deadlock looks to a stress test.
    return failed, hung


def stress(case: Case, *, repetitions: int, budget: float, join_seconds: float) -> StressOutcome:
    """Repeat ``stress_once`` up to ``repetitions`` times or ``budget`` seconds."""
    detected = hangs = runs = 0
    first_run: int | None = None
    first_seconds: float | None = None
    t0 = time.perf_counter()
    try:
        while runs < repetitions and time.perf_counter() - t0 < budget:
            failed, hung = stress_once(case, join_seconds)
            runs += 1
            hangs += hung
            if failed:
                detected += 1
                if first_run is None:
                    first_run, first_seconds = runs, time.perf_counter() - t0
    finally:
        # The template copies made outside explorations (one per stress run).
        scenarios.BOARD.close()
        scenarios.ARCHIVE.close()
    return StressOutcome(runs, detected, first_run, first_seconds, hangs)


def explore(case: Case, *, runs: int) -> ExploreOutcome:
    """Explore the buggy variant ``runs`` times; each must find ``case.kind`` (else raise)."""
    detected = 0
    first_id = ""
    for _ in range(runs):
        result = interleave.explore(case.buggy)
        found = [f for f in result.findings if f.kind == case.kind]
        if found:
            detected += 1
            first_id = first_id or found[0].schedule_id
    if detected != runs:
        raise RuntimeError(
            f"{case.name}: interleave found the {case.kind} in {detected} of {runs} "
            "explorations; it must find it every time (the scenario or the engine changed)"
        )
    t0 = time.perf_counter()
    first = interleave.explore(case.buggy, stop_on_first=True, minimise=False)
    seconds = time.perf_counter() - t0
    if not first.findings:
        raise RuntimeError(f"{case.name}: explore(stop_on_first=True) found nothing")
    run = interleave.replay(case.buggy, first_id)
    replayed = case.kind in {f.kind for f in run.findings}
    if not replayed:
        raise RuntimeError(f"{case.name}: replay of {first_id} did not show the {case.kind}")
    return ExploreOutcome(runs, detected, first.statistics.executions, seconds, replayed)


def _rate(detected: int, runs: int) -> str:
    return f"{detected}/{runs} ({100 * detected / runs:.0f}%)" if runs else "0/0"


def measure(quick: bool) -> list[list[str]]:
    """One row per buggy scenario."""
    repetitions = QUICK_REPETITIONS if quick else REPETITIONS
    budget = QUICK_STRESS_BUDGET_SECONDS if quick else STRESS_BUDGET_SECONDS
    join_seconds = QUICK_JOIN_SECONDS if quick else JOIN_SECONDS
    runs = 1 if quick else EXPLORE_RUNS
    rows = []
    for case in CASES:
        s = stress(case, repetitions=repetitions, budget=budget, join_seconds=join_seconds)
        e = explore(case, runs=runs)
        stress_first = (
            "never" if s.first_run is None else f"run {s.first_run}, {s.first_seconds:.2f} s"
        )
        rows.append(
            [
                case.name,
                case.kind,
                _rate(s.detected, s.runs) + (f", {s.hangs} hung" if s.hangs else ""),
                stress_first,
                "no",
                _rate(e.detected, e.runs),
                f"{e.executions_to_find} executions, {e.seconds_to_find:.2f} s",
                "yes" if e.replayed else "NO",
            ]
        )
    return rows


def main(quick: bool = False) -> None:
    """Measure and print the table."""
    repetitions = QUICK_REPETITIONS if quick else REPETITIONS
    mode = "quick (a smoke test, not a measurement)" if quick else "full"
    print(
        "bench_stress_vs_interleave: the taskboard's planted bugs, stress-tested with real "
        f"threads ({repetitions} runs per scenario at most, barrier start) vs explored by "
        "interleave (DPOR, default budget)"
    )
    print(
        f"python {platform.python_version()}, interleave {interleave.__version__}, "
        f"switch interval {sys.getswitchinterval() * 1000:g} ms; {mode}"
    )
    headers = [
        "scenario",
        "bug (kind)",
        "stress: detected",
        "stress: first detection",
        "stress: replayable",
        "interleave: detected",
        "interleave: to find",
        "interleave: replayable",
    ]
    rows = measure(quick)
    print(tabulate(rows, headers=headers, disable_numparse=True))
    missed = sum(1 for r in rows if r[3] == "never")
    print(
        f"stress testing never saw {missed} of the {len(rows)} bugs; interleave found every "
        "one in every exploration, each with a schedule ID that replays it."
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
