"""SQLite under the scheduler: statements as yield points, SQLite locking as blocking.

:func:`connect` returns a :class:`Connection`, a real ``sqlite3.Connection`` subclass. Outside an
exploration it is a plain connection. Inside one (and, through the ``sqlite3.connect`` patch,
for unmodified code that calls ``sqlite3.connect``) every statement is a yield point taken
*before* the statement runs, and the statement then runs atomically::

    thread A: rt.access(op)  ──►  SQLite runs the statement (rows fetched at once)
                                    │ SQLITE_BUSY?
                                    ▼
                       rt.block(wait for the lock) ──► retry when a holder commits,
                                                       rolls back or closes

What the scheduler sees of a statement comes from SQLite itself: before the yield, the
statement is compiled once (``EXPLAIN``) under an authorizer that lists the tables and columns it
reads and the tables it writes (cached per schema and SQL text). After it runs, TEMP triggers
(per connection, created on the first write to a table) report which rows changed, so writes are
row-precise. The SQL-aware lost-update detector (:class:`SqliteLostUpdates`) works from these.

Connections are opened with no busy timeout, so SQLITE_BUSY comes back at once and becomes a
scheduling decision: the thread waits on the database's lock (its holders, with their lock
level, are the edges of the lock-wait graph). Where SQLite itself answers BUSY without waiting (a
transaction that already read upgrading to write while another connection writes: its deadlock
avoidance), the application gets the same ``sqlite3.OperationalError`` it would really get, and
the trace records it as an ``error`` step.

Identity and determinism: one database reached under several names (a symlink, a hard link, a
relative and an absolute path, a shared-cache memory URI opened twice) is one database: files
are told apart by device and inode, shared memory databases by name. In resources and reports a
database is named by its file's basename (``bank.db``, a template's name), never by the temporary
directory it lives in or its inode, so schedule-relevant data is the same in every execution and
on every machine.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Final, Literal

from .._core import _context, _interrupts
from .._core._ops import Operation
from .._core._runtime import Runtime
from .._core._threads import SimThread
from ..errors import InvalidArgument
from ._base import sim
from .sqlite._analysis import (
    COMMIT,
    ROLLBACK,
    UNKNOWN,
    Analysis,
    analyse_statement,
    label,
    remember_template,
    schema_signature,
    split_script,
)
from .sqlite._identity import file_identity, locate
from .sqlite._locks import (
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
from .sqlite._lost_updates import Pending
from .sqlite._raw import SQLITE_BUSY, is_busy, original_connect, raw_execute
from .sqlite._rows import RowTracker
from .sqlite._state import ConnState, Execution, TemplateBase, execution, mkdtemp

__all__ = [
    "NO_ROWS",
    "Connection",
    "Cursor",
    "Template",
    "connect",
    "cursor_class",
    "on_temporary_cursor",
    "patch_sqlite",
    "sqlite_execution",
    "template",
]


#: The rows of a statement that returns none (shared: never modified).
NO_ROWS: Final[list[Any]] = []


class Cursor(sqlite3.Cursor):
    """A ``sqlite3.Cursor`` whose statements are yield points inside an exploration.

    Returned by :meth:`Connection.cursor`. Inside an exploration a statement's rows are fetched
    when it runs (the statement is one atomic step), and ``fetchone``/``fetchmany``/
    ``fetchall``/iteration hand them out; outside, everything is plain ``sqlite3``.

    Example::

        cur = conn.cursor()
        cur.execute("SELECT balance FROM accounts WHERE id = ?", (1,))
        (balance,) = cur.fetchone()
    """

    _il_rows: list[Any] | None = None
    _il_pos = 0

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        """Run one statement (a yield point inside an exploration)."""
        rt = sim()
        run = None if rt is None else getattr(self.connection, "_il_statement", None)
        if run is None:
            self._il_rows = None
            super().execute(sql, parameters)
            return self
        run(rt, self, sql, parameters, many=False)
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Cursor:
        """Run one statement for each parameter set: one yield point for all of them."""
        rt = sim()
        run = None if rt is None else getattr(self.connection, "_il_statement", None)
        if run is None:
            self._il_rows = None
            super().executemany(sql, seq_of_parameters)
            return self
        run(rt, self, sql, list(seq_of_parameters), many=True)
        return self

    def executescript(self, sql_script: str, /) -> Cursor:
        """Run a script: inside an exploration each statement is its own yield point."""
        rt = sim()
        run = None if rt is None else getattr(self.connection, "_il_script", None)
        if run is None:
            self._il_rows = None
            super().executescript(sql_script)
            return self
        run(rt, self, sql_script)
        return self

    def fetchone(self) -> Any:
        """The next row, or None."""
        rows = self._il_rows
        if rows is None:
            return super().fetchone()
        if self._il_pos < len(rows):
            self._il_pos += 1
            return rows[self._il_pos - 1]
        return None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` (default ``arraysize``) next rows."""
        rows = self._il_rows
        if rows is None:
            return super().fetchmany(self.arraysize if size is None else size)
        n = self.arraysize if size is None else size
        chunk = rows[self._il_pos : self._il_pos + max(n, 0)]
        self._il_pos += len(chunk)
        return chunk

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        rows = self._il_rows
        if rows is None:
            return super().fetchall()
        chunk = rows[self._il_pos :]
        self._il_pos = len(rows)
        return chunk

    def __iter__(self) -> Cursor:
        return self

    def __next__(self) -> Any:
        rows = self._il_rows
        if rows is None:
            return super().__next__()
        if self._il_pos < len(rows):
            self._il_pos += 1
            return rows[self._il_pos - 1]
        raise StopIteration

    def close(self) -> None:
        """Close the cursor."""
        self._il_rows = None
        super().close()

    def _il_buffer(self) -> None:
        # Fetch the rows now, inside the statement's step: an unfinished SELECT would otherwise
        # keep a SHARED lock that no step of the schedule took.
        self._il_rows = super().fetchall() if self.description is not None else NO_ROWS
        self._il_pos = 0


_cursor_classes: dict[type, type] = {}


def cursor_class(factory: type) -> type:
    """A scheduled cursor class for ``factory`` (a ``sqlite3.Cursor`` subclass), made once."""
    if issubclass(factory, Cursor):
        return factory
    cls = _cursor_classes.get(factory)
    if cls is None:
        cls = type(f"Interleave{factory.__name__}", (Cursor, factory), {})
        _cursor_classes[factory] = cls
    return cls


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


_connection_classes: dict[type, type] = {}


def _connection_class(factory: type) -> type:
    if issubclass(factory, Connection):
        return factory
    if factory is sqlite3.Connection:
        return Connection
    if not (isinstance(factory, type) and issubclass(factory, sqlite3.Connection)):
        raise InvalidArgument(
            f"factory={factory!r} must be a subclass of sqlite3.Connection (interleave derives "
            "a scheduled class from it)"
        )
    cls = _connection_classes.get(factory)
    if cls is None:
        cls = type(f"Interleave{factory.__name__}", (Connection, factory), {})
        _connection_classes[factory] = cls
    return cls


def connect(
    database: Any,
    timeout: float = 5.0,
    detect_types: int = 0,
    isolation_level: str | None = "",
    check_same_thread: bool = True,
    factory: type[sqlite3.Connection] = sqlite3.Connection,
    cached_statements: int = 128,
    uri: bool = False,
    **kwargs: Any,
) -> Connection:
    """Open a SQLite connection whose statements are yield points inside an exploration.

    Takes the arguments of ``sqlite3.connect`` (and any it gains later, such as Python 3.12's
    ``autocommit``); ``database`` may also be a :class:`Template`: the connection then opens
    this execution's copy of it. Outside an exploration the result
    is a plain ``sqlite3`` connection. Inside one it is opened with no busy timeout: SQLITE_BUSY
    makes the thread wait for the lock's holder (a scheduling decision) instead of sleeping, and
    the connection is closed when the execution ends.

    Returns:
        A :class:`Connection` (a ``sqlite3.Connection`` subclass).

    Example::

        def scenario():
            path = BANK.path()                  # this execution's copy of a template
            def withdraw():
                with contextlib.closing(interleave.sqlite.connect(path)) as conn:
                    sql = "SELECT balance FROM accounts WHERE id = 1"
                    (balance,) = conn.execute(sql).fetchone()
                    conn.execute("UPDATE accounts SET balance = ? WHERE id = 1", (balance - 10,))
                    conn.commit()
            return interleave.Scenario(threads=[withdraw, withdraw])
    """
    params: dict[str, Any] = {
        "timeout": timeout,
        "detect_types": detect_types,
        "isolation_level": isolation_level,
        "check_same_thread": check_same_thread,
        "cached_statements": cached_statements,
        "uri": uri,
        **kwargs,
    }
    cls = _connection_class(factory)
    if isinstance(database, TemplateBase):
        database = database.path()
    rt = _context.building()
    if rt is not None:
        params["timeout"] = 0.0  # SQLITE_BUSY at once: it becomes a scheduling decision
    conn: Connection = original_connect(database, factory=cls, **params)
    if rt is not None:
        # Durability is not what an exploration tests, and fsync at every commit would make it
        # a disk benchmark: no syncing, and the TEMP schema (our row-logging triggers) in
        # memory. Locking and visibility are unchanged.
        # (The pragmas load the schema, which needs a SHARED lock another thread may block:
        # then they are applied after the connection's first statement instead.)
        conn._il_apply_settings()
        conn._il_born = rt
        execution(rt).opened.append(conn._il_close_at_end)
    return conn


def _patched_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
    # Installed as sqlite3.connect while an execution runs; other OS threads (and code outside
    # the execution) get the real thing.
    if _context.building() is None:
        conn: sqlite3.Connection = original_connect(database, *args, **kwargs)
        return conn
    return connect(database, *args, **kwargs)


class sqlite_execution:
    """Per-execution cleanup of scheduled connections: at the end of the execution, close the
    connections it opened and remove its database copies.

    The state itself (``_state.Execution``: database registry, SQL-aware lost-update observer)
    is made on first use, so a scenario without SQLite pays only this object.
    """

    __slots__ = ("rt",)

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        ex = self.rt.peek(Execution)
        if ex is not None:
            ex.close()


# Explorations may run in several OS threads at once: sqlite3.connect is swapped by the first
# execution to enter and restored by the last to leave.
_installed = 0


class patch_sqlite:
    """Per-execution patch: ``sqlite3.connect`` makes scheduled connections (for the code of
    the execution only; other OS threads get the real thing)."""

    __slots__ = ()

    def __init__(self, rt: Runtime) -> None:
        pass

    def __enter__(self) -> None:
        global _installed
        _installed += 1
        if _installed == 1:
            sqlite3.connect = _patched_connect  # type: ignore[assignment]
            sqlite3.dbapi2.connect = _patched_connect  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        global _installed
        _installed -= 1
        if _installed == 0:
            sqlite3.connect = original_connect
            sqlite3.dbapi2.connect = original_connect


class Template(TemplateBase):
    """A database built once and copied fresh for every execution.

    Made by :func:`template`. :meth:`path` returns the current execution's own copy (the same
    path for the whole execution, a new copy for the next one), in a temporary directory that
    is removed when the execution ends. The copy is the built image written to a file: one
    write, no SQL.

    Example::

        BANK = interleave.sqlite.template(
            "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INT);"
            "INSERT INTO accounts VALUES (1, 100), (2, 100);",
            name="bank.db",
        )

        def scenario():
            path = BANK.path()
            ...
    """

    def __init__(
        self,
        schema: str | Callable[[sqlite3.Connection], object] | os.PathLike[str],
        *,
        name: str = "db.sqlite3",
        journal_mode: str | None = None,
    ) -> None:
        if not (isinstance(schema, str | os.PathLike) or callable(schema)):
            raise InvalidArgument(
                f"template(schema={schema!r}) must be SQL text, a callable that receives a "
                "sqlite3.Connection, or the path of a database file (os.PathLike)"
            )
        if not isinstance(name, str) or not name or os.sep in name or "/" in name:
            raise InvalidArgument(
                f"template name={name!r} must be a plain file name such as 'app.db' "
                "(it keys the database in reports)"
            )
        if journal_mode is not None and (
            not isinstance(journal_mode, str) or journal_mode.lower() not in ("wal", "delete")
        ):
            raise InvalidArgument(f"journal_mode={journal_mode!r} must be None, 'wal' or 'delete'")
        self.schema = schema
        self.name = name
        self.journal_mode = None if journal_mode is None else journal_mode.lower()
        self._image: bytes | None = None
        self._sig: str | None = None
        self._outside: list[str] = []
        self._finalizer = weakref.finalize(self, _remove_dirs, self._outside)

    def __repr__(self) -> str:
        return f"<interleave.sqlite.Template {self.name!r}>"

    @property
    def image(self) -> bytes:
        """The built database file, as bytes (built on first use)."""
        if self._image is None:
            built = self._build()
            self._sig = hashlib.sha1(built).hexdigest()
            remember_template(("template", self._sig), built)
            self._image = _with_journal_mode(built, self.journal_mode)
        return self._image

    def _build(self) -> bytes:
        src = original_connect(":memory:")
        try:
            schema = self.schema
            try:
                if isinstance(schema, str):
                    src.executescript(schema)
                elif isinstance(schema, os.PathLike):
                    disk = original_connect(os.fspath(schema))
                    try:
                        disk.backup(src)
                    finally:
                        disk.close()
                else:
                    schema(src)
                    src.commit()
            except sqlite3.Error as exc:
                raise InvalidArgument(
                    f"building the template database {self.name!r} failed: "
                    f"{type(exc).__name__}: {exc}; fix the schema SQL (or callable)"
                ) from exc
            return _serialize(src)
        finally:
            src.close()

    def path(self) -> str:
        """This execution's copy of the database (outside an execution: a new copy per call,
        removed by :meth:`close` or at exit)."""
        image = self.image
        rt = _context.building()
        if rt is None:
            directory = mkdtemp()
            self._outside.append(directory)
            return _write(directory, self.name, image)
        ex = execution(rt)
        path = ex.copies.get(id(self))
        if path is None:
            directory = os.path.join(ex.tmpdir(), str(len(ex.copies)))
            os.mkdir(directory)
            path = _write(directory, self.name, image)
            ex.copies[id(self)] = path
            ex.templates[file_identity(path)] = (("template", self._sig), self.name)
        return path

    def connect(self, **kwargs: Any) -> Connection:
        """:func:`connect` to this execution's copy."""
        return connect(self.path(), **kwargs)

    def close(self) -> None:
        """Remove the copies made outside executions."""
        _remove_dirs(self._outside)

    def __enter__(self) -> Template:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _with_journal_mode(image: bytes, journal_mode: str | None) -> bytes:
    # Bytes 18 and 19 of the header are the file format versions: 2 means WAL.
    if journal_mode is None or len(image) < 20:
        return image
    version = 2 if journal_mode == "wal" else 1
    return image[:18] + bytes((version, version)) + image[20:]


def _write(directory: str, name: str, image: bytes) -> str:
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(image)
    return path


def _remove_dirs(dirs: list[str]) -> None:
    while dirs:
        shutil.rmtree(dirs.pop(), ignore_errors=True)


def _serialize(conn: sqlite3.Connection) -> bytes:
    serialize = getattr(conn, "serialize", None)
    if serialize is not None:
        return bytes(serialize())
    # SQLite built without serialize: go through a temporary file and the backup API.
    with tempfile.TemporaryDirectory(prefix="interleave-sqlite-") as directory:
        path = os.path.join(directory, "image.db")
        disk = original_connect(path)
        try:
            conn.backup(disk)
        finally:
            disk.close()
        with open(path, "rb") as f:
            return f.read()


def template(
    schema: str | Callable[[sqlite3.Connection], object] | os.PathLike[str],
    *,
    name: str = "db.sqlite3",
    journal_mode: str | None = None,
) -> Template:
    """Build a database once; hand every execution its own fresh copy.

    Args:
        schema: SQL text (run with ``executescript``), a callable that receives an in-memory
            ``sqlite3.Connection`` and fills it, or the path of an existing database file.
        name: the copy's file name; it names the database in reports and resource keys.
        journal_mode: ``"wal"`` to run the copies in WAL mode (``None``: as built).

    Returns:
        A :class:`Template`; call :meth:`Template.path` in the scenario factory.

    Example::

        BANK = interleave.sqlite.template(
            "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INT);"
            "INSERT INTO accounts VALUES (1, 100);",
            name="bank.db",
        )
        path = BANK.path()   # in the factory: this execution's copy
    """
    return Template(schema, name=name, journal_mode=journal_mode)
