"""Per-execution state: the databases an execution reached, its connections and its copies.

Everything here lives as long as one execution: ``rt.slot(Execution)`` makes it on the
execution's first SQLite call (so a scenario without SQLite pays nothing), and the cleanup
patch (``_patch.sqlite_execution``) ends it: connections opened during the execution are
closed, connections adopted from outside get their busy timeout back, template copies are
removed. A connection keeps its own :class:`ConnState` per execution, replaced when it is first
used in the next one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

from ..._core._ops import Location
from ..._core._runtime import Runtime
from ..._core._threads import SimThread
from ._identity import Where, unique_name
from ._lost_updates import SqliteLostUpdates, Transaction

__all__ = ["ConnState", "Db", "Execution", "TemplateBase", "execution", "mkdtemp"]


class Db:
    """One database as seen by one execution: its key, lock holders and generation.

    ``generation`` grows whenever a connection of this database releases a lock (commit,
    rollback, close); a thread blocked on SQLITE_BUSY waits until it changes, then retries.
    ``sig`` is the signature of its schema analyses are cached under (None: not computed since
    the last schema change), ``template_sig`` the template's when it is a template copy.
    """

    __slots__ = ("conns", "ddl", "generation", "key", "path", "sig", "template_sig")

    def __init__(self, key: str, path: str | None, template_sig: object | None) -> None:
        self.key = key
        self.path = path
        self.generation = 0
        self.conns: list[ConnState] = []
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


class ConnState:
    """One connection within one execution: lock level and holder, open transaction.

    ``level`` is the SQLite lock level (``_locks.py``) its transaction holds, ``holder`` the
    thread that took it, at ``step`` and ``where``. ``restore_timeout`` is the busy timeout
    of a connection opened before the execution, put back when the execution ends.
    """

    __slots__ = ("db", "holder", "level", "restore_timeout", "step", "tx", "where")

    def __init__(self, db: Db, level: int) -> None:
        self.db = db
        self.level = level
        self.holder: SimThread | None = None
        self.step: int | None = None
        self.where: Location | None = None
        self.tx = Transaction()
        self.restore_timeout: int | None = None


class TemplateBase:
    """What ``connect()`` needs of a template: the path of this execution's copy.

    ``_template.Template`` derives from it. It is here, below both, so that ``connect()`` can
    tell a template from a path without importing the template module, whose
    ``Template.connect`` calls ``connect()``.
    """

    __slots__ = ()

    def path(self) -> str:
        raise NotImplementedError


class Execution:
    """Everything the SQLite instrumentation keeps for one execution (``rt.slot(Execution)``)."""

    def __init__(self) -> None:
        self.dbs: dict[object, Db] = {}  # by identity (see _identity.locate)
        self.keys: set[str] = set()
        # How to close each connection this execution opened, and how to hand back each one it
        # adopted from outside: the connection module knows how (it imports this one).
        self.opened: list[Callable[[], None]] = []
        self.adopted: list[Callable[[], None]] = []
        self.copies: dict[int, str] = {}
        #: Identity of this execution's template copies -> (template signature, name).
        self.templates: dict[object, tuple[object, str]] = {}
        self._tmpdir: str | None = None
        self.detector = SqliteLostUpdates()

    def tmpdir(self) -> str:
        if self._tmpdir is None:
            self._tmpdir = mkdtemp()
        return self._tmpdir

    def database(self, where: Where) -> Db:
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
            db = Db(unique_name(base, self.keys), path, sig)
            if identity is not None:  # a private database is its connection's alone
                self.dbs[identity] = db
        return db

    def close(self) -> None:
        # Connections opened during the execution are closed (their transactions roll back);
        # connections from outside get their busy timeout back. Then the copies are removed.
        try:
            for close in reversed(self.opened):
                close()
            for hand_back in self.adopted:
                hand_back()
        finally:
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None


def execution(rt: Runtime) -> Execution:
    """The SQLite state of ``rt``'s execution, made on first use (it attaches the SQL-aware
    lost-update observer to the execution)."""
    ex = rt.peek(Execution)
    if ex is None:
        ex = rt.slot(Execution)
        rt.add_observer(ex.detector)
    return ex


_TMP_ROOT: list[str | None] = []


def mkdtemp() -> str:
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
