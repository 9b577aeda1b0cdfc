"""A module-wide swap of attributes, reference counted: executions may run in several OS
threads at once, and the swap stays installed while any of them needs it."""

from __future__ import annotations

import _thread
import sys
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
        # id(patched) -> (patched, real), and the modules imported before the swap.
        self._reals = {id(patched): (patched, real) for _, _, real, patched in setters}
        self._before: set[str] = set()

    def install(self) -> None:
        """One more user of the swap (the first installs it)."""
        with self._lock:
            self._users += 1
            if self._users == 1:
                self._before = set(sys.modules)
                for owner, name, _real, patched in self._setters:
                    setattr(owner, name, patched)

    def uninstall(self) -> None:
        """One user fewer (the last puts the real attributes back, also in the modules
        imported while the swap was on: ``from threading import Lock`` there bound the
        patched object, which would otherwise outlive the swap)."""
        with self._lock:
            self._users -= 1
            if self._users == 0:
                for owner, name, real, _patched in self._setters:
                    setattr(owner, name, real)
                self._unbind_new_modules()

    def _unbind_new_modules(self) -> None:
        reals, before = self._reals, self._before
        self._before = set()
        for modname, module in list(sys.modules.items()):
            if modname in before or module is None or modname.partition(".")[0] == "interleave":
                continue  # (interleave's own modules may name the patched objects on purpose)
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for name, value in list(namespace.items()):
                pair = reals.get(id(value))
                if pair is not None and pair[0] is value:
                    namespace[name] = pair[1]

    @property
    def active(self) -> bool:
        """Is the swap installed?"""
        return self._users > 0
