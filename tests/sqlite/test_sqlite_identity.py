"""One SQLite database reached under several names is one resource (issue 10, Build item 9).

Before, each name was a database of its own: a lost update between a connection opened by path
and one opened through a symlink, a hard link, a relative path or a second shared-cache memory
URI went unseen (dpor: 1 execution, exhausted, clean; dfs: a lock wait that "no thread will
provide"). Different databases stay different, and resource names carry no inode or
temporary directory: they are the same in every execution and on every machine.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import interleave
import interleave.sqlite
from interleave import LostUpdate

BANK_SQL = (
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INT);"
    "INSERT INTO accounts VALUES (1, 100);"
)
BANK = interleave.sqlite.template(BANK_SQL, name="bank.db")
OTHER = interleave.sqlite.template(BANK_SQL, name="other.db")
READ = "SELECT balance FROM accounts WHERE id = 1"
WRITE = "UPDATE accounts SET balance = ? WHERE id = 1"


def withdraw(database: str, *, uri: bool = False, before: interleave.Shared | None = None):
    def run() -> None:
        if before is not None:
            before.get()  # a step before the connection opens: either thread may open first
        with contextlib.closing(sqlite3.connect(database, uri=uri)) as conn:
            (balance,) = conn.execute(READ).fetchone()
            conn.execute(WRITE, (balance - 10,))
            conn.commit()

    return run


def symlink(path: str) -> str:
    link = os.path.join(os.path.dirname(path), "alias.db")
    os.symlink(path, link)
    return link


def hard_link(path: str) -> str:
    link = os.path.join(os.path.dirname(path), "alias.db")
    os.link(path, link)
    return link


def relative(path: str) -> str:
    return os.path.relpath(path)


def symlinked_directory(path: str) -> str:
    folder = os.path.dirname(path)
    link = folder + "-link"  # in the execution's temporary directory, removed with it
    os.symlink(folder, link)
    return os.path.join(link, os.path.basename(path))


ALIASES: dict[str, Callable[[str], str]] = {
    "symlink": symlink,
    "hard link": hard_link,
    "relative path": relative,
    "symlinked directory": symlinked_directory,
}


def two_names(alias: Callable[[str], str], *, yield_first: bool = False):
    """Two threads withdraw from one template copy, one by its path, one by an alias."""
    made: list[str] = []

    def scenario() -> interleave.Scenario:
        path = BANK.path()
        other = alias(path)
        made.append(other)
        before = interleave.Shared("before", 0) if yield_first else None

        def check() -> bool:
            with contextlib.closing(sqlite3.connect(path)) as conn:
                return bool(conn.execute(READ).fetchone()[0] == 80)

        return interleave.Scenario(
            threads={
                "by_path": withdraw(path, before=before),
                "by_alias": withdraw(other, before=before),
            },
            check=check,
        )

    return scenario


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Relative paths are relative to the working directory: make it one we own.
    monkeypatch.chdir(tmp_path)
    yield


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
@pytest.mark.parametrize("name", list(ALIASES))
def test_a_database_reached_by_two_names_is_one_resource(name: str, strategy: str) -> None:
    result = interleave.explore(two_names(ALIASES[name]), strategy=strategy)
    assert result.exhausted
    lost = [f for f in result.findings if isinstance(f, LostUpdate)]
    assert len(lost) == 1, result.report()
    # Named after the template, whichever name the connection used: no inode, no directory.
    assert lost[0].resource == ("sqlite", "bank.db", "accounts", 1)
    assert {f.kind for f in result.findings} == {"lost-update", "invariant"}
    assert "deadlock" not in result.report()


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_the_name_does_not_depend_on_which_name_opened_first(strategy: str) -> None:
    # Two hard links of one plain file (no template): the resource is named after the first of
    # its names in the directory whichever thread connects first, so every schedule and every
    # replay sees the same resources.
    counter = itertools.count()

    def scenario() -> interleave.Scenario:
        folder = f"run{next(counter)}"
        os.mkdir(folder)
        first, second = os.path.join(folder, "a.db"), os.path.join(folder, "b.db")
        with contextlib.closing(sqlite3.connect(first)) as conn:
            conn.executescript(BANK_SQL)
        os.link(first, second)
        before = interleave.Shared("before", 0)
        return interleave.Scenario(
            threads=[withdraw(first, before=before), withdraw(second, before=before)]
        )

    result = interleave.explore(scenario, strategy=strategy)
    assert result.exhausted
    lost = [f for f in result.findings if isinstance(f, LostUpdate)]
    assert [f.resource for f in lost] == [("sqlite", "a.db", "accounts", 1)], result.report()
    for finding in lost:
        run = interleave.replay(scenario, finding.schedule_id)
        assert [f.resource for f in run.findings if isinstance(f, LostUpdate)] == [finding.resource]


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_the_threads_may_open_the_names_in_either_order(strategy: str) -> None:
    result = interleave.explore(two_names(hard_link, yield_first=True), strategy=strategy)
    assert result.exhausted
    lost = [f for f in result.findings if isinstance(f, LostUpdate)]
    assert [f.resource for f in lost] == [("sqlite", "bank.db", "accounts", 1)]


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_a_file_the_connection_creates_is_identified_once_it_exists(strategy: str) -> None:
    # The first connection creates the file: its identity is read after it opened, so a second
    # connection by another name (relative here) reaches the same database.
    counter = itertools.count()

    def scenario() -> interleave.Scenario:
        folder = f"run{next(counter)}"
        os.mkdir(folder)
        path = os.path.abspath(os.path.join(folder, "new.db"))
        creator = sqlite3.connect(path)  # the file does not exist before this line
        creator.executescript(BANK_SQL)

        def by_creator() -> None:
            (balance,) = creator.execute(READ).fetchone()
            creator.execute(WRITE, (balance - 10,))
            creator.commit()

        return interleave.Scenario(threads=[by_creator, withdraw(os.path.relpath(path))])

    result = interleave.explore(scenario, strategy=strategy)
    assert result.exhausted
    lost = [f for f in result.findings if isinstance(f, LostUpdate)]
    # Either thread's update can be the one lost: two findings, one database.
    assert len(lost) == 2, result.report()
    assert {f.resource for f in lost} == {("sqlite", "new.db", "accounts", 1)}


MEMORY_URI = "file:bank?mode=memory&cache=shared"


def shared_memory(uri: str, other: str) -> Callable[[], interleave.Scenario]:
    def scenario() -> interleave.Scenario:
        # Opened while the scenario is built: it keeps the memory database alive (and is
        # closed with the execution, which drops the database).
        keeper = sqlite3.connect(uri, uri=True)
        keeper.executescript(BANK_SQL)

        def check() -> bool:
            return bool(keeper.execute(READ).fetchone()[0] == 80)

        return interleave.Scenario(
            threads=[withdraw(uri, uri=True), withdraw(other, uri=True)], check=check
        )

    return scenario


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
@pytest.mark.parametrize(
    "other",
    [MEMORY_URI, "file:bank?cache=shared&mode=memory", "file:%62ank?mode=memory&cache=shared"],
)
def test_a_shared_cache_memory_database_opened_twice_is_one_resource(
    strategy: str, other: str
) -> None:
    result = interleave.explore(shared_memory(MEMORY_URI, other), strategy=strategy)
    assert result.exhausted
    lost = [f for f in result.findings if isinstance(f, LostUpdate)]
    assert [f.resource for f in lost] == [("sqlite", "bank", "accounts", 1)], result.report()
    assert "invariant" in {f.kind for f in result.findings}
    # Shared-cache connections lock tables and answer SQLITE_LOCKED at once (no busy
    # handler runs): the application really gets that error. Any other would mean the second
    # name reached another (empty) database.
    for finding in result.findings:
        if finding.kind == "exception":
            assert "database table is locked" in finding.message, finding.message


def _databases(result: interleave.ExploreResult) -> set[str]:
    """The database names of every step of the first finding's execution."""
    trace = result.findings[0].trace
    assert trace is not None
    return {op.resource[1] for op in trace.ops if op.resource[0] == "sqlite"}


def separate(databases: Callable[[], tuple[tuple[str, bool], ...]]):
    """One thread per database; check() always fails, so each execution has a trace to see."""

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(
            threads=[withdraw(name, uri=uri) for name, uri in databases()],
            check=lambda: False,
        )

    return scenario


def two_templates() -> tuple[tuple[str, bool], ...]:
    return ((BANK.path(), False), (OTHER.path(), False))


def two_memory_names() -> tuple[tuple[str, bool], ...]:
    for name in "xy":
        # The factory's connections keep the databases alive until the execution ends.
        sqlite3.connect(f"file:{name}?mode=memory&cache=shared", uri=True).executescript(BANK_SQL)
    return (("file:x?mode=memory&cache=shared", True), ("file:y?mode=memory&cache=shared", True))


def private_withdraw(database: str, uri: bool) -> Callable[[], None]:
    def run() -> None:
        with contextlib.closing(sqlite3.connect(database, uri=uri)) as conn:
            conn.executescript(BANK_SQL)
            (balance,) = conn.execute(READ).fetchone()
            conn.execute(WRITE, (balance - 10,))
            conn.commit()

    return run


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
@pytest.mark.parametrize(
    ("databases", "names"),
    [(two_templates, {"bank.db", "other.db"}), (two_memory_names, {"x", "y"})],
    ids=["two files", "two shared memory names"],
)
def test_two_different_databases_stay_two_resources(
    databases: Callable[[], tuple[tuple[str, bool], ...]], names: set[str], strategy: str
) -> None:
    result = interleave.explore(separate(databases), strategy=strategy)
    assert result.exhausted
    assert {f.kind for f in result.findings} == {"invariant"}, result.report()
    assert _databases(result) == names
    if strategy == "dpor":
        # Nothing the two threads do depends on the other: one execution covers them all.
        assert result.schedules_run == 1


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_private_memory_databases_are_one_per_connection(strategy: str) -> None:
    # ":memory:" and a memory URI without cache=shared are their connection's own database,
    # whatever their name: two threads with one each share nothing, so nothing can be lost.
    def scenario() -> interleave.Scenario:
        return interleave.Scenario(
            threads=[private_withdraw(":memory:", False), private_withdraw(":memory:", False)],
            check=lambda: False,
        )

    result = interleave.explore(scenario, strategy=strategy)
    assert result.exhausted
    assert {f.kind for f in result.findings} == {"invariant"}, result.report()
    assert _databases(result) == {":memory:", ":memory:#2"}
    if strategy == "dpor":
        assert result.schedules_run == 1
