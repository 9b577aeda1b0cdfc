"""The watchdog: what it stops, from which OS thread, and what it costs per execution.

Table 1 runs one scenario per kind of stall, with ``patch_threading=False`` (so nothing is
scheduled: the stall is real), from the main thread and from another OS thread, and says how
the exploration ended and after how many limits:

- ``stopped``: ``BlockedOutsideScheduler`` about one limit after the stall began;
- ``at return``: ``BlockedOutsideScheduler`` only when the call returned by itself (the
  watchdog could not interrupt it; it says so on stderr at once);
- ``not seen``: the exploration ended normally: C code that holds the GIL keeps every other
  Python thread, the watchdog's monitor included, from running until it returns.

Every stalling call lasts ``CALL_LIMITS`` limits. The outcomes are what the threading guide
documents; a different one raises (a guide that promises the wrong thing is worse than none).

Table 2 is the price of being always on, on bench_core's ``2 x 5`` workload (252 executions):
the guard around every execution (``watchdog=10`` against ``watchdog=0``) and a deadline
(``timeout=600``), as ratios within one run (interleaved rounds, best round kept). It counts
the CPU time of the exploring thread (``time.thread_time``), which the other processes of a
shared machine disturb less than the wall clock; the monitor thread's own time (ten looks per
limit: one a second by default) is left out.

Run it with ``python benchmarks/bench_watchdog.py [--quick]`` or through
``benchmarks/run_all.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import queue
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import greenlet
from tabulate import tabulate

import interleave

#: The watchdog's limit for table 1 (seconds).
LIMIT = 0.3
QUICK_LIMIT = 0.08
#: Every stalling call lasts this many limits.
CALL_LIMITS = 6
#: Rounds of table 2 (full mode); the best round of each measurement is kept.
ROUNDS = 9
TARGET_SECONDS = 0.2


# ---------------------------------------------------------------------------- table 1
@contextlib.contextmanager
def stalls(
    seconds: float,
) -> Iterator[list[tuple[str, Callable[[], object], dict[str, str]]]]:
    """(name, a call that stalls for ``seconds``, expected outcome per OS thread); no expected
    outcome where it depends on timing (when the monitor first saw the execution)."""
    pipe_r, pipe_w = os.pipe()
    sock, peer = socket.socketpair()
    sock.settimeout(seconds)
    lock = threading.Lock()
    lock.acquire()
    n = _c_loop_size(seconds)
    held = {"main": "stopped", "other": "at return"}
    try:
        yield [
            ("Python loop", lambda: _python_loop(seconds), {"main": "stopped", "other": "stopped"}),
            ("lock.acquire(timeout)", lambda: lock.acquire(timeout=seconds), held),
            ("time.sleep", lambda: time.sleep(seconds), held),
            ("threading.Event().wait", lambda: threading.Event().wait(seconds), held),
            ("queue.Queue().get", lambda: _queue_get(seconds), held),
            ("socket.recv", lambda: _recv(sock), held),
            ("select.select on a pipe", lambda: select.select([pipe_r], [], [], seconds), held),
            ("subprocess wait", lambda: subprocess.run(["sleep", str(seconds)], check=False), held),
            ("C code holding the GIL", lambda: sum(range(n)), {}),
        ]
    finally:
        for fd in (pipe_r, pipe_w):
            os.close(fd)
        sock.close()
        peer.close()


def _python_loop(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _queue_get(seconds: float) -> None:
    with contextlib.suppress(queue.Empty):
        queue.Queue().get(timeout=seconds)


def _recv(sock: socket.socket) -> None:
    with contextlib.suppress(TimeoutError):
        sock.recv(1)


def _c_loop_size(seconds: float) -> int:
    """How many numbers ``sum(range(n))`` adds in about ``seconds`` (one C call)."""
    n = 1_000_000
    start = time.perf_counter()
    sum(range(n))
    return max(n, int(n * seconds / max(time.perf_counter() - start, 1e-9)))


def outcome(call: Callable[[], object], limit: float, off_main: bool) -> tuple[str, float]:
    """How an exploration whose thread runs ``call`` ended, and after how many seconds."""

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: call()])

    result: list[str] = []

    def run() -> None:
        try:
            interleave.explore(
                scenario, watchdog=limit, patch_threading=False, suppress_health_check="all"
            )
            result.append("not seen")
        except interleave.BlockedOutsideScheduler:
            result.append("")

    start = time.monotonic()
    with contextlib.redirect_stderr(io.StringIO()):  # the notices it writes off the main thread
        if off_main:
            runner = threading.Thread(target=run)
            runner.start()
            runner.join()
        else:
            run()
    elapsed = time.monotonic() - start
    if not result[0]:
        # Stopped well before the call would have returned, or only when it returned.
        result[0] = "stopped" if elapsed < limit * CALL_LIMITS / 2 else "at return"
    return result[0], elapsed


def table1(quick: bool) -> str:
    limit = QUICK_LIMIT if quick else LIMIT
    with stalls(limit * CALL_LIMITS) as cases:
        # Quick mode proves the script runs; whether a call was stopped within half its length
        # is a matter of timing on a loaded machine, so only a full run checks the guide.
        rows = [_row(name, call, expected, limit, not quick) for name, call, expected in cases]
    head = (
        f"what the watchdog stops (watchdog={limit:g} s, calls of {CALL_LIMITS} limits, "
        "patch_threading=False)"
    )
    table = tabulate(rows, headers=["stall", "main thread", "another OS thread"])
    return head + "\n" + table


def _row(
    name: str, call: Callable[[], object], expected: dict[str, str], limit: float, check: bool
) -> list[str]:
    cells = [name]
    for where in ("main", "other"):
        got, seconds = outcome(call, limit, off_main=where == "other")
        want = expected.get(where)
        if check and want is not None and got != want:
            raise RuntimeError(
                f"bench_watchdog: {name} in the {where} thread: {got}, expected {want} "
                "(the threading guide says so)"
            )
        cells.append(f"{got} ({seconds / limit:.1f} limits)")
    return cells


# ---------------------------------------------------------------------------- table 2
def factory() -> interleave.Scenario:
    shared = interleave.Shared("x", 0)

    def worker() -> None:
        for i in range(5):
            shared.set(i)

    return interleave.Scenario(threads=[worker, worker])


VARIANTS = (
    ("watchdog=0 (no guard)", {"watchdog": 0}),
    ("watchdog=10 (the default)", {"watchdog": 10}),
    ("watchdog=10, timeout=600", {"watchdog": 10, "timeout": 600.0}),
)


def table2(quick: bool) -> str:
    rounds = 1 if quick else ROUNDS
    rows = []
    for patch_threading in (True, False):
        best: dict[str, float] = {}
        counts: dict[str, tuple[int, int]] = {}
        for r in range(rounds):
            order = VARIANTS if r % 2 == 0 else tuple(reversed(VARIANTS))
            for label, options in order:
                loops = 0
                start = time.thread_time()
                while True:
                    result = interleave.explore(
                        factory, strategy="dfs", patch_threading=patch_threading, **options
                    )
                    loops += 1
                    if quick or time.thread_time() - start >= TARGET_SECONDS:
                        break
                per = (time.thread_time() - start) / loops
                best[label] = min(best.get(label, per), per)
                counts[label] = (result.schedules_run, result.statistics.steps)
        for label, _ in VARIANTS:
            if counts[label] != (252, 2_520):
                raise RuntimeError(f"bench_watchdog: {label}: counts {counts[label]} != 252, 2520")
            base = best[VARIANTS[0][0]]
            rows.append(
                [
                    f"patch_threading={patch_threading}",
                    label,
                    "252",
                    "2,520",
                    f"{best[label] * 1e3:.2f}",
                    f"{best[label] / base:.3f}x",
                ]
            )
    head = "what being always on costs: exhaustive DFS of 2 x 5 (every detector on)"
    table = tabulate(
        rows,
        headers=["", "watchdog", "schedules", "steps", "CPU ms/exploration", "vs no guard"],
        disable_numparse=True,
    )
    return head + "\n" + table


def main(quick: bool = False) -> None:
    """Measure and print both tables."""
    mode = "quick (one repetition, not a measurement)" if quick else f"best of {ROUNDS} rounds"
    print("bench_watchdog: what the watchdog interrupts, and its cost per execution")
    print(
        f"python {platform.python_version()}, greenlet {greenlet.__version__}, "
        f"interleave {interleave.__version__}, {sys.platform}; {mode}"
    )
    print()
    print(table1(quick))
    print()
    print(table2(quick))
    print("\nTimes are machine dependent: compare them only as ratios within one run.")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
