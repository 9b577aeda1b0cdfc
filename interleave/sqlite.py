"""SQLite under the scheduler: ``connect``, ``template`` and the types they return.

Inside :func:`interleave.explore` every statement of a scheduled connection is a yield point,
SQLITE_BUSY becomes waiting for the lock (deadlocks show as lock-wait cycles), and row-level lost
updates are reported with their SQL. ``sqlite3.connect`` itself is patched while an execution
runs, so unmodified code is explored too. See ``docs/sqlite.md``.

Example::

    import interleave, interleave.sqlite

    BANK = interleave.sqlite.template(
        "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INT);"
        "INSERT INTO accounts VALUES (1, 100);",
        name="bank.db",
    )
"""

from .instrument.sqlite._connection import Connection as Connection
from .instrument.sqlite._cursor import Cursor as Cursor
from .instrument.sqlite._patch import connect as connect
from .instrument.sqlite._template import Template as Template
from .instrument.sqlite._template import template as template

__all__ = ["Connection", "Cursor", "Template", "connect", "template"]


def _fixup_module_metadata() -> None:
    # Public objects report their public module in reprs and tracebacks (as Trio does).
    for name in __all__:
        globals()[name].__module__ = __name__


_fixup_module_metadata()
del _fixup_module_metadata
