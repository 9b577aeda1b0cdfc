"""interleave.sqlite's API: plain behaviour outside an exploration, the sqlite3 API inside one,
templates, and the helpers behind them."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import interleave
import interleave.sqlite
from interleave._core._schedule import Schedule, encode
from interleave.errors import InvalidArgument
from interleave.instrument.sqlite._analysis import _analyse
from interleave.instrument.sqlite._analysis import split_script as _split_script

SCHEMA = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INT);"
ITEMS = interleave.sqlite.template(
    SCHEMA + "INSERT INTO items VALUES (1, 'pen', 5);", name="items.db"
)


def test_public_module_exports() -> None:
    assert interleave.sqlite.__all__ == sorted(interleave.sqlite.__all__)
    assert set(interleave.sqlite.__all__) == {
        "Connection",
        "Cursor",
        "Template",
        "connect",
        "template",
    }


def test_outside_an_exploration_it_is_a_plain_sqlite3_connection(tmp_path: Path) -> None:
    conn = interleave.sqlite.connect(tmp_path / "plain.db", timeout=2.5)
    assert isinstance(conn, sqlite3.Connection) and isinstance(conn, interleave.sqlite.Connection)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (2500,)
    assert conn.isolation_level == ""
    conn.executescript(SCHEMA)
    with conn:
        cur = conn.execute("INSERT INTO items(name, qty) VALUES (?, ?)", ("ink", 1))
        assert cur.lastrowid == 1 and conn.in_transaction
    assert not conn.in_transaction
    conn.executemany("INSERT INTO items(name, qty) VALUES (?, ?)", [("a", 1), ("b", 2)])
    conn.rollback()
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT name FROM items ORDER BY id").fetchall()
    assert [r["name"] for r in rows] == ["ink"]
    assert isinstance(conn.cursor(), interleave.sqlite.Cursor)
    conn.close()
    conn.close()  # twice is fine, as in sqlite3


def test_inside_an_exploration_the_sqlite3_api_works_and_every_statement_is_a_step() -> None:
    seen: dict[str, object] = {}

    def scenario() -> interleave.Scenario:
        path = ITEMS.path()

        def worker() -> None:
            conn = interleave.sqlite.connect(path)
            conn.row_factory = sqlite3.Row
            cur = conn.cursor()
            cur.executemany("INSERT INTO items(name, qty) VALUES (?, ?)", [("a", 1), ("b", 2)])
            seen["in_transaction"] = conn.in_transaction
            seen["lastrowid"] = conn.execute(
                "INSERT INTO items(name, qty) VALUES ('c', 3)"
            ).lastrowid
            conn.commit()
            cur.execute("SELECT name FROM items ORDER BY id")
            seen["first"] = cur.fetchone()["name"]
            seen["many"] = [r["name"] for r in cur.fetchmany(2)]
            seen["rest"] = [r["name"] for r in cur]
            seen["after"] = cur.fetchone()
            with conn:
                conn.execute("DELETE FROM items WHERE name = 'c'")
            conn.execute("UPDATE items SET qty = 0")
            conn.rollback()
            conn.executescript("UPDATE items SET qty = qty + 1; DELETE FROM items WHERE id = 2;")
            seen["qty"] = conn.execute("SELECT sum(qty) FROM items").fetchone()[0]
            conn.close()

        return [worker]

    # One thread, no choices: the schedule of its only execution is "11 steps".
    run = interleave.replay(scenario, encode(Schedule(choices=(), steps=11)))
    assert run.ok, run.report()
    assert seen == {
        "in_transaction": True,
        "lastrowid": 4,
        "first": "pen",
        "many": ["a", "b"],
        "rest": ["c"],
        "after": None,
        "qty": (5 + 1) + (2 + 1),  # pen and b, each + 1; a (id 2) deleted, c deleted before
    }
    labels = [op.label for op in run.trace.ops]
    assert labels == [
        "INSERT INTO items(name, qty) VALUES (?, ?)",
        "INSERT INTO items(name, qty) VALUES ('c', 3)",
        "COMMIT",
        "SELECT name FROM items ORDER BY id",
        "DELETE FROM items WHERE name = 'c'",
        "COMMIT",
        "UPDATE items SET qty = 0",
        "ROLLBACK",
        "UPDATE items SET qty = qty + 1;",
        "DELETE FROM items WHERE id = 2;",
        "SELECT sum(qty) FROM items",
    ]
    kinds = [op.kind for op in run.trace.ops]
    assert kinds[3] == "read" and run.trace.ops[3].resource == ("sqlite", "items.db", "items")
    assert kinds[0] == "update" and run.trace.ops[0].resource == ("sqlite", "items.db")


def test_statements_interleave_at_statement_granularity() -> None:
    observed: set[int] = set()

    def scenario() -> interleave.Scenario:
        path = ITEMS.path()

        def writer() -> None:
            with contextlib.closing(interleave.sqlite.connect(path, isolation_level=None)) as c:
                c.execute("INSERT INTO items(name, qty) VALUES ('x', 1)")

        def reader() -> None:
            with contextlib.closing(interleave.sqlite.connect(path)) as c:
                observed.add(c.execute("SELECT count(*) FROM items").fetchone()[0])

        return [writer, reader]

    result = interleave.explore(scenario)
    assert result.ok and result.exhausted
    assert observed == {1, 2}  # the reader ran before and after the insert


def test_a_connection_opened_before_the_exploration_is_scheduled_and_restored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outside.db"
    with contextlib.closing(sqlite3.connect(path)) as setup:
        setup.executescript(SCHEMA + "INSERT INTO items VALUES (1, 'pen', 5);")
    shared = interleave.sqlite.connect(path, timeout=7, check_same_thread=False)

    def scenario() -> list[Callable[[], None]]:
        def worker() -> None:
            (qty,) = shared.execute("SELECT qty FROM items WHERE id = 1").fetchone()
            shared.execute("UPDATE items SET qty = ? WHERE id = 1", (qty - 1,))
            shared.commit()

        return [worker, worker]

    result = interleave.explore(scenario, stop_on_first=True)
    lost = [f for f in result.findings if f.kind == "lost-update"]
    assert lost, result.report()
    assert lost[0].resource == ("sqlite", "outside.db", "items", 1)
    assert shared.execute("PRAGMA busy_timeout").fetchone() == (7000,)
    shared.close()


def test_connect_accepts_a_template_and_a_connection_factory() -> None:
    class Mine(sqlite3.Connection):
        def hello(self) -> str:
            return "hi"

    def scenario() -> list[Callable[[], None]]:
        def worker() -> None:
            conn = interleave.sqlite.connect(ITEMS, factory=Mine)
            assert isinstance(conn, Mine) and conn.hello() == "hi"
            assert conn.execute("SELECT name FROM items").fetchall() == [("pen",)]
            conn.close()

        return [worker]

    assert interleave.explore(
        scenario, suppress_health_check=[interleave.HealthCheck.single_thread]
    ).ok


def test_connect_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidArgument, match=r"subclass of sqlite3\.Connection"):
        interleave.sqlite.connect(":memory:", factory=dict)
    with pytest.raises(TypeError, match="multiple values for argument 'timeout'"):
        interleave.sqlite.connect(":memory:", 1.0, timeout=2.0)  # type: ignore[misc]
    with pytest.raises(TypeError):  # sqlite3 itself rejects it
        interleave.sqlite.connect(":memory:", no_such_option=1)
    # Positional arguments in sqlite3.connect's order, as unmodified code may pass them.
    conn = interleave.sqlite.connect(":memory:", 2.0, 0, None)
    assert conn.isolation_level is None
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (2000,)
    conn.close()


def test_template_from_sql_callable_and_file(tmp_path: Path) -> None:
    def fill(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE t(x)")
        conn.execute("INSERT INTO t VALUES (42)")

    source = tmp_path / "source.db"
    with contextlib.closing(sqlite3.connect(source)) as conn:
        conn.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (7);")
    for schema, expected in (
        ("CREATE TABLE t(x); INSERT INTO t VALUES (1);", 1),
        (fill, 42),
        (source, 7),
    ):
        with interleave.sqlite.template(schema, name="t.db") as tpl:
            assert tpl.image.startswith(b"SQLite format 3\x00")
            first, second = tpl.path(), tpl.path()
            assert first != second and os.path.basename(first) == "t.db"
            with contextlib.closing(sqlite3.connect(first)) as conn:
                assert conn.execute("SELECT x FROM t").fetchone() == (expected,)
        assert not os.path.exists(first) and not os.path.exists(second)


def test_template_in_wal_mode() -> None:
    with (
        interleave.sqlite.template("CREATE TABLE t(x)", journal_mode="wal") as tpl,
        contextlib.closing(sqlite3.connect(tpl.path())) as conn,
    ):
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"schema": 42}, "must be SQL text"),
        ({"schema": "CREATE TABLE t(x)", "name": "a/b.db"}, "plain file name"),
        ({"schema": "CREATE TABLE t(x)", "name": ""}, "plain file name"),
        ({"schema": "CREATE TABLE t(x)", "journal_mode": "off"}, "'wal' or 'delete'"),
    ],
)
def test_template_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        interleave.sqlite.template(**kwargs)  # type: ignore[arg-type]


def test_a_broken_schema_says_which_template_and_why() -> None:
    broken = interleave.sqlite.template("CREATE TABLE (", name="broken.db")
    with pytest.raises(InvalidArgument, match=r"'broken.db' failed: OperationalError"):
        broken.path()


def test_wal_mode_lost_update_and_upgrade_conflict() -> None:
    wal = interleave.sqlite.template(
        SCHEMA + "INSERT INTO items VALUES (1, 'pen', 5);", name="wal.db", journal_mode="wal"
    )

    def scenario() -> list[Callable[[], None]]:
        path = wal.path()

        def worker() -> None:
            with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                conn.execute("BEGIN")
                (qty,) = conn.execute("SELECT qty FROM items WHERE id = 1").fetchone()
                conn.execute("UPDATE items SET qty = ? WHERE id = 1", (qty - 1,))
                conn.commit()

        return [worker, worker]

    result = interleave.explore(scenario)
    assert result.exhausted
    # In WAL mode a reader never blocks the writer's commit, so the second writer's snapshot
    # is stale: SQLite answers SQLITE_BUSY(_SNAPSHOT) at once, and the application sees it.
    assert {f.kind for f in result.findings} == {"exception"}, result.report()
    assert all("database is locked" in f.message for f in result.findings)


def test_split_script_keeps_trigger_bodies_whole() -> None:
    script = """
        CREATE TABLE t(x);
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;
        ;
        INSERT INTO t VALUES (';')
    """
    assert _split_script(script) == [
        "CREATE TABLE t(x);",
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;",
        "INSERT INTO t VALUES (';')",
    ]


def test_analysis_of_authorizer_callbacks() -> None:
    read, update, insert = sqlite3.SQLITE_READ, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_INSERT
    analysis = _analyse(
        [
            (read, "t", "v", "main", None),
            (update, "t", "v", "main", None),
            (read, "t", "id", "main", None),
            (insert, "log", None, "main", "user_trigger"),
            (insert, "_x", None, "temp", None),
            (read, "t", "rowid", "main", "_interleave_0_u"),
        ],
        "UPDATE t SET v = v + 1 WHERE id = ?",
    )
    assert analysis.reads == {"t": frozenset({"v", "id"})}
    assert analysis.writes == {"t": frozenset({"v"}), "log": None}
    assert analysis.events == (("t", "UPDATE"), ("log", "INSERT"))
    begin = _analyse([(sqlite3.SQLITE_TRANSACTION, "BEGIN", None, None, None)], "begin  immediate")
    assert begin.tx == "begin immediate"
    assert not _analyse([(sqlite3.SQLITE_PRAGMA, "journal_mode", None, None, None)], "x").known


def test_a_statement_meeting_a_held_lock_keeps_its_precise_resource() -> None:
    # reader connects while holder has the EXCLUSIVE lock: SQLite cannot even load the schema.
    # Connecting still works (as with sqlite3), and the first statement is still a read of one
    # table, because template copies are analysed on a private in-memory copy.
    def scenario() -> interleave.Scenario:
        path = ITEMS.path()
        started, done = interleave.Event(name="started"), interleave.Event(name="done")

        def holder() -> None:
            with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                conn.execute("BEGIN EXCLUSIVE")
                started.set()
                done.wait()
                conn.commit()

        def reader() -> None:
            started.wait()
            with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                conn.execute("SELECT qty FROM items WHERE id = 1").fetchall()
                done.set()

        return interleave.Scenario(threads={"holder": holder, "reader": reader})

    result = interleave.explore(scenario)
    [stuck] = result.findings
    assert stuck.kind == "deadlock"
    trace = stuck.trace
    assert trace is not None
    [select] = [op for op in trace.ops if op.label == "SELECT qty FROM items WHERE id = 1"]
    assert (select.kind, select.resource) == ("read", ("sqlite", "items.db", "items"))
    waits = {w.thread: w for w in stuck.waits}  # type: ignore[attr-defined]
    assert waits["reader"].waits_for == "SHARED lock on sqlite 'items.db'"
    assert [h.resource for h in waits["reader"].holders] == ["EXCLUSIVE lock on sqlite 'items.db'"]


def test_public_objects_report_the_public_module() -> None:
    for name in interleave.sqlite.__all__:
        assert getattr(interleave.sqlite, name).__module__ == "interleave.sqlite"
    assert interleave.sqlite.Connection.__doc__ and "Example::" in interleave.sqlite.connect.__doc__


def test_the_sqlite3_connect_patch_has_an_option_and_the_cleanup_is_always_on() -> None:
    from interleave.instrument._patches import enabled_patches
    from interleave.instrument.sqlite._patch import patch_sqlite, sqlite_execution

    assert {patch_sqlite, sqlite_execution} <= set(enabled_patches({}))
    off = enabled_patches({"patch_sqlite": False})
    assert sqlite_execution in off and patch_sqlite not in off
