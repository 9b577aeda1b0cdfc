"""aiosqlite in an exploration: each statement a step with SQLite's read and write sets, so a
read-modify-write across awaits is a lost update reported with its SQL (aiosqlite is in the
``dev`` extra)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

import aiosqlite

import interleave
import interleave.sqlite

STOCK = interleave.sqlite.template(
    "create table stock (item text primary key, qty int);insert into stock values ('apple', 10);"
)


def shop(*, atomic: bool) -> Callable[[], interleave.Scenario]:
    def scenario() -> interleave.Scenario:
        path = STOCK.path()  # a fresh copy of the database for each execution

        async def buy() -> None:
            async with aiosqlite.connect(path) as db:
                if atomic:
                    await db.execute("update stock set qty = qty - 1 where item = 'apple'")
                else:
                    async with db.execute("select qty from stock where item = 'apple'") as cur:
                        row = await cur.fetchone()
                    assert row is not None
                    await db.execute("update stock set qty = ? where item = 'apple'", (row[0] - 1,))
                await db.commit()

        def check() -> bool:
            with contextlib.closing(sqlite3.connect(path)) as db:
                (qty,) = db.execute("select qty from stock").fetchone()
            return bool(qty == 8)

        return interleave.Scenario(threads={"alice": buy, "bob": buy}, check=check)

    return scenario


def test_read_modify_write_through_aiosqlite_is_a_lost_update_with_its_sql() -> None:
    racy = shop(atomic=False)
    result = interleave.explore(racy)
    assert result.exhausted
    assert {f.kind for f in result.findings} == {"lost-update", "invariant"}
    lost = next(f for f in result.findings if f.kind == "lost-update")
    assert "select qty from stock where item = 'apple'" in lost.message
    assert "update stock set qty = ?" in lost.message
    run = interleave.replay(racy, lost.schedule_id)
    assert "lost-update" in {f.kind for f in run.findings}


def test_an_atomic_update_through_aiosqlite_is_clean() -> None:
    result = interleave.explore(shop(atomic=True))
    assert result.ok and result.exhausted, result.report()
