"""Templates: a database built once, copied fresh for every execution.

Each execution must start from the same database, or its schedules would not replay. A
template builds its database once (SQL, a callable, or an existing file), keeps the built file
as bytes, and writes them to a new file per execution, in the execution's temporary directory:
one write, no SQL. The copy is named after the template (``bank.db``), so reports and resource
keys are the same in every execution; its schema is the template's, so statement analyses are
shared by all copies and made on a private in-memory copy (``_analysis.py``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Callable
from typing import Any

from ..._core import _context
from ...errors import InvalidArgument
from ._analysis import remember_template
from ._connection import Connection
from ._identity import file_identity
from ._patch import connect
from ._raw import original_connect
from ._state import TemplateBase, execution, mkdtemp

__all__ = ["Template", "template"]


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
