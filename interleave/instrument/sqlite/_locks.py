"""SQLite lock levels, what each statement needs, and waiting for a lock after SQLITE_BUSY.

SQLite (rollback journal) locks a whole database at one of five levels::

    NONE ─► SHARED (reading) ─► RESERVED (a writer, readers go on) ─► PENDING (the writer
    wants to commit: no new readers) ─► EXCLUSIVE (writing the file: nobody else)

A connection's level is not something SQLite reports, so it is inferred from the statements
that ran: a transaction that read holds SHARED, one that wrote (or ``BEGIN IMMEDIATE``) holds
RESERVED, ``BEGIN EXCLUSIVE`` holds EXCLUSIVE, a commit that was refused holds PENDING (it
keeps new readers out while it waits); commit, rollback and close release everything. In WAL
mode readers never block and are never blocked, only writers exclude each other.

Connections are opened with no busy timeout, so SQLITE_BUSY comes back at once and becomes a
scheduling decision: the thread waits (:class:`LockWait`) until some connection of the
database releases a lock, then retries. The holders of conflicting levels are the wait's
edges in the lock-wait graph, so deadlocks between SQLite transactions (and between SQLite and
other locks) are found as cycles. Where SQLite itself answers BUSY without ever waiting, the
application gets the error, as it would for real (:func:`sqlite_refuses_to_wait`).
"""

from __future__ import annotations

from typing import Final

from ..._core._findings import Hold
from ..._core._ops import Operation
from ..._core._threads import Wait
from ._analysis import Analysis
from ._raw import SQLITE_BUSY_SNAPSHOT
from ._state import ConnState

__all__ = [
    "EXCLUSIVE",
    "LEVEL_NAMES",
    "NONE",
    "PENDING",
    "RESERVED",
    "SHARED",
    "LockWait",
    "held_level",
    "requested_level",
    "sqlite_refuses_to_wait",
    "statement_operation",
]

NONE, SHARED, RESERVED, PENDING, EXCLUSIVE = range(5)
LEVEL_NAMES: Final = ("NONE", "SHARED", "RESERVED", "PENDING", "EXCLUSIVE")


def statement_operation(
    state: ConnState, analysis: Analysis, label: str, in_transaction: bool
) -> Operation:
    """The operation the scheduler sees for a statement: which resource, read or update."""
    key = state.db.key
    if analysis.tx is not None or analysis.ddl or not analysis.known:
        return Operation("update", ("sqlite", key), label)
    tables = analysis.tables
    if analysis.writes:
        # The first write of a transaction takes the database's write lock: it conflicts
        # with every statement on the database. Later writes conflict per table.
        if state.level >= RESERVED and len(tables) == 1 and in_transaction:
            return Operation("update", ("sqlite", key, next(iter(tables))), label)
        return Operation("update", ("sqlite", key), label)
    if len(tables) == 1:
        return Operation("read", ("sqlite", key, next(iter(tables))), label)
    return Operation("read", ("sqlite", key), label)


def requested_level(analysis: Analysis, in_transaction: bool) -> int:
    """The level a statement that got SQLITE_BUSY was asking for."""
    tx = analysis.tx
    if tx in ("commit", "begin exclusive"):
        return EXCLUSIVE
    if tx == "begin immediate":
        return RESERVED
    if analysis.writes or analysis.ddl or not analysis.known:
        # Outside a transaction the statement commits at once: it needs the file itself.
        return RESERVED if in_transaction else EXCLUSIVE
    return SHARED


def held_level(analysis: Analysis) -> int:
    """The level an open transaction holds at least once the statement has run."""
    if analysis.tx == "begin exclusive":
        return EXCLUSIVE
    if analysis.tx == "begin immediate" or analysis.writes or analysis.ddl:
        return RESERVED
    if analysis.reads or not analysis.known:
        return SHARED
    return NONE


def sqlite_refuses_to_wait(code: int, level: int, analysis: Analysis, requested: int) -> bool:
    """Did SQLite answer BUSY at once, without calling any busy handler?

    Its deadlock avoidance: a transaction that already holds SHARED and asks for more, while
    another connection writes, could wait forever for a reader that waits for it, so SQLite
    fails it instead (a commit excepted: it waits for readers to finish). In WAL mode, a
    transaction whose snapshot is older than the last commit cannot write at all
    (SQLITE_BUSY_SNAPSHOT).
    """
    return code == SQLITE_BUSY_SNAPSHOT or (
        level >= SHARED and analysis.tx != "commit" and requested > SHARED
    )


def _conflicts(requested: int, held: int, wal: bool) -> bool:
    if wal:
        # WAL: readers never block and are never blocked; writers exclude each other.
        return requested >= RESERVED and held >= RESERVED
    if requested == SHARED:
        return held >= PENDING
    if requested == RESERVED:
        return held >= RESERVED
    return held >= SHARED


class LockWait(Wait):
    """Waiting for a database lock after SQLITE_BUSY: ready when some holder released one."""

    __slots__ = ("db", "generation", "requested", "state", "wal")

    def __init__(self, state: ConnState, requested: int) -> None:
        super().__init__(("sqlite", state.db.key))
        self.state = state
        self.db = state.db
        self.generation = state.db.generation
        self.requested = requested
        self.wal = state.db.is_wal()

    def is_ready(self) -> bool:
        return self.db.generation != self.generation

    def holders(self) -> list[Hold]:
        holds = []
        for other in self.db.conns:
            if other is self.state or other.holder is None:
                continue
            if _conflicts(self.requested, other.level, self.wal):
                holds.append(
                    Hold(
                        thread=other.holder.name,
                        resource=f"{LEVEL_NAMES[other.level]} lock on sqlite {self.db.key!r}",
                        step=other.step,
                        location=other.where,
                    )
                )
        return holds

    def describe(self) -> str:
        return f"{LEVEL_NAMES[self.requested]} lock on sqlite {self.db.key!r}"
