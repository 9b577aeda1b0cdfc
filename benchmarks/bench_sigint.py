"""Ctrl-C at random moments: a real SIGINT, sent to a process that is exploring, hundreds of times.

Each run starts a fresh Python process that explores the taskboard scenarios of
``examples/taskboard`` (SQLite databases, threads, caches: every kind of instrumentation) one
after the other, in a loop, with a private ``TMPDIR``. After a random delay the parent sends it
``SIGINT`` and checks, every time:

- the process ends with the interrupt, within 60 s: killed by SIGINT or exit status 130 (an
  uncaught ``interleave.Interrupted`` exits with 1 after its traceback: CPython gives the SIGINT
  exit only to the exact ``KeyboardInterrupt`` type);
- nothing was invented: no ``not authorized`` (the SQLite authorizer swallowing the interrupt),
  and every finding of the interrupted exploration is one that the uninterrupted exploration
  of the same scenario reports too (the same kind and signature);
- the partial result came with the interrupt (``interleave.Interrupted.result``, stopped because
  ``"interrupted"``) whenever the exploration had started (called the scenario factory);
- nothing was left behind: no temporary directory (the private ``TMPDIR`` and ``/dev/shm``
  are compared before and after), no open descriptor (the child counts ``/proc/self/fd`` when
  the interrupt reaches its top level), the ``SIGINT`` handler, ``sqlite3.connect`` and
  ``threading.Lock`` are the originals again.

Three kinds of child: the Python API (``interleave.explore`` in a loop), the command line
(``interleave report`` over the taskboard scenarios, in a loop, which must exit with 130 and
print what it found so far) and the API again with a delay short enough to land in the first
executions. The table gives, per kind, the runs and the failures of each check; any failure is
an error.

Run it with ``python benchmarks/bench_sigint.py [--quick] [--runs N] [--seed S] [--jobs J]`` or
through ``benchmarks/run_all.py`` (quick, the smoke test of ``make test``: 7 runs of each kind,
shorter delays, four children at a time).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import importlib.util
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
#: The folder the interleave of this process comes from (found without importing it).
_INTERLEAVE_SITE = str(Path(importlib.util.find_spec("interleave").origin).parent.parent)  # type: ignore[arg-type, union-attr]
#: Runs of each kind in full mode, and in quick mode (the smoke test of ``make test``).
RUNS = 100
QUICK_RUNS = 7
#: (kind, the longest delay before the SIGINT, in seconds, after the child said it is ready).
KINDS: tuple[tuple[str, float], ...] = (("api", 2.5), ("api-early", 0.15), ("cli", 2.5))

# A shell starts background jobs with SIGINT ignored, and children inherit that: the child puts
# Python's own handler back, as an interactive python would have.
_SIGINT_AS_USUAL = (
    "import signal\n"
    "if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:\n"
    "    signal.signal(signal.SIGINT, signal.default_int_handler)\n"
)

# The child: explore the taskboard scenarios in a loop until interrupted, then report its state
# on one line (JSON) and let the KeyboardInterrupt end the process.
_CHILD_API = (
    _SIGINT_AS_USUAL
    + r"""
import functools, json, os, signal, sqlite3, sys, threading
import interleave
from examples.taskboard.scenarios import DEMO

def fds():
    return len(os.listdir("/proc/self/fd"))

def keys(result):
    return sorted({json.dumps([f.kind, repr(f.signature)]) for f in result.findings})

ORIGINAL = (signal.getsignal(signal.SIGINT), sqlite3.connect, threading.Lock)
start = fds()
current = None
completed = []
print("READY", flush=True)
try:
    while True:
        for factory in DEMO:
            current = None  # set when the exploration calls the factory: it has started

            @functools.wraps(factory)
            def scenario(factory=factory):
                global current
                current = factory.__name__
                return factory()

            result = interleave.explore(scenario)
            name, current = current, None
            completed.append([name, keys(result)])
except KeyboardInterrupt as exc:
    result = getattr(exc, "result", None)
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_frame.f_code.co_name}"
    state = {
        "where": where,
        "type": type(exc).__name__,
        "leaked_fds": fds() - start,
        "restored": [
            signal.getsignal(signal.SIGINT) is ORIGINAL[0],
            sqlite3.connect is ORIGINAL[1],
            threading.Lock is ORIGINAL[2],
        ],
        "scenario": current,
        "partial": None if result is None else keys(result),
        "stopped": None if result is None else result.stopped_because,
        "completed": completed,
    }
    print("STATE " + json.dumps(state), flush=True)
    raise
"""
)

_CHILD_CLI = (
    _SIGINT_AS_USUAL
    + r"""
import sys
from interleave._cli import main
print("READY", flush=True)
# Again and again, as the API child explores in a loop: one report can end before the SIGINT.
while True:
    status = main(["report", "examples.taskboard.scenarios", "--no-database"])
    if status == 130:
        sys.exit(status)
"""
)


@dataclass
class Tally:
    """Runs of one kind and how many failed each check."""

    runs: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    partial: int = 0  # runs whose interrupt came with a partial result
    findings_kept: int = 0  # findings found before the interrupt and handed back with it

    def fail(self, check: str, detail: str) -> None:
        self.failures[check] += 1
        self.examples.setdefault(check, detail)


class Reference(dict[str, set[str]]):
    """Each taskboard scenario's findings (kind and signature), explored without interruption
    in this process, on first use."""

    def __missing__(self, name: str) -> set[str]:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        import interleave
        from examples.taskboard.scenarios import DEMO

        factory = {f.__name__: f for f in DEMO}[name]
        found = {
            json.dumps([f.kind, repr(f.signature)]) for f in interleave.explore(factory).findings
        }
        self[name] = found
        return found


def _ours(tmpdir: str, pid: int) -> list[str]:
    pattern = f"interleave-sqlite-{pid}-*"
    left = glob.glob(os.path.join(tmpdir, "*"))
    left += glob.glob(os.path.join("/dev/shm", pattern))
    return left


def run_once(kind: str, delay: float) -> dict[str, Any]:
    """One child, one SIGINT ``delay`` seconds after it is ready; returns what the parent saw."""
    tmpdir = tempfile.mkdtemp(prefix="interleave-bench-sigint-")
    # The child imports the interleave this process runs (the compiled build in make's second
    # test run), and the bundled examples from the checkout; PYTHONSAFEPATH keeps the checkout
    # (its current folder) from coming first.
    path = os.pathsep.join([_INTERLEAVE_SITE, str(ROOT)])
    env = {**os.environ, "TMPDIR": tmpdir, "PYTHONPATH": path, "PYTHONSAFEPATH": "1"}
    code = _CHILD_CLI if kind == "cli" else _CHILD_API
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ready = child.stdout.readline()
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        try:
            out, err = child.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            return {"hung": True, "ready": ready, "out": out, "err": err, "left": []}
        return {
            "hung": False,
            "ready": ready,
            "status": child.returncode,
            "out": out,
            "err": err,
            "left": _ours(tmpdir, child.pid),
            "delay": delay,
        }
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        # Reported above if the child left anything; removed here either way.
        for path in [tmpdir, *_ours(tmpdir, child.pid)]:
            shutil.rmtree(path, ignore_errors=True)


def judge(kind: str, seen: dict[str, Any], ref: dict[str, set[str]], tally: Tally) -> None:
    """Apply every check to one run."""
    tally.runs += 1
    full = f"{seen.get('out', '')}\n{seen.get('err', '')}"
    # For the failure's example: the end of stderr first (a traceback), then of stdout.
    text = f"{seen.get('err', '')[-1500:]}\n--- stdout:\n{seen.get('out', '')[-500:]}"
    if seen["hung"]:
        tally.fail("ended", "the child did not end within 60 s of the SIGINT")
        return
    if seen["ready"].strip() != "READY":
        tally.fail("started", f"the child did not start: {text}")
        return
    # A plain KeyboardInterrupt (the interrupt arrived outside any exploration, or the CLI's)
    # ends the process by SIGINT or with 130. CPython gives that exit only to the exact type:
    # an uncaught interleave.Interrupted (a subclass) exits with 1, after its traceback.
    last = seen["err"].strip().splitlines()[-1:] or [""]
    uncaught_interrupted = last[0].startswith("interleave.Interrupted: ")
    if seen["status"] not in ((1,) if uncaught_interrupted else (130, -signal.SIGINT)):
        tally.fail("exit 130", f"exit status {seen['status']}: {text}")
    if "not authorized" in full:
        tally.fail("invented", f"'not authorized' in the output: {text}")
    if seen["left"]:
        tally.fail("no temp dirs", f"left behind: {seen['left']}")
    if kind == "cli":
        if "interrupted" not in full:
            tally.fail("partial result", f"the CLI did not say it was interrupted: {text}")
        return
    lines = [line for line in seen["out"].splitlines() if line.startswith("STATE ")]
    if not lines:
        tally.fail("state", f"no STATE line: {text}")
        return
    state = json.loads(lines[-1][6:])
    if state["leaked_fds"] != 0:
        tally.fail("no fds", f"{state['leaked_fds']} descriptors more than at the start")
    if not all(state["restored"]):
        tally.fail("restored", f"handler, sqlite3.connect, threading.Lock: {state['restored']}")
    for name, keys in state["completed"]:
        if set(keys) != ref[name]:
            tally.fail("invented", f"{name}: {sorted(set(keys) ^ ref[name])}")
    if state["scenario"] is not None:
        if state["partial"] is None:
            tally.fail(
                "partial result",
                f"no result with the interrupt ({state['type']} in {state['where']})",
            )
        else:
            tally.partial += 1
            tally.findings_kept += len(state["partial"])
            extra = set(state["partial"]) - ref[state["scenario"]]
            if extra:
                tally.fail("invented", f"{state['scenario']}: {sorted(extra)}")
            if state["stopped"] != "interrupted":
                tally.fail("partial result", f"stopped_because={state['stopped']!r}")


CHECKS = (
    "started",
    "ended",
    "state",
    "exit 130",
    "invented",
    "partial result",
    "no temp dirs",
    "no fds",
    "restored",
)


def measure(runs: int, *, seed: int = 0, jobs: int = 2, scale: float = 1.0) -> dict[str, Tally]:
    """``runs`` children of each kind, ``jobs`` at a time; the tallies by kind.

    The delays are drawn from ``seed`` before any child starts (``scale`` shortens them), so
    a seed names the same set of moments whatever the machine's speed.
    """
    rng = random.Random(seed)
    plan = [
        (kind, rng.uniform(0.0, max_delay * scale))
        for _ in range(runs)
        for kind, max_delay in KINDS
    ]
    ref = Reference()
    tallies = {kind: Tally() for kind, _ in KINDS}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        seen = list(pool.map(lambda job: run_once(job[0], job[1]), plan))
    for (kind, _), one in zip(plan, seen, strict=True):
        judge(kind, one, ref, tallies[kind])
    return tallies


def render(tallies: dict[str, Tally], *, seconds: float, quick: bool) -> str:
    """The table: runs per kind and failures per check."""
    headers = ["child", "runs", "with partial result", "findings kept", *CHECKS]
    rows = []
    for kind, tally in tallies.items():
        rows.append(
            [
                kind,
                tally.runs,
                tally.partial if kind != "cli" else "-",
                tally.findings_kept if kind != "cli" else "-",
                *(tally.failures[c] for c in CHECKS),
            ]
        )
    title = (
        "SIGINT at a random moment during explorations of the taskboard scenarios "
        f"(failures per check; {'quick' if quick else 'full'} mode, {seconds:.0f} s), "
        f"Python {platform.python_version()}"
    )
    lines = [title, tabulate(rows, headers=headers)]
    for kind, tally in tallies.items():
        for check, example in tally.examples.items():
            lines.append(f"{kind} / {check}: {example}")
    return "\n".join(lines)


def main(quick: bool = False, argv: Sequence[str] | None = None) -> None:
    """Measure and print the table; raise when any check failed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="children at a time (default 2)")
    args = parser.parse_args([] if argv is None else argv)
    quick = quick or args.quick
    runs = args.runs if args.runs is not None else (QUICK_RUNS if quick else RUNS)
    start = time.perf_counter()
    # Quick: shorter delays (the interrupt lands in the first scenarios), more children at once.
    tallies = measure(
        runs,
        seed=args.seed,
        jobs=max(args.jobs, 4) if quick else args.jobs,
        scale=0.3 if quick else 1.0,
    )
    print(render(tallies, seconds=time.perf_counter() - start, quick=quick), flush=True)
    failed = {k: dict(t.failures) for k, t in tallies.items() if t.failures}
    if failed:
        raise RuntimeError(f"bench_sigint: checks failed: {failed}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:], argv=sys.argv[1:])
