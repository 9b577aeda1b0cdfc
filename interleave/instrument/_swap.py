"""A module-wide swap of attributes, reference counted: executions may run in several OS
threads at once, and the swap stays installed while any of them needs it."""

from __future__ import annotations

import _thread
from collections.abc import Sequence

__all__ = ["ModuleSwap"]


class ModuleSwap:
    """``setattr(owner, name, patched)`` for every ``(owner, name, real, patched)`` of
    ``setters`` on the first :meth:`install`, and back to ``real`` on the last
    :meth:`uninstall`."""

    def __init__(self, setters: Sequence[tuple[object, str, object, object]]) -> None:
        self._setters = setters
        self._lock = _thread.allocate_lock()
        self._users = 0

    def install(self) -> None:
        """One more user of the swap (the first installs it)."""
        with self._lock:
            self._users += 1
            if self._users == 1:
                for owner, name, _real, patched in self._setters:
                    setattr(owner, name, patched)

    def uninstall(self) -> None:
        """One user fewer (the last puts the real attributes back)."""
        with self._lock:
            self._users -= 1
            if self._users == 0:
                for owner, name, real, _patched in self._setters:
                    setattr(owner, name, real)

    @property
    def active(self) -> bool:
        """Is the swap installed?"""
        return self._users > 0
