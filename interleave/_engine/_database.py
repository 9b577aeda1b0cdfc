"""Schedule databases: failing schedule IDs kept between runs, replayed first next time.

An exploration given a database (``explore(..., database=...)``) first replays the IDs saved
under its key (the *reuse* phase): a saved failure that still fails is reported at once,
without exploring again; one that no longer fails (fixed) or no longer replays (the scenario
changed) is deleted. The failures an exploration finds are saved. The command line keeps a
directory database in ``.interleave/``; the pytest plugin keeps one in pytest's cache.

Writers never read-modify-write a shared record: every entry is a file of its own, written
atomically, so concurrent writers (pytest-xdist workers, several command lines) lose nothing.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path

__all__ = ["DirectoryDatabase", "InMemoryDatabase", "ScheduleDatabase"]


class ScheduleDatabase(abc.ABC):
    """Failing schedule IDs by key (a scenario, or a pytest test and its scenario).

    Subclass it for another store; ``fetch`` must return the IDs in a deterministic order.

    Example::

        db = interleave.DirectoryDatabase(".interleave")
        result = interleave.explore(lost_update, database=db)   # saves the failures
        again = interleave.explore(lost_update, database=db)    # reproduces them first
    """

    @abc.abstractmethod
    def save(self, key: str, schedule_id: str) -> None:
        """Keep ``schedule_id`` under ``key`` (saving it twice keeps it once)."""

    @abc.abstractmethod
    def fetch(self, key: str) -> list[str]:
        """The IDs kept under ``key``, sorted."""

    @abc.abstractmethod
    def delete(self, key: str, schedule_id: str) -> None:
        """Forget ``schedule_id`` under ``key`` (nothing happens when it is not there)."""


class InMemoryDatabase(ScheduleDatabase):
    """A database that lives as long as the object (for tests and programs)."""

    def __init__(self) -> None:
        self._data: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def save(self, key: str, schedule_id: str) -> None:
        with self._lock:
            self._data.setdefault(key, set()).add(schedule_id)

    def fetch(self, key: str) -> list[str]:
        with self._lock:
            return sorted(self._data.get(key, ()))

    def delete(self, key: str, schedule_id: str) -> None:
        with self._lock:
            self._data.get(key, set()).discard(schedule_id)

    def __repr__(self) -> str:
        return f"InMemoryDatabase({sum(len(v) for v in self._data.values())} IDs)"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class DirectoryDatabase(ScheduleDatabase):
    """A database in a directory: one subdirectory per key, one file per ID.

    Every save writes a new file under a temporary name and renames it into place, so
    several processes may save, fetch and delete at once without losing an entry; there is no
    shared file to read, change and write back.

    Args:
        path: the directory (created on the first save).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _key_dir(self, key: str) -> Path:
        return self.path / _digest(key)

    def save(self, key: str, schedule_id: str) -> None:
        folder = self._key_dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        # The key is kept beside its entries so that a person (or a tool) can tell them apart.
        key_file = folder / "key"
        if not key_file.exists():
            self._write(folder, "key", key)
        self._write(folder, _digest(schedule_id) + ".id", schedule_id)

    @staticmethod
    def _write(folder: Path, name: str, text: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, folder / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def fetch(self, key: str) -> list[str]:
        folder = self._key_dir(key)
        found = []
        try:
            names = sorted(os.listdir(folder))
        except FileNotFoundError:
            return []
        for name in names:
            if not name.endswith(".id"):
                continue
            # Another process may delete an entry between the listing and the read.
            with contextlib.suppress(FileNotFoundError):
                found.append((folder / name).read_text(encoding="utf-8"))
        return sorted(found)

    def delete(self, key: str, schedule_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._key_dir(key) / (_digest(schedule_id) + ".id"))

    def __repr__(self) -> str:
        return f"DirectoryDatabase({str(self.path)!r})"
