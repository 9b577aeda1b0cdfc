"""SQLite under the scheduler: statements as yield points, SQLite locking as blocking.

The public names are re-exported by :mod:`interleave.sqlite`; this package holds the
implementation, one seam per module. Each imports only the modules above it in this list (a
test in ``tests/quality/test_layering.py`` keeps it so)::

    _raw.py            the real sqlite3, called directly (interleave's own statements)
    _analysis.py       what a statement reads and writes: EXPLAIN under an authorizer, cached
    _rows.py           which rows it changed: TEMP triggers that call a row function
    _identity.py       which database a connect() argument names, and its display name
    _lost_updates.py   the SQL-aware lost-update observer
    _state.py          per-execution state: databases, connections' locks, copies
    _locks.py          SQLite lock levels, what each statement needs, waiting after SQLITE_BUSY

The connection, its cursor, templates and the patch are still in ``instrument/_sqlite.py``.
"""
