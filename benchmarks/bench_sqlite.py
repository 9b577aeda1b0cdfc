"""SQLite under the scheduler: executions per second and the cost of one scheduled statement.

Workload (deterministic counts, the same on every machine): two threads, each opens a
connection to a *file* database (autocommit, ``isolation_level=None``), runs
``SELECT balance ... WHERE id = 1`` and ``UPDATE accounts SET balance = balance - 10 WHERE id = 1``
and closes it: four statements, four steps, C(4, 2) = 6 schedules under exhaustive DFS, every
detector on (the SQL-aware lost-update detector included; the update is atomic, so it is clean).

Fresh state per execution, three ways:

- ``template copy``: ``interleave.sqlite.template(...)``; every execution writes the built image
  to its own file in a temporary directory, removed when the execution ends.
- ``rebuild schema``: every execution creates a new file and runs the schema script on it.
- ``shared file, reset``: one file for the whole run; every execution resets the row with an
  ``UPDATE`` first (no fresh file: only correct while the scenario cannot change the schema).

Beside them, in the same run: the same four statements (with the two connects and closes) in
plain ``sqlite3`` on one file, no scheduler, with the settings interleave gives its connections
(``synchronous = OFF``, ``temp_store = MEMORY``) in the same directory. ``us / statement`` is
the time of one execution divided by its four statements, so it includes everything an
execution costs (connect, copy, greenlets, trace, detectors); ``x plain`` divides it by the
plain ``sqlite3`` statement.
Repetitions are interleaved (every measurement once per round) and the best round is kept.

Run it with ``python benchmarks/bench_sqlite.py [--quick]`` or through ``benchmarks/run_all.py``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tabulate import tabulate

import interleave

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Measurement

import interleave.sqlite

#: Seconds one timed repetition of a measurement aims for (full mode).
TARGET_SECONDS = 0.3
#: Rounds of repetitions (full mode); the best round of each measurement is kept.
ROUNDS = 5

SCHEMA = (
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY, owner TEXT, balance INT);"
    "INSERT INTO accounts VALUES (1, 'ann', 100), (2, 'bob', 100);"
)
READ = "SELECT balance FROM accounts WHERE id = 1"
WRITE = "UPDATE accounts SET balance = balance - 10 WHERE id = 1"
#: Statements per execution (two threads x SELECT + UPDATE) and the schedules DFS must run.
STATEMENTS = 4
SCHEDULES = 6  # C(4, 2): the interleavings of two threads of two steps


def _threads(path: str) -> interleave.Scenario:
    def worker() -> None:
        conn = interleave.sqlite.connect(path, isolation_level=None)
        try:
            conn.execute(READ).fetchone()
            conn.execute(WRITE)
        finally:
            conn.close()

    def check() -> bool:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return bool(conn.execute(READ).fetchone()[0] == 80)

    return interleave.Scenario(threads=[worker, worker], check=check)


def template_factory() -> Callable[[], interleave.Scenario]:
    """Fresh state from ``interleave.sqlite.template``: one file write per execution."""
    bank = interleave.sqlite.template(SCHEMA, name="bank.db")

    def scenario() -> interleave.Scenario:
        return _threads(bank.path())

    return scenario


def rebuild_factory(directory: str) -> Callable[[], interleave.Scenario]:
    """Fresh state by running the schema script on a new file every execution.

    Each file has the same name in its own directory: a database is a resource named after
    its file, and every execution must name its resources the same way.
    """
    counter = iter(range(10**9))

    def scenario() -> interleave.Scenario:
        fresh = os.path.join(directory, f"run-{next(counter)}")
        os.mkdir(fresh)
        path = os.path.join(fresh, "bank.db")
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.executescript(SCHEMA)
        return _threads(path)

    return scenario


def reset_factory(directory: str) -> Callable[[], interleave.Scenario]:
    """One shared file; every execution resets the row first (no copy at all)."""
    path = os.path.join(directory, "shared.db")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(SCHEMA)

    def scenario() -> interleave.Scenario:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("UPDATE accounts SET balance = 100 WHERE id = 1")
            conn.commit()
        return _threads(path)

    return scenario


def explore(factory: Callable[[], interleave.Scenario]) -> tuple[int, int]:
    """One exhaustive DFS exploration; (schedules, steps)."""
    result = interleave.explore(factory, strategy="dfs")
    if not (result.ok and result.exhausted):
        raise RuntimeError(f"bench_sqlite: unexpected result\n{result.report()}")
    return result.schedules_run, result.statistics.steps


def plain_sqlite(path: str) -> Callable[[], tuple[int, int]]:
    """The same statements in plain sqlite3, no scheduler: one 'execution' per call.

    With the settings interleave gives its connections (no fsync, TEMP store in memory), in the
    same directory, so the comparison is of the scheduling and bookkeeping only.
    """

    def run() -> tuple[int, int]:
        for _ in range(2):
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                conn.execute("PRAGMA synchronous = OFF")
                conn.execute("PRAGMA temp_store = MEMORY")
                conn.execute(READ).fetchone()
                conn.execute(WRITE)
            finally:
                conn.close()
        return 1, STATEMENTS

    return run


def _copy_root() -> str:
    with interleave.sqlite.template("CREATE TABLE t(x)") as probe:
        return os.path.dirname(os.path.dirname(probe.path()))


def measure(quick: bool = False) -> list[list[object]]:
    """Measure every row in one run (``quick``: once each, a smoke test)."""
    rounds = 1 if quick else ROUNDS
    target = 0.0 if quick else TARGET_SECONDS
    # The directory interleave puts its copies in (/dev/shm when there is one), so every row
    # pays the same file system.
    directory = tempfile.mkdtemp(prefix="interleave-bench-sqlite-", dir=_copy_root())
    try:
        plain_path = os.path.join(directory, "plain.db")
        with contextlib.closing(sqlite3.connect(plain_path)) as conn:
            conn.executescript(SCHEMA)
        template = template_factory()
        rebuild = rebuild_factory(directory)
        reset = reset_factory(directory)
        plain = Measurement("plain sqlite3 (no scheduler)", plain_sqlite(plain_path))
        ours = [
            Measurement("template copy", lambda: explore(template)),
            Measurement("rebuild schema", lambda: explore(rebuild)),
            Measurement("shared file, reset", lambda: explore(reset)),
        ]
        for m in (plain, *ours):
            m.calibrate(target)
        for m in ours:
            if (m.schedules, m.steps) != (SCHEDULES, SCHEDULES * STATEMENTS):
                raise RuntimeError(
                    f"bench_sqlite {m.label}: {m.schedules} schedules / {m.steps} steps, "
                    f"expected {SCHEDULES} / {SCHEDULES * STATEMENTS}"
                )
        for _ in range(rounds):
            plain.repeat()
            for m in ours:
                m.repeat()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    plain_statement = plain.best / STATEMENTS
    rows: list[list[object]] = [
        [
            plain.label,
            "-",
            "-",
            f"{1 / plain.best:,.0f}",
            f"{plain_statement * 1e6:,.1f}",
            "1.0",
        ]
    ]
    for m in ours:
        per_execution = m.best / m.schedules
        per_statement = per_execution / STATEMENTS
        rows.append(
            [
                m.label,
                f"{m.schedules:,}",
                f"{m.steps:,}",
                f"{1 / per_execution:,.0f}",
                f"{per_statement * 1e6:,.1f}",
                f"{per_statement / plain_statement:,.1f}",
            ]
        )
    return rows


def main(quick: bool = False) -> None:
    """Measure and print the table."""
    mode = (
        "quick (one run each: a smoke test, not a measurement)"
        if quick
        else (f"best of {ROUNDS} rounds")
    )
    print(
        "bench_sqlite: exhaustive DFS of 2 threads x (SELECT, UPDATE) on a file database, "
        "fresh state per execution three ways, against plain sqlite3"
    )
    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"interleave {interleave.__version__}; {mode}"
    )
    headers = ["fresh state", "schedules", "steps", "executions/s", "us / statement", "x plain"]
    print(tabulate(measure(quick), headers=headers, disable_numparse=True))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
