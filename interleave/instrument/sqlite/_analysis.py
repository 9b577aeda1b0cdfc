"""Statement analysis: what one SQL statement reads, writes and does to the transaction.

Before a statement's yield point, interleave asks SQLite itself: the statement is compiled once
(``EXPLAIN``, never run) under an authorizer that lists every table and column it reads, every
table it inserts into, updates or deletes from, and its transaction control. The answer is an
:class:`Analysis`, cached per (schema signature, SQL text) for the whole process: the same
statement on the same schema is analysed once, whichever connection, thread or execution runs it.

Where a database is a template copy whose schema the execution did not change, the statement
is compiled on a private in-memory copy of the template instead of the application's own
connection: it meets no lock there, so the analysis (and with it the step's resource) never
depends on what the other threads hold.
"""

from __future__ import annotations

import _thread
import hashlib
import re
import sqlite3
from typing import Any, Final, Literal

from ._raw import SQLITE_AUTH, original_connect, raw_execute

__all__ = [
    "COMMIT",
    "MAX_CACHED",
    "OWN_PREFIX",
    "ROLLBACK",
    "UNKNOWN",
    "Analysis",
    "analyse_statement",
    "label",
    "remember_template",
    "schema_signature",
    "split_script",
]

#: Names of interleave's own objects in an application's database (row tracking's TEMP
#: triggers and SQL functions, ``_rows.py``): left out of every read and write set.
OWN_PREFIX: Final = "_interleave_"

# Authorizer action codes that change the schema (CREATE_* / DROP_* / ALTER / REINDEX / ANALYZE /
# virtual tables); the TEMP variants only change the connection's own temp schema.
_DDL_CODES: Final = frozenset({*range(1, 18), 26, 27, 28, 29, 30})
_TEMP_DDL_CODES: Final = frozenset({3, 5, 7, 11, 13, 15})

_BEGIN_MODE = re.compile(r"^\s*BEGIN\s+(DEFERRED|IMMEDIATE|EXCLUSIVE)\b", re.IGNORECASE)


class Analysis:
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


UNKNOWN: Final = Analysis({}, {}, known=False)
COMMIT: Final = Analysis({}, {}, tx="commit")
ROLLBACK: Final = Analysis({}, {}, tx="rollback")

#: (schema signature, SQL) -> analysis, shared by every connection of the process.
_ANALYSES: dict[tuple[object, str], Analysis] = {}
#: Entries a process-wide cache keeps before it starts again (analyses, row keys).
MAX_CACHED: Final = 4096
#: Template signature -> the template's image, and a private in-memory copy to analyse on.
_TEMPLATE_IMAGES: dict[object, bytes] = {}
_ANALYSERS: dict[object, sqlite3.Connection] = {}
_ANALYSER_LOCK: Final = _thread.allocate_lock()  # the real lock, even while threading is patched

_Authorization = tuple[int, str | None, str | None, str | None, str | None]


def analyse_statement(
    conn: sqlite3.Connection,
    sig: object,
    sql: str,
    params: Any,
    *,
    template_sig: object | None,
    authorizer: object,
) -> Analysis:
    """The analysis of ``sql`` on ``conn``, whose schema has signature ``sig`` (cached).

    ``template_sig`` is the signature of the template ``conn``'s database is a copy of (None:
    not a copy); ``authorizer`` the application's own, put back after the ``EXPLAIN``.
    """
    key = (sig, sql)
    analysis = _ANALYSES.get(key)
    if analysis is not None:
        return analysis
    analyser = _analyser(sig) if sig == template_sig else None
    if analyser is not None:
        with _ANALYSER_LOCK:  # shared by explorations running in other OS threads
            log = _explain(analyser, sql, params)
    else:
        log = _explain(conn, sql, params, authorizer)
    if log is None:
        return UNKNOWN
    analysis = _analyse(log, sql)
    if analysis.known:
        if len(_ANALYSES) >= MAX_CACHED:
            _ANALYSES.clear()
        _ANALYSES[key] = analysis
    return analysis


def _analyse(log: list[_Authorization], sql: str) -> Analysis:
    reads: dict[str, set[str]] = {}
    writes: dict[str, set[str] | None] = {}
    events: dict[tuple[str, str], None] = {}
    tx: str | None = None
    ddl = temp_ddl = False
    known = bool(log)
    for code, a1, a2, a3, a4 in log:
        if a4 is not None and a4.startswith(OWN_PREFIX):
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
    return Analysis(
        {t: frozenset(c) for t, c in reads.items()},
        {t: (None if c is None else frozenset(c)) for t, c in writes.items()},
        events=tuple(events),
        tx=tx,
        ddl=ddl,
        temp_ddl=temp_ddl,
        known=known,
    )


def remember_template(sig: object, image: bytes) -> None:
    """Keep a template's built image: statements on its copies are analysed on it."""
    _TEMPLATE_IMAGES[sig] = image


def _analyser(sig: object) -> sqlite3.Connection | None:
    """A private in-memory copy of the template with signature ``sig`` (made once)."""
    conn = _ANALYSERS.get(sig)
    if conn is None:
        image = _TEMPLATE_IMAGES.get(sig)
        deserialize = getattr(sqlite3.Connection, "deserialize", None)
        if image is None or deserialize is None:
            return None
        # No statement cache: every EXPLAIN compiles, so the authorizer always sees it.
        conn = original_connect(":memory:", check_same_thread=False, cached_statements=0)
        deserialize(conn, image)
        _ANALYSERS[sig] = conn
    return conn


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
        raw_execute(conn, "EXPLAIN " + sql, params)
    except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
        if raised:
            raise raised[0] from None
        if getattr(exc, "sqlite_errorcode", None) == SQLITE_AUTH:
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


#: The schema of a database, and of a connection's TEMP schema without our own triggers.
_SCHEMA_SQL: Final = {
    "main": "SELECT type, name, tbl_name, sql FROM main.sqlite_schema",
    "temp": "SELECT type, name, tbl_name, sql FROM temp.sqlite_schema "
    "WHERE name NOT LIKE '" + OWN_PREFIX.replace("_", "\\_") + "%' ESCAPE '\\'",
}


def schema_signature(conn: sqlite3.Connection, schema: Literal["main", "temp"]) -> str:
    """A digest of ``conn``'s ``main`` (or TEMP) schema: analyses are cached under it."""
    rows = raw_execute(conn, _SCHEMA_SQL[schema]).fetchall()
    return hashlib.sha1(repr(rows).encode()).hexdigest()


def label(sql: str, limit: int = 72) -> str:
    """The SQL text on one line, shortened for the step table."""
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_script(script: str) -> list[str]:
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
