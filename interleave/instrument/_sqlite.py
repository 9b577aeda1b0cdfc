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

import _thread
import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import urllib.parse
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Final, Literal

from .._core import _context, _interrupts
from .._core._findings import Finding, Hold, LostUpdate
from .._core._observer import Observer
from .._core._ops import Location, Operation
from .._core._runtime import Runtime
from .._core._threads import SimThread, Wait
from .._core._views import ExecutionView
from ..errors import InvalidArgument
from ._base import sim

__all__ = [
    "Connection",
    "Cursor",
    "SqliteLostUpdates",
    "Template",
    "connect",
    "patch_sqlite",
    "sqlite_execution",
    "template",
]

_original_connect: Final = sqlite3.connect

#: Names of our TEMP triggers and SQL function (filtered out of every read/write set).
_PREFIX: Final = "_interleave_"
_ROW_FUNCTION: Final = "_interleave_row"
#: Key of the per-execution state in ``Runtime.scratch``.
_SCRATCH_KEY: Final = "interleave.sqlite"

# SQLite lock levels, as far as a connection's transaction state tells.
NONE, SHARED, RESERVED, PENDING, EXCLUSIVE = range(5)
LEVEL_NAMES: Final = ("NONE", "SHARED", "RESERVED", "PENDING", "EXCLUSIVE")

_SQLITE_BUSY: Final = 5
_SQLITE_AUTH: Final = 23
_SQLITE_BUSY_SNAPSHOT: Final = 517

# Authorizer action codes that change the schema (CREATE_* / DROP_* / ALTER / REINDEX / ANALYZE /
# virtual tables); the TEMP variants only change the connection's own temp schema.
_DDL_CODES: Final = frozenset({*range(1, 18), 26, 27, 28, 29, 30})
_TEMP_DDL_CODES: Final = frozenset({3, 5, 7, 11, 13, 15})

_BEGIN_MODE = re.compile(r"^\s*BEGIN\s+(DEFERRED|IMMEDIATE|EXCLUSIVE)\b", re.IGNORECASE)


# ---------------------------------------------------------------------------- statement analysis
class _Analysis:
    """What one statement reads and writes, from the authorizer (immutable by convention).

    ``reads`` maps table -> columns read (``""`` for a table read with no column, as in
    ``count(*)``); ``writes`` maps table -> columns updated, or ``None`` for whole rows
    (INSERT / DELETE). ``tx`` is ``begin``, ``begin immediate``, ``begin exclusive``, ``commit``,
    ``rollback``, ``savepoint``, ``release`` or ``rollback to``. ``known`` is False when the
    statement could not be analysed (it is then treated as a write of the whole database).
    """

    __slots__ = ("ddl", "events", "known", "reads", "temp_ddl", "tx", "writes")

    def __init__(
        self,
        reads: dict[str, frozenset[str]],
        writes: dict[str, frozenset[str] | None],
        *,
        events: tuple[tuple[str, str], ...] = (),
        tx: str | None = None,
        ddl: bool = False,
        temp_ddl: bool = False,
        known: bool = True,
    ) -> None:
        self.reads = reads
        self.writes = writes
        self.events = events  # (table, "INSERT" | "UPDATE" | "DELETE") the statement may fire
        self.tx = tx
        self.ddl = ddl
        self.temp_ddl = temp_ddl
        self.known = known

    @property
    def tables(self) -> set[str]:
        return set(self.reads) | set(self.writes)


_UNKNOWN: Final = _Analysis({}, {}, known=False)
_COMMIT: Final = _Analysis({}, {}, tx="commit")
_ROLLBACK: Final = _Analysis({}, {}, tx="rollback")

#: (schema signature, SQL) -> analysis, shared by every connection of the process.
_ANALYSES: dict[tuple[object, str], _Analysis] = {}
_MAX_ANALYSES: Final = 4096
#: Template signature -> the template's image, and a private in-memory copy to analyse on.
_TEMPLATE_IMAGES: dict[object, bytes] = {}
_ANALYSERS: dict[object, sqlite3.Connection] = {}
_ANALYSER_LOCK: Final = _thread.allocate_lock()  # the real lock, even while threading is patched
#: (schema signature, table) -> SQL of a changed row's key (NEW side, OLD side).
_ROW_KEYS: dict[tuple[object, str], tuple[str, str]] = {}


def _analyse(
    log: list[tuple[int, str | None, str | None, str | None, str | None]], sql: str
) -> _Analysis:
    reads: dict[str, set[str]] = {}
    writes: dict[str, set[str] | None] = {}
    events: dict[tuple[str, str], None] = {}
    tx: str | None = None
    ddl = temp_ddl = False
    known = bool(log)
    for code, a1, a2, a3, a4 in log:
        if a4 is not None and a4.startswith(_PREFIX):
            continue  # our own row-logging triggers
        if code == sqlite3.SQLITE_READ:
            if a3 == "temp" or a1 is None:
                continue
            reads.setdefault(a1, set()).add(a2 or "")
        elif code == sqlite3.SQLITE_UPDATE:
            if a3 == "temp" or a1 is None:
                continue
            cols = writes.setdefault(a1, set())
            if cols is not None and a2 is not None:
                cols.add(a2)
            events[(a1, "UPDATE")] = None
        elif code in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_DELETE):
            if a3 == "temp" or a1 is None:
                continue
            writes[a1] = None
            events[(a1, "INSERT" if code == sqlite3.SQLITE_INSERT else "DELETE")] = None
        elif code == sqlite3.SQLITE_TRANSACTION:
            op = (a1 or "").upper()
            if op == "BEGIN":
                match = _BEGIN_MODE.match(sql)
                mode = match.group(1).upper() if match else "DEFERRED"
                tx = "begin" if mode == "DEFERRED" else f"begin {mode.lower()}"
            else:
                tx = op.lower()
        elif code == sqlite3.SQLITE_SAVEPOINT:
            op = (a1 or "").upper()
            tx = {"BEGIN": "savepoint", "RELEASE": "release"}.get(op, "rollback to")
        elif code in _DDL_CODES:
            if code in _TEMP_DDL_CODES or a3 == "temp":
                temp_ddl = True
            else:
                ddl = True
        elif code in (sqlite3.SQLITE_PRAGMA, sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            known = False
    return _Analysis(
        {t: frozenset(c) for t, c in reads.items()},
        {t: (None if c is None else frozenset(c)) for t, c in writes.items()},
        events=tuple(events),
        tx=tx,
        ddl=ddl,
        temp_ddl=temp_ddl,
        known=known,
    )


def _analyser(sig: object) -> sqlite3.Connection | None:
    """A private in-memory copy of the template with signature ``sig`` (made once)."""
    conn = _ANALYSERS.get(sig)
    if conn is None:
        image = _TEMPLATE_IMAGES.get(sig)
        deserialize = getattr(sqlite3.Connection, "deserialize", None)
        if image is None or deserialize is None:
            return None
        # No statement cache: every EXPLAIN compiles, so the authorizer always sees it.
        conn = _original_connect(":memory:", check_same_thread=False, cached_statements=0)
        deserialize(conn, image)
        _ANALYSERS[sig] = conn
    return conn


_Authorization = tuple[int, str | None, str | None, str | None, str | None]


def _explain(
    conn: sqlite3.Connection,
    sql: str,
    params: Any,
    restore: object = None,
    *,
    log: list[_Authorization] | None = None,
) -> list[_Authorization] | None:
    """What the authorizer is asked while ``sql`` compiles on ``conn`` (None: it does not).

    The authorizer is installed for this one ``EXPLAIN`` only (then ``restore``, the user's
    own, is put back): an exception raised inside an sqlite3 callback is swallowed by sqlite3
    (the statement fails with "not authorized"), so the fewer callbacks run, the better. An
    exception raised in ours (a ``KeyboardInterrupt``) is remembered, the statement denied,
    and the exception raised again here, once sqlite3 has returned.
    """
    calls: list[_Authorization] = [] if log is None else log
    raised: list[BaseException] = []

    def authorize(code: int, a1: str | None, a2: str | None, a3: str | None, a4: str | None) -> int:
        try:
            calls.append((code, a1, a2, a3, a4))
        except BaseException as exc:
            raised.append(exc)
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    sqlite3.Connection.set_authorizer(conn, authorize)
    try:
        _raw_execute(conn, "EXPLAIN " + sql, params)
    except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
        if raised:
            raise raised[0] from None
        if getattr(exc, "sqlite_errorcode", None) == _SQLITE_AUTH:
            # Denied, yet our authorizer never denies: it raised before its first line ran
            # (a signal handled on entry), and sqlite3 dropped the exception. Only Ctrl-C
            # arrives that way while a statement compiles.
            raise KeyboardInterrupt from None
        return None  # the statement itself reports the error when it runs
    finally:
        sqlite3.Connection.set_authorizer(conn, restore)  # type: ignore[arg-type]
    if raised:
        raise raised[0]
    return calls


def _label(sql: str, limit: int = 72) -> str:
    """The SQL text on one line, shortened for the step table."""
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _split_script(script: str) -> list[str]:
    """Split an ``executescript`` script into complete statements (trigger bodies kept whole)."""
    statements = []
    start = 0
    for i, ch in enumerate(script):
        if ch == ";" and sqlite3.complete_statement(script[start : i + 1]):
            statements.append(script[start : i + 1].strip())
            start = i + 1
    rest = script[start:].strip()
    if rest:
        statements.append(rest)
    return [s for s in statements if s.strip("; \t\r\n")]


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == _SQLITE_BUSY
    return "database is locked" in str(exc)


# ---------------------------------------------------------------------------- per-execution state
class _Db:
    """One database file as seen by one execution: its key, lock holders and generation.

    ``generation`` grows whenever a connection of this database releases a lock (commit,
    rollback, close); a thread blocked on SQLITE_BUSY waits until it changes, then retries.
    """

    __slots__ = ("conns", "ddl", "generation", "key", "path", "sig", "template_sig")

    def __init__(self, key: str, path: str | None, template_sig: object | None) -> None:
        self.key = key
        self.path = path
        self.generation = 0
        self.conns: list[_ConnState] = []
        self.template_sig = template_sig
        self.sig: object | None = None
        self.ddl = False

    def is_wal(self) -> bool:
        if self.path is None:
            return False
        try:
            with open(self.path, "rb") as f:
                header = f.read(20)
        except OSError:
            return False
        return len(header) == 20 and header[18] == 2


class _Pending:
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


class _ConnState:
    """One connection within one execution: lock level, holder, uncommitted writes."""

    __slots__ = (
        "candidates",
        "conn",
        "db",
        "holder",
        "level",
        "pending",
        "restore_timeout",
        "step",
        "where",
    )

    def __init__(self, conn: Connection, db: _Db) -> None:
        self.conn = conn
        self.db = db
        self.level = NONE
        self.holder: SimThread | None = None
        self.step: int | None = None
        self.where: Location | None = None
        self.pending: list[_Pending] = []
        self.candidates: list[_Candidate] = []
        self.restore_timeout: int | None = None


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
        other: tuple[_Pending, int],
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


class _Execution:
    """Everything the sqlite instrumentation keeps for one execution (in ``rt.scratch``)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.dbs: dict[object, _Db] = {}  # by identity (see _locate)
        self.keys: set[str] = set()
        self.opened: list[Connection] = []
        self.adopted: list[Connection] = []
        self.copies: dict[int, str] = {}
        #: Identity of this execution's template copies -> (template signature, name).
        self.templates: dict[object, tuple[object, str]] = {}
        self._tmpdir: str | None = None
        self.detector = SqliteLostUpdates()

    def tmpdir(self) -> str:
        if self._tmpdir is None:
            self._tmpdir = _mkdtemp()
        return self._tmpdir

    def database(self, where: _Where) -> _Db:
        """The database a connection opened at ``where`` reaches (one per identity).

        Its key, the name in resources and reports, is the template's name for a template
        copy, else the file name (symlinks resolved) or the memory database's name under which
        this execution first reached it, numbered ``#2``, ``#3`` … when two databases share one.
        """
        identity, base, path = where
        db = self.dbs.get(identity) if identity is not None else None
        if db is None:
            template = self.templates.get(identity)
            sig = None
            if template is not None:
                sig, base = template
            key = base
            n = 1
            while key in self.keys:
                n += 1
                key = f"{base}#{n}"
            self.keys.add(key)
            db = _Db(key, path, sig)
            if identity is not None:  # a private database is its connection's alone
                self.dbs[identity] = db
        return db

    def close(self) -> None:
        # Connections opened during the execution are closed (their transactions roll back);
        # connections from outside get their busy timeout back. Then the copies are removed.
        try:
            for conn in reversed(self.opened):
                with contextlib.suppress(sqlite3.Error):
                    sqlite3.Connection.close(conn)
                conn._il_forget()
            for conn in self.adopted:
                state = conn._il_state
                if state is not None and state.restore_timeout is not None:
                    with contextlib.suppress(sqlite3.Error):
                        _raw_execute(conn, f"PRAGMA busy_timeout = {state.restore_timeout}")
                conn._il_forget()
        finally:
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None


_TMP_ROOT: list[str | None] = []


def _mkdtemp() -> str:
    """A new temporary directory, in memory (``/dev/shm``) when the system has one.

    Every execution creates and removes one; on a disk-backed ``/tmp`` that alone can cost
    milliseconds (journal files are created and unlinked at every commit too).
    """
    if not _TMP_ROOT:
        shm = "/dev/shm"
        usable = os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK)
        _TMP_ROOT.append(shm if usable else None)
    # The process id in the name tells whose copies these are (several test runs may share
    # /dev/shm).
    return tempfile.mkdtemp(prefix=f"interleave-sqlite-{os.getpid()}-", dir=_TMP_ROOT[0])


#: Which database a connection reached: (identity, display name, file path).
#: The identity decides sameness: ("file", st_dev, st_ino) for a file (all its names, symlinks,
#: hard links and relative paths are one database), ("memory", name) for a shared-cache or
#: memdb memory database, None for a private one (``:memory:``, ``""``: its connection's own).
#: It stays inside the process: reports and resource keys use the display name only.
_Where = tuple[object | None, str, str | None]


def _locate(database: object, uri: bool) -> _Where:
    """Which database ``database`` (as given to ``connect``) names.

    Called once the connection is open, so that a file the connection created exists.
    """
    if isinstance(database, bytes):
        database = os.fsdecode(database)
    text = os.fspath(database) if isinstance(database, os.PathLike) else str(database)
    if uri and text.startswith("file:"):
        rest, _, query = text[5:].partition("?")
        rest = rest.partition("#")[0]
        query = query.partition("#")[0]
        if rest.startswith("//"):  # file://host/path: the authority is not part of the path
            rest = "/" + rest[2:].partition("/")[2]
        name = urllib.parse.unquote(rest)
        params = dict(urllib.parse.parse_qsl(query))
        if params.get("vfs") == "memdb":
            # memdb: a name starting with "/" is shared by every connection of the process.
            shared = name.startswith("/")
            return (("memory", name) if shared else None), name or ":memory:", None
        if params.get("mode") == "memory" or name in ("", ":memory:"):
            name = name or ":memory:"
            shared = params.get("cache") == "shared"
            return (("memory", name) if shared else None), name, None
        text = name
    if text in ("", ":memory:"):
        return None, text or ":memory:", None
    path = os.path.realpath(text)
    try:
        st = os.stat(path)
    except OSError:
        return ("path", path), os.path.basename(path) or path, path  # only its name to go by
    name = os.path.basename(path)
    if st.st_nlink > 1:
        # Hard links: name the file by the first of its names in this directory, so that
        # opening it under either name first gives the same resource names.
        name = _first_link(os.path.dirname(path), st.st_ino, name)
    return ("file", st.st_dev, st.st_ino), name, path


def _first_link(directory: str, inode: int, name: str) -> str:
    try:
        with os.scandir(directory) as entries:
            names = [e.name for e in entries if e.inode() == inode]
    except OSError:
        return name
    return min(names, default=name)


def _file_identity(path: str) -> object:
    try:
        st = os.stat(path)
    except OSError:
        return ("path", path)
    return ("file", st.st_dev, st.st_ino)


def _execution(rt: Runtime) -> _Execution:
    """The sqlite state of ``rt``'s execution, made on first use (it attaches the SQL-aware
    lost-update detector to the execution)."""
    state = rt.scratch.get(_SCRATCH_KEY)
    if isinstance(state, _Execution):
        return state
    ex = rt.scratch[_SCRATCH_KEY] = _Execution(rt)
    _attach_observer(rt, ex.detector)
    return ex


def _attach_observer(rt: Runtime, observer: Observer) -> None:
    """Add ``observer`` (it overrides only ``on_finish``) to a running execution.

    The core has no hook for this yet (a ``Runtime.add_observer`` is proposed): until it does,
    append to ``observers`` and to the runtime's precomputed ``on_finish`` list, when it keeps
    one.
    """
    add = getattr(rt, "add_observer", None)
    if callable(add):
        add(observer)
        return
    rt.observers = (*rt.observers, observer)
    hooks = getattr(rt, "_on_finish", None)
    if isinstance(hooks, list):
        hooks.append(observer.on_finish)


def _raw_execute(conn: sqlite3.Connection, sql: str, params: Any = ()) -> sqlite3.Cursor:
    """Run ``sql`` on ``conn`` unscheduled, on a plain cursor."""
    return sqlite3.Cursor.execute(sqlite3.Cursor(conn), sql, params)


# ---------------------------------------------------------------------------- lock waits
def _conflicts(requested: int, held: int, wal: bool) -> bool:
    if wal:
        # WAL: readers never block and are never blocked; writers exclude each other.
        return requested >= RESERVED and held >= RESERVED
    if requested == SHARED:
        return held >= PENDING
    if requested == RESERVED:
        return held >= RESERVED
    return held >= SHARED


class _LockWait(Wait):
    """Waiting for a database lock after SQLITE_BUSY: ready when some holder released one."""

    __slots__ = ("db", "generation", "requested", "state", "wal")

    def __init__(self, state: _ConnState, requested: int) -> None:
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


# ---------------------------------------------------------------------------- cursor
_NO_ROWS: Final[list[Any]] = []


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
        conn = self.connection
        rt = sim()
        if rt is None or not isinstance(conn, Connection):
            self._il_rows = None
            super().execute(sql, parameters)
            return self
        conn._il_statement(rt, self, sql, parameters, many=False)
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Cursor:
        """Run one statement for each parameter set: one yield point for all of them."""
        conn = self.connection
        rt = sim()
        if rt is None or not isinstance(conn, Connection):
            self._il_rows = None
            super().executemany(sql, seq_of_parameters)
            return self
        conn._il_statement(rt, self, sql, list(seq_of_parameters), many=True)
        return self

    def executescript(self, sql_script: str, /) -> Cursor:
        """Run a script: inside an exploration each statement is its own yield point."""
        conn = self.connection
        rt = sim()
        if rt is None or not isinstance(conn, Connection):
            self._il_rows = None
            super().executescript(sql_script)
            return self
        conn._il_script(rt, self, sql_script)
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
        self._il_rows = super().fetchall() if self.description is not None else _NO_ROWS
        self._il_pos = 0


_cursor_classes: dict[type, type] = {}


def _cursor_class(factory: type) -> type:
    if issubclass(factory, Cursor):
        return factory
    cls = _cursor_classes.get(factory)
    if cls is None:
        cls = type(f"Interleave{factory.__name__}", (Cursor, factory), {})
        _cursor_classes[factory] = cls
    return cls


# ---------------------------------------------------------------------------- connection
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
        self._il_where = _locate(database, bool(uri))
        self._il_rt: Runtime | None = None
        self._il_state: _ConnState | None = None
        self._il_authorizer: object = None  # the application's own, put back after analyses
        self._il_changes: list[list[object]] = []  # per table number: keys of changed rows
        self._il_tracked: set[tuple[str, str]] = set()
        self._il_numbers: dict[str, int] = {}
        self._il_tables: list[str] = []
        self._il_temp_sig: object | None = None
        self._il_closed = False
        self._il_born: Runtime | None = None
        self._il_settings_pending = False

    # ------------------------------------------------------------------ public API
    def cursor(self, factory: type[sqlite3.Cursor] | None = None) -> Any:  # type: ignore[override]
        """A new :class:`Cursor` (or the given ``sqlite3.Cursor`` subclass, scheduled too)."""
        return super().cursor(Cursor if factory is None else _cursor_class(factory))

    def set_authorizer(self, *args: Any, **kwargs: Any) -> None:
        """As ``sqlite3.Connection.set_authorizer`` (kept across interleave's own analyses)."""
        super().set_authorizer(*args, **kwargs)
        self._il_authorizer = args[0] if args else kwargs.get("authorizer_callback")

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        """Run one statement on a new cursor and return the cursor."""
        if sim() is None:
            return super().execute(sql, parameters)
        return _on_temporary_cursor(self.cursor(), "execute", sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:
        """Run one statement per parameter set on a new cursor and return the cursor."""
        if sim() is None:
            return super().executemany(sql, parameters)
        return _on_temporary_cursor(self.cursor(), "executemany", sql, parameters)

    def executescript(self, sql_script: str, /) -> Any:
        """Run a script on a new cursor (each statement a yield point inside an exploration)."""
        if sim() is None:
            return super().executescript(sql_script)
        return _on_temporary_cursor(self.cursor(), "executescript", sql_script)

    def commit(self) -> None:
        """Commit the open transaction (a yield point; waits while readers block it)."""
        rt = sim()
        if rt is None or self._il_closed or not self.in_transaction:
            super().commit()
            return
        self._il_run(rt, None, "COMMIT", _COMMIT, super().commit)

    def rollback(self) -> None:
        """Roll back the open transaction (a yield point)."""
        rt = sim()
        if rt is None or self._il_closed or not self.in_transaction:
            super().rollback()
            return
        self._il_run(rt, None, "ROLLBACK", _ROLLBACK, super().rollback)

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
            _raw_execute(self, "PRAGMA synchronous = OFF")
            _raw_execute(self, "PRAGMA temp_store = MEMORY")
        except sqlite3.OperationalError:
            self._il_settings_pending = True
        else:
            self._il_settings_pending = False

    def _il_forget(self) -> None:
        self._il_rt = None
        self._il_state = None

    def _il_enter(self, rt: Runtime) -> _ConnState:
        state = self._il_state
        if state is not None and self._il_rt is rt:
            return state
        ex = _execution(rt)
        db = ex.database(self._il_where)
        state = _ConnState(self, db)
        db.conns.append(state)
        self._il_rt, self._il_state = rt, state
        if self._il_born is not rt:
            # Opened before this execution: no busy timeout while it runs; restored after.
            ex.adopted.append(self)
            timeout = _raw_execute(self, "PRAGMA busy_timeout").fetchone()[0]
            if timeout:
                state.restore_timeout = int(timeout)
                _raw_execute(self, "PRAGMA busy_timeout = 0")
        if self.in_transaction:
            # A transaction left open before the execution: assume it may hold a write lock.
            state.level = RESERVED
        return state

    def _il_sig(self, state: _ConnState) -> object:
        db = state.db
        if db.sig is None:
            if db.template_sig is not None and not db.ddl:
                db.sig = db.template_sig
            else:
                rows = _raw_execute(
                    self, "SELECT type, name, tbl_name, sql FROM main.sqlite_schema"
                ).fetchall()
                db.sig = hashlib.sha1(repr(rows).encode()).hexdigest()
        if self._il_temp_sig is None:
            return db.sig
        return (db.sig, self._il_temp_sig)

    def _il_analysis(self, state: _ConnState, sql: str, params: Any) -> _Analysis:
        try:
            sig = self._il_sig(state)
        except sqlite3.Error:
            return _UNKNOWN
        key = (sig, sql)
        analysis = _ANALYSES.get(key)
        if analysis is not None:
            return analysis
        # A template copy whose schema this execution did not change is analysed on a private
        # in-memory copy of the template: it never meets a lock, so the analysis (and the
        # step's resource) does not depend on what the other threads hold.
        analyser = _analyser(sig) if sig == state.db.template_sig else None
        if analyser is not None:
            with _ANALYSER_LOCK:  # shared by explorations running in other OS threads
                log = _explain(analyser, sql, params)
        else:
            log = _explain(self, sql, params, self._il_authorizer)
        if log is None:
            return _UNKNOWN
        analysis = _analyse(log, sql)
        if analysis.known:
            if len(_ANALYSES) >= _MAX_ANALYSES:
                _ANALYSES.clear()
            _ANALYSES[key] = analysis
        return analysis

    def _il_track(self, state: _ConnState, analysis: _Analysis) -> None:
        # TEMP triggers report each changed row's key to _interleave_row_<table number>(key).
        # One trigger per (table, event) the connection's statements fire, made on first use.
        # The SQL function is the C method ``list.append`` of that table's list, not a Python
        # function: an exception raised inside an sqlite3 callback is swallowed by sqlite3 (and
        # a Ctrl-C is raised at the first line of whatever Python function runs next), while a
        # C callback runs no Python code at all.
        for table, event in analysis.events:
            if (table, event) in self._il_tracked or table.startswith("sqlite_"):
                continue
            number = self._il_numbers.get(table)
            if number is None:
                number = len(self._il_tables)
                rows: list[object] = []
                self.create_function(f"{_ROW_FUNCTION}_{number}", 1, rows.append)
                self._il_changes.append(rows)
                self._il_tables.append(table)
                self._il_numbers[table] = number
            function = f"{_ROW_FUNCTION}_{number}"
            quoted = '"' + table.replace('"', '""') + '"'
            try:
                key_new, key_old = self._il_row_key(state, table)
                if event == "INSERT":
                    body = f"SELECT {function}({key_new});"
                elif event == "DELETE":
                    body = f"SELECT {function}({key_old});"
                else:
                    body = (
                        f"SELECT {function}({key_new}); "
                        f"SELECT {function}({key_old}) WHERE {key_old} IS NOT {key_new};"
                    )
                _raw_execute(
                    self,
                    f'CREATE TEMP TRIGGER IF NOT EXISTS "{_PREFIX}{number}_{event[0].lower()}" '
                    f"AFTER {event} ON main.{quoted} BEGIN {body} END",
                )
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    continue  # the schema is locked: try again before the retry
            except sqlite3.Error:
                pass  # a view or virtual table: its rows stay unknown
            self._il_tracked.add((table, event))

    def _il_row_key(self, state: _ConnState, table: str) -> tuple[str, str]:
        """SQL for a changed row's key: ``rowid``, or the primary key of a WITHOUT ROWID table."""
        cache_key = (self._il_sig(state), table)
        cached = _ROW_KEYS.get(cache_key)
        if cached is not None:
            return cached
        without_rowid = False
        literal = "'" + table.replace("'", "''") + "'"  # pragma arguments cannot be bound
        try:
            info = _raw_execute(self, f"PRAGMA main.table_list({literal})").fetchall()
            without_rowid = any(row[4] for row in info if row[1] == table)
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise
            # SQLite before 3.37 has no table_list: assume a rowid table.
        if not without_rowid:
            result = ("NEW.rowid", "OLD.rowid")
        else:
            pk = [
                row[1]
                for row in sorted(
                    _raw_execute(self, f"PRAGMA main.table_info({literal})").fetchall(),
                    key=lambda r: r[5],
                )
                if row[5]
            ]
            cols = ['"' + c.replace('"', '""') + '"' for c in pk]

            def key(side: str) -> str:
                return " || ',' || ".join(f"quote({side}.{c})" for c in cols)

            result = (key("NEW"), key("OLD"))
        if len(_ROW_KEYS) >= _MAX_ANALYSES:
            _ROW_KEYS.clear()
        _ROW_KEYS[cache_key] = result
        return result

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
            cursor._il_rows = _NO_ROWS
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
            for statement in _split_script(script):
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
        fixed: _Analysis | None,
        run: Callable[[], object],
    ) -> None:
        state = self._il_enter(rt)
        db = state.db
        analysis = fixed if fixed is not None else self._il_analysis(state, sql, params)
        label = _label(sql)
        rt.access(self._il_operation(state, analysis, label))
        thread = rt.current
        assert thread is not None
        step = rt.step_index
        while True:
            if fixed is None and not analysis.known:
                analysis = self._il_analysis(state, sql, params)
            if analysis.events:
                self._il_track(state, analysis)
            for rows in self._il_changes:
                rows.clear()
            try:
                run()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    self._il_failed(state, analysis)
                    raise
                requested = self._il_requested(analysis, state)
                if analysis.tx == "commit" and not db.is_wal():
                    state.level = max(state.level, PENDING)
                    self._il_hold(state, thread, step)
                code = getattr(exc, "sqlite_errorcode", _SQLITE_BUSY)
                if code == _SQLITE_BUSY_SNAPSHOT or (
                    state.level >= SHARED and analysis.tx != "commit" and requested > SHARED
                ):
                    # SQLite's own deadlock avoidance: it answers BUSY at once, without
                    # calling any busy handler. The application gets the error, as it would.
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
                        f"wait for {LEVEL_NAMES[requested]} lock, then: {label}",
                    ),
                    _LockWait(state, requested),
                )
                step = rt.step_index
                continue
            except BaseException:
                self._il_failed(state, analysis)
                raise
            break
        if self._il_settings_pending:
            self._il_apply_settings()
        self._il_done(rt, state, analysis, thread, step, label)

    def _il_operation(self, state: _ConnState, analysis: _Analysis, label: str) -> Operation:
        key = state.db.key
        if analysis.tx is not None or analysis.ddl or not analysis.known:
            return Operation("update", ("sqlite", key), label)
        tables = analysis.tables
        if analysis.writes:
            # The first write of a transaction takes the database's write lock: it conflicts
            # with every statement on the database. Later writes conflict per table.
            if state.level >= RESERVED and len(tables) == 1 and self.in_transaction:
                return Operation("update", ("sqlite", key, next(iter(tables))), label)
            return Operation("update", ("sqlite", key), label)
        if len(tables) == 1:
            return Operation("read", ("sqlite", key, next(iter(tables))), label)
        return Operation("read", ("sqlite", key), label)

    def _il_requested(self, analysis: _Analysis, state: _ConnState) -> int:
        tx = analysis.tx
        if tx in ("commit", "begin exclusive"):
            return EXCLUSIVE
        if tx == "begin immediate":
            return RESERVED
        if analysis.writes or analysis.ddl or not analysis.known:
            return RESERVED if self.in_transaction else EXCLUSIVE
        return SHARED

    def _il_hold(self, state: _ConnState, thread: SimThread, step: int) -> None:
        state.holder, state.step, state.where = thread, step, thread.location

    def _il_failed(self, state: _ConnState, analysis: _Analysis) -> None:
        # A statement that failed may have ended the transaction (ON CONFLICT ROLLBACK …).
        if not self._il_closed and not self.in_transaction and state.level > NONE:
            self._il_release(state, commit=False)

    def _il_release(self, state: _ConnState, *, commit: bool) -> None:
        if not commit:
            state.pending.clear()
            state.candidates.clear()
            # TEMP triggers created inside a rolled-back transaction are gone too.
            self._il_tracked.clear()
        if state.level > NONE:
            state.level = NONE
            state.db.generation += 1
        state.holder = None

    def _il_done(
        self,
        rt: Runtime,
        state: _ConnState,
        analysis: _Analysis,
        thread: SimThread,
        step: int,
        label: str,
    ) -> None:
        db = state.db
        if analysis.ddl:
            db.ddl = True
            db.sig = None
        if analysis.temp_ddl:
            self._il_temp_sig = hashlib.sha1(
                repr(
                    _raw_execute(
                        self,
                        "SELECT type, name, tbl_name, sql FROM temp.sqlite_schema "
                        "WHERE name NOT LIKE '\\_interleave\\_%' ESCAPE '\\'",
                    ).fetchall()
                ).encode()
            ).hexdigest()
        detector = self._il_detector(rt)
        for number, rows in enumerate(self._il_changes):
            if not rows:
                continue
            table = self._il_tables[number]
            columns = analysis.writes.get(table) if table in analysis.writes else None
            own_reads = analysis.reads.get(table, frozenset())
            for row in rows:
                pending = _Pending(thread, table, row, columns, step, label)
                detector.check_write(state, pending, own_reads)
                state.pending.append(pending)
            rows.clear()
        if detector is not None and analysis.reads:
            detector.record_reads(thread, db.key, analysis.reads, step, label)
        in_tx = self.in_transaction
        if in_tx:
            needed = NONE
            if analysis.tx == "begin exclusive":
                needed = EXCLUSIVE
            elif analysis.tx == "begin immediate" or analysis.writes or analysis.ddl:
                needed = RESERVED
            elif analysis.reads or not analysis.known:
                needed = SHARED
            if needed > state.level:
                state.level = needed
                self._il_hold(state, thread, step)
        else:
            committed = analysis.tx != "rollback"
            if committed and detector is not None:
                detector.commit(rt, state, step)
            self._il_release(state, commit=committed)

    def _il_detector(self, rt: Runtime) -> SqliteLostUpdates:
        return _execution(rt).detector


def _on_temporary_cursor(cursor: Cursor, method: str, *args: Any) -> Any:
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
    if isinstance(database, Template):
        database = database.path()
    rt = _context.building()
    if rt is not None:
        params["timeout"] = 0.0  # SQLITE_BUSY at once: it becomes a scheduling decision
    conn: Connection = _original_connect(database, factory=cls, **params)
    if rt is not None:
        # Durability is not what an exploration tests, and fsync at every commit would make it
        # a disk benchmark: no syncing, and the TEMP schema (our row-logging triggers) in
        # memory. Locking and visibility are unchanged.
        # (The pragmas load the schema, which needs a SHARED lock another thread may block:
        # then they are applied after the connection's first statement instead.)
        conn._il_apply_settings()
        conn._il_born = rt
        _execution(rt).opened.append(conn)
    return conn


def _patched_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
    # Installed as sqlite3.connect while an execution runs; other OS threads (and code outside
    # the execution) get the real thing.
    if _context.building() is None:
        conn: sqlite3.Connection = _original_connect(database, *args, **kwargs)
        return conn
    return connect(database, *args, **kwargs)


# ---------------------------------------------------------------------------- lost updates
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
        self._visible: dict[tuple[str, str, object], list[tuple[int, _Pending]]] = {}
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

    def check_write(self, state: _ConnState, write: _Pending, own_reads: frozenset[str]) -> None:
        key = state.db.key
        reads = self._reads.get((write.thread.tid, key, write.table))
        if not reads:
            return
        others = list(self._visible.get((key, write.table, write.row), ()))
        # Writes of other threads on the same connection are visible before they commit.
        others.extend(
            (p.step, p)
            for p in state.pending
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
                    state.candidates.append(
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

    def commit(self, rt: Runtime, state: _ConnState, step: int) -> None:
        key = state.db.key
        for pending in state.pending:
            self._visible.setdefault((key, pending.table, pending.row), []).append((step, pending))
        for candidate in state.candidates:
            self._report(rt, candidate, state, step)
        state.pending.clear()
        state.candidates.clear()

    def _report(self, rt: Runtime, c: _Candidate, state: _ConnState, commit: int) -> None:
        other, visible = c.other
        locs = rt.locations
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


# ---------------------------------------------------------------------------- templates
class Template:
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
            _TEMPLATE_IMAGES[("template", self._sig)] = built
            self._image = _with_journal_mode(built, self.journal_mode)
        return self._image

    def _build(self) -> bytes:
        src = _original_connect(":memory:")
        try:
            schema = self.schema
            try:
                if isinstance(schema, str):
                    src.executescript(schema)
                elif isinstance(schema, os.PathLike):
                    disk = _original_connect(os.fspath(schema))
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
            directory = _mkdtemp()
            self._outside.append(directory)
            return _write(directory, self.name, image)
        ex = _execution(rt)
        path = ex.copies.get(id(self))
        if path is None:
            directory = os.path.join(ex.tmpdir(), str(len(ex.copies)))
            os.mkdir(directory)
            path = _write(directory, self.name, image)
            ex.copies[id(self)] = path
            ex.templates[_file_identity(path)] = (("template", self._sig), self.name)
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
        disk = _original_connect(path)
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


# ---------------------------------------------------------------------------- the patch
_installed = 0


class sqlite_execution:
    """Per-execution cleanup of scheduled connections: at the end of the execution, close the
    connections it opened and remove its database copies.

    The state itself (:class:`_Execution`: database registry, SQL-aware lost-update detector) is
    made on first use, so a scenario without SQLite pays only this object.
    """

    __slots__ = ("rt",)

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        ex = self.rt.scratch.get(_SCRATCH_KEY)
        if isinstance(ex, _Execution):
            ex.close()


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
            sqlite3.connect = _original_connect
            sqlite3.dbapi2.connect = _original_connect
