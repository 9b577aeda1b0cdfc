"""The SQL-aware lost-update observer: stale row writes, reported with their SQL.

It lives beside the SQLite shim, not in ``detectors/``: only the shim knows, per statement, the
columns it read (the authorizer, ``_analysis.py``) and the rows it wrote (the TEMP triggers,
``_rows.py``). The connection feeds it as statements run (:meth:`SqliteLostUpdates.record_reads`,
:meth:`~SqliteLostUpdates.check_write`, :meth:`~SqliteLostUpdates.commit`); it joins each
execution through ``Runtime.add_observer`` on the execution's first SQLite statement and hands
its findings over in ``on_finish``.
"""

from __future__ import annotations

from ..._core._findings import Finding, LostUpdate
from ..._core._observer import Observer
from ..._core._threads import SimThread
from ..._core._views import ExecutionView

__all__ = ["Pending", "SqliteLostUpdates", "Transaction"]


class Pending:
    """A row write not yet visible to other connections (its transaction is open)."""

    __slots__ = ("columns", "label", "row", "step", "table", "thread")

    def __init__(
        self,
        thread: SimThread,
        table: str,
        row: object,
        columns: frozenset[str] | None,
        step: int,
        label: str,
    ) -> None:
        self.thread = thread
        self.table = table
        self.row = row
        self.columns = columns
        self.step = step
        self.label = label


class _Candidate:
    """A stale write found when it ran; reported if its transaction commits."""

    __slots__ = ("column", "key", "other", "read", "read_label", "write", "write_label", "writer")

    def __init__(
        self,
        key: str,
        writer: SimThread,
        column: str,
        read: int,
        read_label: str,
        other: tuple[Pending, int],
        write: int,
        write_label: str,
    ) -> None:
        self.key = key
        self.writer = writer
        self.column = column
        self.read = read
        self.read_label = read_label
        self.other = other
        self.write = write
        self.write_label = write_label


class Transaction:
    """One connection's open transaction in one execution, as the observer needs it: its row
    writes not yet visible to other connections, and the stale ones among them."""

    __slots__ = ("candidates", "pending")

    def __init__(self) -> None:
        self.pending: list[Pending] = []
        self.candidates: list[_Candidate] = []

    def clear(self) -> None:
        self.pending.clear()
        self.candidates.clear()


class SqliteLostUpdates(Observer):
    """Lost updates on rows: T read a column of table X, another thread's write of row R of X
    became visible after that read, then T wrote R (that column) without reading it again.

    Reads are known per column (the authorizer), writes per row (TEMP triggers). A write that
    reads the column it writes in the same statement (``SET v = v + 1``) is atomic and never
    stale; threads that read-modify-write different rows are never reported; a stale write is
    reported only if its transaction commits.
    """

    def __init__(self) -> None:
        # (thread id, db key, table) -> column -> (last read step, SQL)
        self._reads: dict[tuple[int, str, str], dict[str, tuple[int, str]]] = {}
        # (db key, table, row) -> [(visible step, write)]
        self._visible: dict[tuple[str, str, object], list[tuple[int, Pending]]] = {}
        self._findings: list[Finding] = []
        self._seen: set[tuple[object, ...]] = set()

    def record_reads(
        self,
        thread: SimThread,
        key: str,
        reads: dict[str, frozenset[str]],
        step: int,
        label: str,
    ) -> None:
        for table, columns in reads.items():
            entry = self._reads.setdefault((thread.tid, key, table), {})
            for column in columns:
                entry[column] = (step, label)

    def check_write(
        self, key: str, tx: Transaction, write: Pending, own_reads: frozenset[str]
    ) -> None:
        """Is ``write`` (by a connection of database ``key``, in ``tx``) stale?"""
        reads = self._reads.get((write.thread.tid, key, write.table))
        if not reads:
            return
        others = list(self._visible.get((key, write.table, write.row), ()))
        # Writes of other threads on the same connection are visible before they commit.
        others.extend(
            (p.step, p)
            for p in tx.pending
            if p.thread is not write.thread and p.table == write.table and p.row == write.row
        )
        if not others:
            return
        columns = (set(reads) if write.columns is None else set(write.columns)) - own_reads
        for column in sorted(columns):
            read = reads.get(column)
            if read is None:
                continue
            for visible, other in reversed(others):
                if (
                    other.thread is not write.thread
                    and visible > read[0]
                    and (other.columns is None or column in other.columns)
                ):
                    tx.candidates.append(
                        _Candidate(
                            key,
                            write.thread,
                            column,
                            read[0],
                            read[1],
                            (other, visible),
                            write.step,
                            write.label,
                        )
                    )
                    return

    def commit(self, execution: ExecutionView, key: str, tx: Transaction, step: int) -> None:
        """``tx`` (on database ``key``) committed at ``step``: its writes become visible."""
        for pending in tx.pending:
            self._visible.setdefault((key, pending.table, pending.row), []).append((step, pending))
        for candidate in tx.candidates:
            self._report(execution, candidate)
        tx.clear()

    def _report(self, execution: ExecutionView, c: _Candidate) -> None:
        other, visible = c.other
        locs = execution.locations
        loser, winner = c.writer.name, other.thread.name
        table = other.table
        signature = (
            "sqlite",
            c.key,
            table,
            c.column,
            str(locs[c.read]),
            str(locs[other.step]),
            str(locs[c.write]),
            c.read_label,
            other.label,
            c.write_label,
        )
        if signature in self._seen:
            return
        self._seen.add(signature)

        def at(step: int) -> str:
            loc = locs[step] if step < len(locs) else None
            return f"step {step}" + (f" ({loc})" if loc is not None else "")

        row = f"row {other.row!r} of {table!r} in {c.key!r}"
        made = (
            f"and committed it at step {visible}" if visible != other.step else "(same connection)"
        )
        message = (
            f"{loser} read {table}.{c.column or '*'} at {at(c.read)}: {c.read_label} | "
            f"{winner} wrote {row} at {at(other.step)}: {other.label} {made} | "
            f"then {loser} wrote the same row at {at(c.write)}: {c.write_label} "
            f"without reading it again: {winner}'s update is lost"
        )
        self._findings.append(
            LostUpdate(
                message=message,
                threads=(loser, winner),
                steps=(c.read, other.step, c.write),
                resource=("sqlite", c.key, table, other.row),
                read_step=c.read,
                other_write_step=other.step,
                write_step=c.write,
                signature=signature,
            )
        )

    def on_finish(self, execution: ExecutionView) -> list[Finding]:
        return self._findings
