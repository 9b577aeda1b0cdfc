"""SQLite under the scheduler, on real database files: the bugs of issue 4 are found, the fixed
versions are exhaustively clean, and nothing is left behind."""

from __future__ import annotations

import contextlib
import glob
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlite_unmodified_app import DatabaseManager

import interleave
import interleave.sqlite
from interleave import Deadlock, LostUpdate, ThreadCrashed

BANK_SQL = (
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY, owner TEXT, balance INT);"
    "INSERT INTO accounts VALUES (1, 'ann', 100), (2, 'bob', 100);"
)
BANK = interleave.sqlite.template(BANK_SQL, name="bank.db")
USERS = interleave.sqlite.template(
    "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)", name="users.db"
)
LEFT = interleave.sqlite.template("CREATE TABLE t(x)", name="left.db")
RIGHT = interleave.sqlite.template("CREATE TABLE t(x)", name="right.db")

READ = "SELECT balance FROM accounts WHERE id = ?"
WRITE = "UPDATE accounts SET balance = ? WHERE id = ?"


def balance(path: str, account: int = 1) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        (value,) = conn.execute(READ, (account,)).fetchone()
        return int(value)


def withdraw_factory(body: Callable[[sqlite3.Connection, int], None], accounts: tuple[int, ...]):
    def scenario() -> interleave.Scenario:
        path = BANK.path()

        def make(account: int) -> Callable[[], None]:
            def withdraw() -> None:
                with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                    body(conn, account)

            return withdraw

        def check() -> bool:
            return all(balance(path, a) == 100 - 10 * accounts.count(a) for a in set(accounts))

        return interleave.Scenario(threads=[make(a) for a in accounts], check=check)

    return scenario


def read_then_update(conn: sqlite3.Connection, account: int) -> None:
    (current,) = conn.execute(READ, (account,)).fetchone()
    conn.execute(WRITE, (current - 10, account))
    conn.commit()


def atomic_update(conn: sqlite3.Connection, account: int) -> None:
    conn.execute("UPDATE accounts SET balance = balance - 10 WHERE id = ?", (account,))
    conn.commit()


def immediate_read_then_update(conn: sqlite3.Connection, account: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    (current,) = conn.execute(READ, (account,)).fetchone()
    conn.execute(WRITE, (current - 10, account))
    conn.commit()


@pytest.fixture(autouse=True)
def no_files_left_behind() -> Iterator[None]:
    def ours() -> set[str]:
        roots = {tempfile.gettempdir(), "/dev/shm"}
        pattern = f"interleave-sqlite-{os.getpid()}-*"  # ours, not another process's
        return {p for root in roots for p in glob.glob(os.path.join(root, pattern))}

    before = ours()
    yield
    assert ours() - before == set()


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_read_then_update_is_a_lost_update_with_the_three_statements(strategy: str) -> None:
    result = interleave.explore(withdraw_factory(read_then_update, (1, 1)), strategy=strategy)
    assert result.exhausted
    lost = [f for f in result.findings if isinstance(f, LostUpdate)]
    assert len(lost) == 1
    finding = lost[0]
    assert finding.resource == ("sqlite", "bank.db", "accounts", 1)
    trace = finding.trace
    assert trace is not None
    labels = [trace.ops[s].label for s in (finding.read_step, finding.other_write_step)]
    assert labels == [READ, WRITE]
    assert trace.ops[finding.write_step].label == WRITE
    assert trace.choices[finding.read_step] == trace.choices[finding.write_step]
    assert trace.choices[finding.other_write_step] != trace.choices[finding.write_step]
    report = result.report()
    assert report.count(READ) >= 2 and report.count(WRITE) >= 3
    assert "LOST UPDATE" in report and "committed it at step" in finding.message
    # The check sees the money that vanished too.
    assert "invariant" in {f.kind for f in result.findings}
    replayed = interleave.replay(withdraw_factory(read_then_update, (1, 1)), finding.schedule_id)
    assert [f.kind for f in replayed.findings if f.kind == "lost-update"] == ["lost-update"]


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
@pytest.mark.parametrize("body", [atomic_update, immediate_read_then_update])
def test_atomic_update_and_begin_immediate_are_exhaustively_clean(
    body: Callable[[sqlite3.Connection, int], None], strategy: str
) -> None:
    result = interleave.explore(withdraw_factory(body, (1, 1)), strategy=strategy)
    assert result.ok, result.report()
    assert result.exhausted
    assert result.schedules_run >= 2


def test_sqlite_busy_blocks_on_the_lock_and_the_wait_graph_shows_the_holder() -> None:
    # holder takes the write lock, then waits for an event that only waiter sets *after* its
    # own BEGIN IMMEDIATE: waiter blocks on SQLite's lock instead of failing, and the run is
    # stuck with the lock's holder and level in the lock-wait graph.
    def scenario() -> interleave.Scenario:
        path = BANK.path()
        ready = interleave.Event(name="ready")

        def holder() -> None:
            with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                conn.execute("BEGIN IMMEDIATE")
                ready.wait()
                conn.commit()

        def waiter() -> None:
            with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                conn.execute("BEGIN IMMEDIATE")
                ready.set()
                conn.commit()

        return interleave.Scenario(threads={"holder": holder, "waiter": waiter})

    result = interleave.explore(scenario)
    assert result.exhausted
    stuck = [f for f in result.findings if isinstance(f, Deadlock)]
    assert len(stuck) == 1, result.report()
    waits = {w.thread: w for w in stuck[0].waits}
    assert waits["waiter"].waits_for == "RESERVED lock on sqlite 'bank.db'"
    [hold] = waits["waiter"].holders
    assert (hold.thread, hold.resource) == ("holder", "RESERVED lock on sqlite 'bank.db'")
    assert hold.step is not None and hold.location is not None
    assert not [f for f in result.findings if isinstance(f, ThreadCrashed)]


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_threads_updating_different_rows_report_nothing(strategy: str) -> None:
    result = interleave.explore(withdraw_factory(read_then_update, (1, 2)), strategy=strategy)
    assert result.ok, result.report()
    assert result.exhausted


def test_opposite_begin_exclusive_orders_across_two_files_deadlock() -> None:
    def scenario() -> interleave.Scenario:
        left, right = LEFT.path(), RIGHT.path()

        def worker(first: str, second: str) -> Callable[[], None]:
            def run() -> None:
                a, b = interleave.sqlite.connect(first), interleave.sqlite.connect(second)
                try:
                    a.execute("BEGIN EXCLUSIVE")
                    b.execute("BEGIN EXCLUSIVE")
                    b.commit()
                    a.commit()
                finally:
                    a.close()
                    b.close()

            return run

        return interleave.Scenario(
            threads={"mover": worker(left, right), "backer": worker(right, left)}
        )

    result = interleave.explore(scenario)
    assert result.exhausted
    deadlocks = [f for f in result.findings if isinstance(f, Deadlock)]
    assert len(deadlocks) == 1, result.report()
    cycle = " ".join(deadlocks[0].cycle)
    for name in ("mover", "backer", "'left.db'", "'right.db'"):
        assert name in cycle
    assert "EXCLUSIVE lock on sqlite 'left.db'" in deadlocks[0].cycle
    assert "holds EXCLUSIVE lock on sqlite" in deadlocks[0].message
    assert {f.kind for f in result.findings} == {"deadlock"}


def test_the_same_order_on_both_files_is_clean() -> None:
    def scenario() -> interleave.Scenario:
        left, right = LEFT.path(), RIGHT.path()

        def run() -> None:
            a, b = interleave.sqlite.connect(left), interleave.sqlite.connect(right)
            try:
                a.execute("BEGIN EXCLUSIVE")
                b.execute("BEGIN EXCLUSIVE")
                b.commit()
                a.commit()
            finally:
                a.close()
                b.close()

        return [run, run]

    result = interleave.explore(scenario)
    assert result.ok and result.exhausted


def deferred_upgrade(handle: bool) -> Callable[[], interleave.Scenario]:
    def scenario() -> interleave.Scenario:
        path = BANK.path()
        errors: list[str] = []

        def worker() -> None:
            conn = interleave.sqlite.connect(path)
            try:
                conn.execute("BEGIN")
                (current,) = conn.execute(READ, (1,)).fetchone()
                try:
                    conn.execute(WRITE, (current - 10, 1))
                except sqlite3.OperationalError as exc:
                    if not handle:
                        raise
                    errors.append(str(exc))
                    conn.rollback()
                    return
                conn.commit()
            finally:
                conn.close()

        return interleave.Scenario(threads=[worker, worker], check=lambda: len(errors) <= 1)

    return scenario


def test_a_deferred_upgrade_conflict_raises_the_operational_error_sqlite_gives() -> None:
    result = interleave.explore(deferred_upgrade(handle=False))
    assert result.exhausted
    crashes = [f for f in result.findings if isinstance(f, ThreadCrashed)]
    assert len(crashes) == 1, result.report()
    assert crashes[0].exception == "OperationalError: database is locked"
    trace = crashes[0].trace
    assert trace is not None
    errors = [op for op in trace.ops if op.kind == "error"]
    assert len(errors) == 1 and errors[0].resource == ("sqlite", "bank.db")
    assert "database is locked" in (errors[0].label or "")
    # The crashed thread closed its connection, so the other one committed: no deadlock.
    assert {f.kind for f in result.findings} == {"exception"}


def test_an_application_that_handles_the_upgrade_conflict_is_clean() -> None:
    result = interleave.explore(deferred_upgrade(handle=True))
    assert result.ok, result.report()
    assert result.exhausted


def test_unmodified_code_calling_sqlite3_connect_is_explored() -> None:
    def scenario() -> interleave.Scenario:
        db = DatabaseManager(USERS.path())
        return interleave.Scenario(
            threads=[lambda: db.add_user("ann"), lambda: db.add_user("ann")],
            check=lambda: db.count("ann") == 1,
        )

    original = sqlite3.connect
    result = interleave.explore(scenario)
    assert sqlite3.connect is original
    assert [f.kind for f in result.findings] == ["invariant"]
    trace = result.findings[0].trace
    assert trace is not None
    labels = [op.label for op in trace.ops]
    assert labels.count("INSERT INTO users(name) VALUES (?)") == 2
    assert all(op.resource[:2] == ("sqlite", "users.db") for op in trace.ops)


def test_unmodified_code_with_real_threads_is_explored() -> None:
    # The threading patch and the sqlite3 patch together: threading.Thread workers that call
    # sqlite3.connect, no interleave in sight.
    def scenario() -> interleave.Scenario:
        db = DatabaseManager(USERS.path())

        def main() -> None:
            workers = [threading.Thread(target=db.add_user, args=("ann",)) for _ in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()

        return interleave.Scenario(threads=[main], check=lambda: db.count("ann") == 1)

    result = interleave.explore(scenario)
    assert [f.kind for f in result.findings] == ["invariant"]
    assert result.exhausted


def test_sqlite3_connect_is_restored_when_the_scenario_raises() -> None:
    original = sqlite3.connect

    def scenario() -> interleave.Scenario:
        path = USERS.path()
        sqlite3.connect(path).close()
        raise RuntimeError("factory failed")

    with pytest.raises(RuntimeError, match="factory failed"):
        interleave.explore(scenario)
    assert sqlite3.connect is original


def test_each_execution_gets_a_fresh_copy_and_connections_left_open_are_closed() -> None:
    paths: list[str] = []

    def scenario() -> interleave.Scenario:
        path = BANK.path()
        assert BANK.path() == path  # one copy per execution
        paths.append(path)

        def sloppy() -> None:
            conn = interleave.sqlite.connect(path)  # never closed, transaction left open
            (current,) = conn.execute(READ, (1,)).fetchone()
            conn.execute(WRITE, (current - 10, 1))

        return interleave.Scenario(threads=[sloppy], check=lambda: balance(path) == 100)

    result = interleave.explore(
        scenario,
        strategy="random",
        max_schedules=3,
        suppress_health_check=[interleave.HealthCheck.single_thread],
    )
    assert result.ok, result.report()
    assert len(paths) == 3 and len(set(paths)) == 3
    assert {os.path.basename(p) for p in paths} == {"bank.db"}
    assert not any(os.path.exists(p) for p in paths)


def test_explorations_are_deterministic() -> None:
    def run() -> list[tuple[str, str]]:
        result = interleave.explore(withdraw_factory(read_then_update, (1, 1)))
        return [(f.kind, f.schedule_id) for f in result.findings]

    assert run() == run()


KV = interleave.sqlite.template(
    "CREATE TABLE kv(k TEXT PRIMARY KEY, v INT, note TEXT) WITHOUT ROWID;"
    "INSERT INTO kv VALUES ('a', 0, ''), ('b', 0, '');",
    name="kv.db",
)


def kv_scenario(first: str, second: str) -> Callable[[], list[Callable[[], None]]]:
    """Two threads: each reads kv[key].v, then writes ``column`` of the same key."""

    def scenario() -> list[Callable[[], None]]:
        path = KV.path()

        def make(column: str) -> Callable[[], None]:
            def run() -> None:
                with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                    (v,) = conn.execute("SELECT v FROM kv WHERE k = 'a'").fetchone()
                    conn.execute(f"UPDATE kv SET {column} = ? WHERE k = 'a'", (v + 1,))
                    conn.commit()

            return run

        return [make(first), make(second)]

    return scenario


def test_rows_of_a_without_rowid_table_are_keyed_by_primary_key() -> None:
    result = interleave.explore(kv_scenario("v", "v"))
    lost = [f for f in result.findings if isinstance(f, LostUpdate)]
    assert len(lost) == 1 and lost[0].resource == ("sqlite", "kv.db", "kv", "'a'")


def test_writes_of_other_columns_are_not_lost_updates() -> None:
    # One thread writes v (after reading v), the other writes note: nothing is overwritten.
    result = interleave.explore(kv_scenario("v", "note"))
    assert result.ok, result.report()
    assert result.exhausted


@pytest.mark.parametrize(
    "factory",
    [
        withdraw_factory(read_then_update, (1, 1)),
        withdraw_factory(read_then_update, (1, 2)),
        withdraw_factory(immediate_read_then_update, (1, 1)),
        deferred_upgrade(handle=False),
        kv_scenario("v", "v"),
    ],
    ids=["read-then-update", "different-rows", "immediate", "deferred-upgrade", "without-rowid"],
)
def test_dpor_finds_exactly_what_dfs_finds(factory: Callable[[], object]) -> None:
    # The resources of SQL steps (table-level reads, database-level lock changes) are what
    # partial-order reduction relies on: with them it must lose no finding.
    def found(strategy: str) -> list[tuple[str, str]]:
        result = interleave.explore(factory, strategy=strategy)
        assert result.exhausted
        return sorted((f.kind, str(f.signature)) for f in result.findings)

    assert found("dpor") == found("dfs")
