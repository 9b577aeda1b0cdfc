"""The scheduled connection: every statement a yield point, SQLITE_BUSY a wait for the lock.

A statement of a scheduled connection, inside an exploration, goes::

    thread A: rt.access(op)  ──►  SQLite runs the statement (rows fetched at once)
                                    │ SQLITE_BUSY?
                                    ▼
                       rt.block(wait for the lock) ──► retry when a holder commits,
                                                       rolls back or closes

The yield point comes *before* the statement, and the statement then runs atomically. What the
step says about the statement (its resource, read or update) comes from its analysis
(``_analysis.py``); afterwards the rows it changed (``_rows.py``) and the columns it read go to
the SQL-aware lost-update observer (``_lost_updates.py``), and the lock level the transaction
now holds is recorded (``_locks.py``). Outside an exploration every method is plain ``sqlite3``.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Literal

from ..._core import _interrupts
from ..._core._ops import Operation
from ..._core._runtime import Runtime
from ..._core._threads import SimThread
from .._base import sim
from ._analysis import (
    COMMIT,
    ROLLBACK,
    UNKNOWN,
    Analysis,
    analyse_statement,
    label,
    schema_signature,
    split_script,
)
from ._cursor import NO_ROWS, Cursor, cursor_class
from ._identity import locate
from ._locks import (
    LEVEL_NAMES,
    NONE,
    PENDING,
    RESERVED,
    LockWait,
    held_level,
    requested_level,
    sqlite_refuses_to_wait,
    statement_operation,
)
from ._lost_updates import Pending
from ._raw import SQLITE_BUSY, is_busy, raw_execute
from ._rows import RowTracker
from ._state import ConnState, execution

__all__ = ["Connection", "on_temporary_cursor"]


class Connection(sqlite3.Connection):
    """A ``sqlite3.Connection`` whose statements are yield points inside an exploration.

    Made by :func:`interleave.sqlite.connect` (and by ``sqlite3.connect`` while an exploration
    runs). Outside an exploration it is a plain ``sqlite3`` connection. Inside one, every
    statement (``execute``, ``executemany``, each statement of ``executescript``, ``commit``,
    ``rollback``, ``close`` of an open transaction) is a yield point before it runs, and
    SQLITE_BUSY makes the thread wait for the lock instead of failing.

    Example::

        conn = interleave.sqlite.connect(path)
        with conn:
            conn.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1")
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        database = args[0] if args else kwargs.get("database", "")
        uri = kwargs.get("uri", args[7] if len(args) > 7 else False)  # sqlite3.connect's order
        self._il_where = locate(database, bool(uri))
        self._il_rt: Runtime | None = None
        self._il_state: ConnState | None = None
        self._il_authorizer: object = None  # the application's own, put back after analyses
        self._il_tracker = RowTracker()
        self._il_temp_sig: object | None = None
        self._il_closed = False
        self._il_born: Runtime | None = None
        self._il_settings_pending = False

    # ------------------------------------------------------------------ public API
    def cursor(self, factory: type[sqlite3.Cursor] | None = None) -> Any:  # type: ignore[override]
        """A new :class:`Cursor` (or the given ``sqlite3.Cursor`` subclass, scheduled too)."""
        return super().cursor(Cursor if factory is None else cursor_class(factory))

    def set_authorizer(self, *args: Any, **kwargs: Any) -> None:
        """As ``sqlite3.Connection.set_authorizer`` (kept across interleave's own analyses)."""
        super().set_authorizer(*args, **kwargs)
        self._il_authorizer = args[0] if args else kwargs.get("authorizer_callback")

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        """Run one statement on a new cursor and return the cursor."""
        if sim() is None:
            return super().execute(sql, parameters)
        return on_temporary_cursor(self.cursor(), "execute", sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:
        """Run one statement per parameter set on a new cursor and return the cursor."""
        if sim() is None:
            return super().executemany(sql, parameters)
        return on_temporary_cursor(self.cursor(), "executemany", sql, parameters)

    def executescript(self, sql_script: str, /) -> Any:
        """Run a script on a new cursor (each statement a yield point inside an exploration)."""
        if sim() is None:
            return super().executescript(sql_script)
        return on_temporary_cursor(self.cursor(), "executescript", sql_script)

    def commit(self) -> None:
        """Commit the open transaction (a yield point; waits while readers block it)."""
        rt = sim()
        if rt is None or self._il_closed or not self.in_transaction:
            super().commit()
            return
        self._il_run(rt, None, "COMMIT", COMMIT, super().commit)

    def rollback(self) -> None:
        """Roll back the open transaction (a yield point)."""
        rt = sim()
        if rt is None or self._il_closed or not self.in_transaction:
            super().rollback()
            return
        self._il_run(rt, None, "ROLLBACK", ROLLBACK, super().rollback)

    def close(self) -> None:
        """Close the connection; an open transaction rolls back and its locks are released."""
        rt = sim()
        if self._il_closed:
            return
        if rt is not None and self.in_transaction:
            entered = self._il_enter(rt)
            rt.access(Operation("update", ("sqlite", entered.db.key), "close (rolls back)"))
        super().close()
        self._il_closed = True
        state = self._il_state
        if state is not None and self._il_rt is not None:
            self._il_release(state, commit=False)
            with contextlib.suppress(ValueError):
                state.db.conns.remove(state)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if sim() is None:
            return super().__exit__(exc_type, exc, tb)
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.rollback()
                raise
        else:
            self.rollback()
        return False

    # ------------------------------------------------------------------ per-execution state
    def _il_apply_settings(self) -> None:
        try:
            raw_execute(self, "PRAGMA synchronous = OFF")
            raw_execute(self, "PRAGMA temp_store = MEMORY")
        except sqlite3.OperationalError:
            self._il_settings_pending = True
        else:
            self._il_settings_pending = False

    def _il_forget(self) -> None:
        self._il_rt = None
        self._il_state = None

    def _il_close_at_end(self) -> None:
        # Opened during the execution that is ending: closed (an open transaction rolls back).
        with contextlib.suppress(sqlite3.Error):
            sqlite3.Connection.close(self)
        self._il_forget()

    def _il_hand_back(self) -> None:
        # Opened before the execution that is ending: its busy timeout back, as it was.
        state = self._il_state
        if state is not None and state.restore_timeout is not None:
            with contextlib.suppress(sqlite3.Error):
                raw_execute(self, f"PRAGMA busy_timeout = {state.restore_timeout}")
        self._il_forget()

    def _il_enter(self, rt: Runtime) -> ConnState:
        state = self._il_state
        if state is not None and self._il_rt is rt:
            return state
        ex = execution(rt)
        db = ex.database(self._il_where)
        # A transaction left open before the execution: assume it may hold a write lock.
        state = ConnState(db, RESERVED if self.in_transaction else NONE)
        db.conns.append(state)
        self._il_rt, self._il_state = rt, state
        if self._il_born is not rt:
            # Opened before this execution: no busy timeout while it runs; restored after.
            ex.adopted.append(self._il_hand_back)
            timeout = raw_execute(self, "PRAGMA busy_timeout").fetchone()[0]
            if timeout:
                state.restore_timeout = int(timeout)
                raw_execute(self, "PRAGMA busy_timeout = 0")
        return state

    def _il_sig(self, state: ConnState) -> object:
        """The schema signature analyses of this connection's statements are cached under."""
        db = state.db
        if db.sig is None:
            if db.template_sig is not None and not db.ddl:
                db.sig = db.template_sig
            else:
                db.sig = schema_signature(self, "main")
        if self._il_temp_sig is None:
            return db.sig
        return (db.sig, self._il_temp_sig)

    def _il_analysis(self, state: ConnState, sql: str, params: Any) -> Analysis:
        try:
            sig = self._il_sig(state)
        except sqlite3.Error:
            return UNKNOWN
        return analyse_statement(
            self,
            sig,
            sql,
            params,
            template_sig=state.db.template_sig,
            authorizer=self._il_authorizer,
        )

    # ------------------------------------------------------------------ running statements
    def _il_statement(
        self, rt: Runtime, cursor: Cursor, sql: str, params: Any, *, many: bool
    ) -> None:
        if self._il_closed:
            # Let sqlite3 raise its own ProgrammingError.
            sqlite3.Cursor.execute(cursor, sql, params)
            return
        if not isinstance(sql, str):
            raise TypeError(f"execute() argument 1 must be str, not {type(sql).__name__}")
        sample = (params[0] if params else ()) if many else params
        if many and not params:
            cursor._il_rows = NO_ROWS
            sqlite3.Cursor.executemany(cursor, sql, params)
            return
        base_execute = sqlite3.Cursor.executemany if many else sqlite3.Cursor.execute

        def run() -> None:
            base_execute(cursor, sql, params)
            cursor._il_buffer()

        self._il_run(rt, sample, sql, None, run)

    def _il_script(self, rt: Runtime, cursor: Cursor, script: str) -> None:
        if not isinstance(script, str):
            raise TypeError(f"script argument must be str, not {type(script).__name__}")
        if self.in_transaction:
            self.commit()  # as sqlite3 does before a script
        saved = self.isolation_level
        self.isolation_level = None  # scripts run their statements as written
        try:
            for statement in split_script(script):
                self._il_statement(rt, cursor, statement, (), many=False)
        finally:
            self.isolation_level = saved

    # While a statement runs, sqlite3 may call the application's own Python callbacks (SQL
    # functions, collations) and swallows their exceptions: Ctrl-C waits for the next step.
    @_interrupts.hold_below
    def _il_run(
        self,
        rt: Runtime,
        params: Any,
        sql: str,
        fixed: Analysis | None,
        run: Callable[[], object],
    ) -> None:
        state = self._il_enter(rt)
        db = state.db
        analysis = fixed if fixed is not None else self._il_analysis(state, sql, params)
        text = label(sql)
        rt.access(statement_operation(state, analysis, text, self.in_transaction))
        thread = rt.current
        assert thread is not None
        step = rt.step_index
        tracker = self._il_tracker
        while True:
            if fixed is None and not analysis.known:
                analysis = self._il_analysis(state, sql, params)
            if analysis.events:
                tracker.track(self, analysis, functools.partial(self._il_sig, state))
            for rows in tracker.changes:
                rows.clear()
            try:
                run()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    self._il_failed(state)
                    raise
                requested = requested_level(analysis, self.in_transaction)
                if analysis.tx == "commit" and not db.is_wal():
                    state.level = max(state.level, PENDING)
                    self._il_hold(state, thread, step)
                code = getattr(exc, "sqlite_errorcode", SQLITE_BUSY)
                if sqlite_refuses_to_wait(code, state.level, analysis, requested):
                    # The application gets the error, as it would.
                    rt.access(
                        Operation(
                            "error",
                            ("sqlite", db.key),
                            f"OperationalError: {exc} (SQLite does not wait here)",
                        )
                    )
                    raise
                rt.block(
                    Operation(
                        "acquire",
                        ("sqlite", db.key),
                        f"wait for {LEVEL_NAMES[requested]} lock, then: {text}",
                    ),
                    LockWait(state, requested),
                )
                step = rt.step_index
                continue
            except BaseException:
                self._il_failed(state)
                raise
            break
        if self._il_settings_pending:
            self._il_apply_settings()
        self._il_done(rt, state, analysis, thread, step, text)

    def _il_hold(self, state: ConnState, thread: SimThread, step: int) -> None:
        state.holder, state.step, state.where = thread, step, thread.location

    def _il_failed(self, state: ConnState) -> None:
        # A statement that failed may have ended the transaction (ON CONFLICT ROLLBACK …).
        if not self._il_closed and not self.in_transaction and state.level > NONE:
            self._il_release(state, commit=False)

    def _il_release(self, state: ConnState, *, commit: bool) -> None:
        if not commit:
            state.tx.clear()
            self._il_tracker.forget_triggers()
        if state.level > NONE:
            state.level = NONE
            state.db.generation += 1
        state.holder = None

    def _il_done(
        self,
        rt: Runtime,
        state: ConnState,
        analysis: Analysis,
        thread: SimThread,
        step: int,
        text: str,
    ) -> None:
        db = state.db
        if analysis.ddl:
            db.ddl = True
            db.sig = None
        if analysis.temp_ddl:
            self._il_temp_sig = schema_signature(self, "temp")
        detector = execution(rt).detector
        tracker = self._il_tracker
        for number, rows in enumerate(tracker.changes):
            if not rows:
                continue
            table = tracker.tables[number]
            columns = analysis.writes.get(table) if table in analysis.writes else None
            own_reads = analysis.reads.get(table, frozenset())
            for row in rows:
                pending = Pending(thread, table, row, columns, step, text)
                detector.check_write(db.key, state.tx, pending, own_reads)
                state.tx.pending.append(pending)
            rows.clear()
        if analysis.reads:
            detector.record_reads(thread, db.key, analysis.reads, step, text)
        if self.in_transaction:
            needed = held_level(analysis)
            if needed > state.level:
                state.level = needed
                self._il_hold(state, thread, step)
        else:
            committed = analysis.tx != "rollback"
            if committed:
                detector.commit(rt, db.key, state.tx, step)
            self._il_release(state, commit=committed)


def on_temporary_cursor(cursor: Cursor, method: str, *args: Any) -> Any:
    """``cursor.method(*args)``; the cursor is closed at once if the statement fails."""
    # sqlite3's own Connection.execute drops its cursor at once, also when the statement
    # fails. A failed statement kept alive by a cursor (here: by the traceback's frames) would
    # keep a closed connection open as a zombie that still holds its locks.
    try:
        return getattr(cursor, method)(*args)
    except BaseException:
        cursor.close()
        raise
