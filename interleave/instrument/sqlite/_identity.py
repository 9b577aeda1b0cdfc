"""Database identity: which database a ``connect()`` argument names, and what to call it.

One database reached under several names (a symlink, a hard link, a relative and an absolute
path, a shared-cache memory URI opened twice) is one database, with one set of locks: files are
told apart by device and inode, shared memory databases by name. Two private ``:memory:``
databases are two databases, even under one name.

The identity itself stays inside the process. In resources and reports a database is named by
its file's basename (``bank.db``, a template's name), never by the temporary directory it lives
in or its inode, and two databases that share a basename are numbered in the order the
execution first reached them. Every execution builds the same scenario, so it gets the same
names: schedule-relevant data is the same in every execution and on every machine, and a
schedule ID replays anywhere.
"""

from __future__ import annotations

import os
import urllib.parse

__all__ = ["Where", "file_identity", "locate", "unique_name"]

#: Which database a connection reached: (identity, display name, file path).
#: The identity decides sameness: ("file", st_dev, st_ino) for a file (all its names, symlinks,
#: hard links and relative paths are one database), ("memory", name) for a shared-cache or
#: memdb memory database, None for a private one (``:memory:``, ``""``: its connection's own).
Where = tuple[object | None, str, str | None]


def locate(database: object, uri: bool) -> Where:
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


def file_identity(path: str) -> object:
    """The identity of the database file at ``path`` (as :func:`locate` gives it)."""
    try:
        st = os.stat(path)
    except OSError:
        return ("path", path)
    return ("file", st.st_dev, st.st_ino)


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base#2``, ``base#3`` … whichever is not ``taken`` yet (then taken)."""
    key = base
    n = 1
    while key in taken:
        n += 1
        key = f"{base}#{n}"
    taken.add(key)
    return key
