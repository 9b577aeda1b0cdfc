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
    _cursor.py         the scheduled cursor (rows buffered per statement)
    _connection.py     the scheduled connection: running a statement as a step
    _patch.py          connect(), the sqlite3.connect patch and the per-execution cleanup
    _template.py       templates: a database built once, copied fresh for every execution

Inside an exploration (and, through the ``sqlite3.connect`` patch, for unmodified code that
calls ``sqlite3.connect``) every statement is a yield point taken *before* the statement runs,
and the statement then runs atomically. What the scheduler sees of a statement comes from
SQLite itself: its read and write sets from the authorizer, the rows it changed from TEMP
triggers. SQLITE_BUSY becomes waiting for the lock's holders, so deadlocks show as lock-wait
cycles, and row-level lost updates are reported with their SQL.

This ``__init__`` imports nothing: the patch registry (``instrument/_patches.py``) loads
``_patch`` and what it needs, ``interleave.sqlite`` the public names.
"""
