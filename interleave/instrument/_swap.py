"""A module-wide swap of attributes, reference counted: executions may run in several OS
threads at once, and the swap stays installed while any of them needs it.

Names that modules bound to a swapped object before the swap (``from threading import Lock``)
are swapped by the executions that find them (:meth:`ModuleSwap.bind`) and then stay swapped
with the rest, until the last user leaves: one swap per exploration instead of a swap and a
restore per execution, and an execution in another OS thread never sees the real object put
back under it while it runs.
"""

from __future__ import annotations

import _thread
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType

from .._core._runtime import Runtime
from ._project import modules_with_work, project_of

__all__ = ["ModuleSwap", "bind_project_aliases"]


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
        # (namespace, name, real, patched) bound by bind(), oldest first.
        self._bound: list[tuple[dict[str, object], str, object, object]] = []
        # id -> list of modules whose names were all bound in this installation (see covered).
        self._covered: dict[int, Sequence[object]] = {}

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
                self._unbind_bound()
                self._unbind_new_modules()

    def bind(self, namespace: dict[str, object], name: str, real: object, patched: object) -> None:
        """Set ``namespace[name]`` (bound to ``real`` before the swap) to ``patched`` until the
        last :meth:`uninstall`, which puts ``real`` back if the name still holds ``patched``.

        Raises:
            RuntimeError: the swap is not installed (nothing would ever undo the binding).
        """
        with self._lock:
            if self._users == 0:
                raise RuntimeError("ModuleSwap.bind() needs the swap installed (install() first)")
            if namespace.get(name) is real:
                namespace[name] = patched
                self._bound.append((namespace, name, real, patched))

    def stands_in(self, value: object) -> bool:
        """Is ``value`` one of the objects the swap puts in place of a real one?

        Scans of a module's names count these as well as the real objects: a module scanned
        while another exploration has its names bound must still be bound later.
        """
        pair = self._reals.get(id(value))
        return pair is not None and pair[0] is value

    def covered(self, modules: Sequence[object]) -> bool:
        """Were the names in every module of ``modules`` bound since the swap was installed?

        ``modules`` is a list that stands for one state of the modules (a project's
        ``modules()``, a new list after any import): while the swap stays installed, an
        execution that finds its list covered has nothing to bind, and no module to visit.
        """
        return self._covered.get(id(modules)) is modules

    def cover(self, modules: Sequence[object]) -> None:
        """Note that the names in ``modules`` are bound, until the last :meth:`uninstall`."""
        with self._lock:
            if self._users > 0:
                self._covered[id(modules)] = modules

    def _unbind_bound(self) -> None:
        self._covered = {}
        bound, self._bound = self._bound, []
        for namespace, name, real, patched in reversed(bound):
            if namespace.get(name) is patched:  # (unless the program bound something else)
                namespace[name] = real

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


def bind_project_aliases(
    rt: Runtime,
    swap: ModuleSwap,
    key: str,
    aliases: Mapping[int, tuple[object, object]],
    names_of: Callable[[ModuleType], list[str]],
) -> None:
    """Bind, through ``swap`` (installed), the names of the project's modules that hold a real
    object of ``aliases`` (``id(real) -> (real, stand-in)``): ``names_of(module)`` lists the
    candidates, ``key`` names this patch for :func:`modules_with_work`.

    Only the first execution after the swap was installed, or after an import, visits the
    modules (see :meth:`ModuleSwap.covered`): the bound names stay swapped with the rest.
    """
    modules = project_of(rt).modules()  # (a list, the same until something is imported)
    if swap.covered(modules):
        return
    for module in modules_with_work(rt, key, lambda m: bool(names_of(m))):
        namespace = vars(module)
        for name in names_of(module):
            value = namespace.get(name)
            alias = aliases.get(id(value))
            if alias is not None and alias[0] is value:
                swap.bind(namespace, name, value, alias[1])
    swap.cover(modules)
