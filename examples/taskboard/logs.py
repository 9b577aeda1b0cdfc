"""``LogWriter``: appends lines to a log file and rotates it into an archive file.

Rotation is "copy, then truncate" (as logrotate's ``copytruncate``): read the log, append what
was read to ``<log>.1``, empty the log. File operations are not visible to interleave by
themselves, so each is preceded by ``interleave.point(...)`` naming the file it touches (outside
an exploration ``point`` returns at once).

The planted bug of ``variant="buggy"``: nothing keeps other writers out during the rotation. A
line appended between the copy and the truncation is in neither file: it is lost. Fixed: one
lock held by every write and by the rotation.

Example::

    log = LogWriter("/tmp/app.log", max_lines=100, variant="fixed")
    log.write("started")
    assert log.all_lines() == ["started"]
"""

from __future__ import annotations

import os

import interleave

from .variant import FIXED, resolve

__all__ = ["LogWriter"]


class LogWriter:
    """Appends lines to ``path``; at ``max_lines`` lines the log is rotated into ``path + ".1"``.

    Args:
        path: the log file.
        max_lines: rotate when the log has this many lines.
        variant: ``"buggy"`` or ``"fixed"`` (default: ``$TASKBOARD_VARIANT``, else buggy).

    Example::

        log = LogWriter("/tmp/app.log", max_lines=2, variant="fixed")
        log.write("a"); log.write("b")      # the second write rotates
        assert log.all_lines() == ["a", "b"]
    """

    def __init__(self, path: str, *, max_lines: int = 1000, variant: str | None = None) -> None:
        if max_lines < 1:
            raise ValueError(f"max_lines={max_lines!r} must be at least 1")
        self.path = path
        self.archive = path + ".1"
        self.max_lines = max_lines
        self.variant = resolve(variant)
        self._lock = interleave.Lock(name="log")
        name = os.path.basename(path)
        # Resources name the files by basename, so they are the same in every execution.
        self._log_key = ("file", name)
        self._archive_key = ("file", name + ".1")

    def __repr__(self) -> str:
        return f"<LogWriter {self.path!r} variant={self.variant!r}>"

    def write(self, line: str) -> None:
        """Append ``line``; rotate when the log is full."""
        if self.variant == FIXED:
            with self._lock:
                self._write(line)
            return
        self._write(line)

    def _write(self, line: str) -> None:
        interleave.point("append line", resource=self._log_key, access="write")
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        if len(self._read(self.path, self._log_key)) >= self.max_lines:
            self.rotate()

    def rotate(self) -> None:
        """Copy the log to the archive file and truncate it ("copytruncate")."""
        lines = self._read(self.path, self._log_key)
        interleave.point("append to archive", resource=self._archive_key, access="write")
        with open(self.archive, "a", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
        interleave.point("truncate log", resource=self._log_key, access="write")
        with open(self.path, "w", encoding="utf-8"):
            pass

    def _read(self, path: str, key: tuple[str, str]) -> list[str]:
        interleave.point(f"read {key[1]}", resource=key, access="read")
        try:
            with open(path, encoding="utf-8") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def all_lines(self) -> list[str]:
        """Every line written: the archive's, then the log's."""
        return self._read(self.archive, self._archive_key) + self._read(self.path, self._log_key)
