"""Swap the project's own primitives for scheduled stand-ins, for one execution.

Locks, conditions, semaphores and events that modules of the project (see
:mod:`interleave.instrument._project`) created *before* the exploration (module globals and
class attributes) are replaced by adopted stand-ins named ``module.NAME`` for the execution,
and put back when it ends. Names bound with ``from threading import Lock`` & co. are swapped
for the patch's own stand-ins, which serve every execution: they stay swapped as long as the
module-wide swap does (:meth:`ModuleSwap.bind`), once per exploration.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from ..._core._runtime import Runtime
from .._project import modules_with_work
from .._swap import ModuleSwap, bind_project_aliases
from ._factories import adopt, is_adoptable

__all__ = ["Aliases", "Undo", "restore_globals", "swap_project_globals"]

#: ``id(real)`` -> (real, stand-in): the functions and classes that ``from threading import X``
#: may have bound in a module before the exploration, and what replaces each.
Aliases = Mapping[int, tuple[object, object]]

#: What to put back: (module or class, name, original value), in the order of the swaps.
Undo = list[tuple[object, str, object]]


# module name -> (size of its namespace when scanned, names bound to a real factory that
# ``from threading import X`` may have bound, names that may hold a primitive, and (class name,
# attribute) pairs of its classes that hold primitives). Rescanned when the namespace grows or
# shrinks; a swap re-checks each candidate, so stale entries are harmless.
_Scan = tuple[int, list[str], list[str], list[tuple[str, str]]]
_candidates: dict[str, _Scan] = {}


def _scan(module: ModuleType, aliases: Aliases, swap: ModuleSwap) -> _Scan:
    modname = module.__name__
    namespace = vars(module)
    entry = _candidates.get(modname)
    if entry is not None and entry[0] == len(namespace):
        return entry
    bound: list[str] = []
    names: list[str] = []
    members: list[tuple[str, str]] = []
    for name, value in list(namespace.items()):
        if isinstance(value, type) and value.__module__ == modname:
            members.extend((name, a) for a, m in list(vars(value).items()) if is_adoptable(m))
        elif id(value) in aliases or swap.stands_in(value):  # (bound already, maybe)
            bound.append(name)
        elif is_adoptable(value):
            names.append(name)
    entry = (len(namespace), bound, names, members)
    _candidates[modname] = entry
    return entry


def swap_project_globals(rt: Runtime, aliases: Aliases, swap: ModuleSwap) -> Undo:
    """Replace pre-existing primitives and ``from threading import X`` names in project
    modules (globals, and attributes of classes defined there); return what to restore.

    The ``from threading import X`` names are bound through ``swap`` (the module-wide swap,
    installed): they stay swapped with it, and are put back with it, not from the returned
    list. So only the first execution after the swap was installed (or after an import)
    visits the modules that have such names.
    """
    bind_project_aliases(
        rt, swap, "threading-aliases", aliases, lambda module: _scan(module, aliases, swap)[1]
    )

    def has_primitives(module: ModuleType) -> bool:
        _, _, names, members = _scan(module, aliases, swap)
        return bool(names or members)

    # Only the modules that had something to swap (see modules_with_work); _scan rescans one
    # whose namespace changed size since.
    undo: Undo = []
    for module in modules_with_work(rt, "threading", has_primitives):
        namespace = module.__dict__
        _, _, names, members = _scan(module, aliases, swap)
        modname = module.__name__
        for name in names:
            value = namespace.get(name)
            if is_adoptable(value):
                undo.append((module, name, value))
                namespace[name] = adopt(rt, value, f"{modname}.{name}")
        for cls_name, attr in members:
            cls = namespace.get(cls_name)
            member = vars(cls).get(attr) if isinstance(cls, type) else None
            if member is not None and is_adoptable(member):
                undo.append((cls, attr, member))
                setattr(cls, attr, adopt(rt, member, f"{modname}.{cls_name}.{attr}"))
    return undo


def restore_globals(undo: Undo) -> None:
    """Put back what :func:`swap_project_globals` replaced, the last swap first."""
    for owner, name, value in reversed(undo):
        if isinstance(owner, ModuleType):
            vars(owner)[name] = value
        else:
            setattr(owner, name, value)
