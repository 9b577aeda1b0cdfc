"""Attribute tracing: reads and writes of plain attributes and items as yield points.

Unmodified code such as ``self.count += 1`` touches no instrumented object, so the scheduler
never sees the read and the write that make it racy. Watching a class installs hooks
(``__getattribute__``, ``__setattr__``, ``__delattr__`` and, when the class has them,
``__getitem__``/``__setitem__``/``__delitem__``) that announce each access to the scheduler:

- ``@watch`` on a class, or ``watch(obj)`` on one instance (its class is swapped for a watched
  subclass), keeps the hooks for good; outside an exploration they cost one function call.
- ``explore(..., trace_attributes=True)`` watches every class defined in the project's modules
  (see :mod:`interleave.instrument._project`: the scenario's own package, test modules
  included, and everything outside the standard library, installed distributions and
  interleave) for the duration of each execution, and removes the hooks afterwards.

Only accesses made *from project code* are yield points (the accessing frame's file must be in
the project), so the standard library, pytest and interleave reading the same objects add no
steps; a class watched with :func:`watch` also has the accesses of its own module traced,
wherever it lives. Reads of methods and class attributes are not yield points: only instance
data (the instance ``__dict__`` and ``__slots__``) is shared state. Each execution keeps a
:class:`Tally` of what was traced, for the health checks.

Each object gets a stable name per execution, ``ClassName#k``, numbered in the order the
execution first touches objects of that class (creation order for objects the scenario builds),
so findings and schedule IDs are the same in every execution.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import MemberDescriptorType
from typing import Any, TypeVar

from .._core import _context
from .._core._ops import Operation
from .._core._runtime import Runtime
from ..errors import InvalidArgument
from ._base import sim
from ._project import Project, project_of

__all__ = [
    "Tally",
    "finished_tally",
    "is_watched",
    "tally",
    "trace_attributes",
    "unwatch",
    "watch",
    "watched_for_good",
]

T = TypeVar("T")

_object_getattribute = object.__getattribute__


class _Names:
    """One execution's names of watched objects and the operations on their attributes."""

    __slots__ = ("counts", "names", "ops")

    def __init__(self) -> None:
        self.names: dict[int, tuple[object, str]] = {}  # id(obj) -> (obj, name)
        self.counts: dict[str, int] = {}  # class name (per thread) -> last number
        self.ops: dict[tuple[str, tuple[object, ...]], Operation] = {}


# A hooked class -> the entries its hooks replaced (None: the class did not define it).
_HOOKED: dict[type, dict[str, object]] = {}
# Classes hooked for good (by @watch / watch(obj)), as opposed to for one execution.
_PERMANENT: set[type] = set()
# Watched subclasses made by watch(obj), per original class.
_SUBCLASSES: dict[type, type] = {}

_ATTR_HOOKS = ("__getattribute__", "__setattr__", "__delattr__")
_ITEM_HOOKS = ("__getitem__", "__setitem__", "__delitem__")


# ---------------------------------------------------------------------------------- naming
def _origin(cls: type) -> type:
    return getattr(cls, "_interleave_watch_origin", cls)


def _name(rt: Runtime, obj: object, *, made: bool = False) -> str:
    """The object's name in this execution: ``Box#1``, or ``Box#1@worker#2`` when a thread
    made it (``made``: called from its ``__init__``).

    Objects are numbered when made: by the scenario factory in creation order, by a thread
    per thread (two threads each make one in either order: a name numbered across threads
    would depend on the schedule; see ``Runtime.next_name``). An object made before the
    exploration is numbered when first met.
    """
    state = rt.slot(_Names)
    names = state.names
    entry = names.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]
    counts = state.counts
    cls_name = _origin(type(obj)).__name__
    thread = rt.current if made else None
    key = cls_name if thread is None else f"{cls_name}@{thread.name}"
    k = counts.get(key, 0) + 1
    counts[key] = k
    name = f"{cls_name}#{k}" if thread is None else f"{cls_name}#{k}@{thread.name}"
    names[id(obj)] = (obj, name)  # keeps obj alive for the execution, so ids are not reused
    return name


def _op(rt: Runtime, kind: str, resource: tuple[object, ...]) -> Operation:
    ops = rt.slot(_Names).ops
    key = (kind, resource)
    op = ops.get(key)
    if op is None:
        op = ops[key] = Operation(kind, resource)
    return op


def _is_data(obj: object, name: str) -> bool:
    try:
        d = _object_getattribute(obj, "__dict__")
    except AttributeError:
        d = None
    if d is not None and name in d:
        return True
    return isinstance(getattr(type(obj), name, None), MemberDescriptorType)


class Tally:
    """What attribute tracing saw in one execution (the health checks read it).

    Attributes:
        traced: per type of the accessed object, the accesses that became steps.
        untraced: per type, a file outside the project whose accesses were not traced.
        built: types of watched objects the scenario factory, ``check`` or ``teardown``
            wrote to (outside the threads, where accesses are never steps).
    """

    __slots__ = ("built", "traced", "untraced")

    def __init__(self) -> None:
        self.traced: dict[type, int] = {}
        self.untraced: dict[type, str] = {}
        self.built: set[type] = set()


def tally(rt: Runtime) -> Tally:
    """The :class:`Tally` of the execution ``rt`` runs."""
    return rt.slot(Tally)


def finished_tally(rt: Runtime) -> Tally | None:
    """The :class:`Tally` of ``rt`` if attribute tracing saw anything in it, else None."""
    return rt.peek(Tally)


# A class -> the files of the watched classes in its MRO (their modules' files).
_own_files: dict[type, frozenset[str]] = {}


def _is_own_code(cls: type, filename: str) -> bool:
    """Was the access made by the code of a class watched with :func:`watch` (its module)?

    An explicit ``watch(SomeClass)`` traces the class's own methods wherever it lives (an
    installed package included); other code must be project code.
    """
    files = _own_files.get(cls)
    if files is None:
        found = set()
        for c in cls.__mro__:
            if c in _PERMANENT:
                module = sys.modules.get(_origin(c).__module__)
                path = getattr(module, "__file__", None)
                if isinstance(path, str):
                    found.add(os.path.abspath(path))
        files = _own_files[cls] = frozenset(found)
    return bool(files) and os.path.abspath(filename) in files


def _is_traced_code(rt: Runtime, obj: object, filename: str) -> bool:
    if project_of(rt).contains_file(filename) or _is_own_code(type(obj), filename):
        return True
    tally(rt).untraced.setdefault(type(obj), filename)
    return False


def _announce_attr(obj: object, name: str, kind: str) -> None:
    rt = sim()
    if rt is None:
        building = _context.building()
        if building is not None and kind == "write":
            _name(building, obj)  # number objects in creation order while the scenario builds
            tally(building).built.add(type(obj))
        return
    if name.startswith("__"):
        return
    # Frame 0 is this function, 1 the hook, 2 the code that made the access.
    if not _is_traced_code(rt, obj, sys._getframe(2).f_code.co_filename):
        return
    if kind == "read" and not _is_data(obj, name):
        return  # a method or a class attribute: not shared state
    traced = tally(rt).traced
    cls = type(obj)
    traced[cls] = traced.get(cls, 0) + 1
    rt.access(_op(rt, kind, ("attr", f"{_name(rt, obj)}.{name}")))


def _announce_item(obj: object, key: object, kind: str) -> None:
    rt = sim()
    if rt is None:
        building = _context.building()
        if building is not None and kind == "write":
            _name(building, obj)  # number objects in creation order while the scenario builds
        return
    if not _is_traced_code(rt, obj, sys._getframe(2).f_code.co_filename):
        return
    traced = tally(rt).traced
    cls = type(obj)
    traced[cls] = traced.get(cls, 0) + 1
    rt.access(_op(rt, kind, ("item", f"{_name(rt, obj)}[{key!r}]")))


# ---------------------------------------------------------------------------------- hooks
def _unhooked(cls: type, name: str) -> Any:
    """``cls``'s implementation of ``name``, looking through hooks installed on it or a base
    (so a watched subclass of a watched class announces each access once)."""
    for c in cls.__mro__:
        if name not in c.__dict__:
            continue
        saved = _HOOKED.get(c)
        if saved is not None and name in saved:
            original = saved[name]
            if original is None:
                continue  # the hook stands in for an inherited implementation
            return original
        return c.__dict__[name]
    return None


def _make_hooks(cls: type) -> dict[str, object]:
    get = _unhooked(cls, "__getattribute__")
    set_ = _unhooked(cls, "__setattr__")
    del_ = _unhooked(cls, "__delattr__")

    # The fast path outside an exploration reads the context's thread-local directly: a
    # watched class may live in production code, where each access pays for this test.
    state = _context._state

    def __getattribute__(self: Any, name: str) -> Any:
        if state.active is not None:
            _announce_attr(self, name, "read")
        return get(self, name)

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if state.building is not None:
            _announce_attr(self, name, "write")
        set_(self, name, value)

    def __delattr__(self: Any, name: str) -> None:
        if state.building is not None:
            _announce_attr(self, name, "write")
        del_(self, name)

    init = _unhooked(cls, "__init__")

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        building = state.building
        if building is not None:
            _name(building, self, made=True)
        init(self, *args, **kwargs)

    hooks: dict[str, object] = {
        "__getattribute__": __getattribute__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
        "__init__": __init__,
    }
    getitem = _unhooked(cls, "__getitem__")
    setitem = _unhooked(cls, "__setitem__")
    delitem = _unhooked(cls, "__delitem__")
    if getitem is not None:

        def __getitem__(self: Any, key: Any) -> Any:
            _announce_item(self, key, "read")
            return getitem(self, key)

        hooks["__getitem__"] = __getitem__
    if setitem is not None:

        def __setitem__(self: Any, key: Any, value: Any) -> None:
            _announce_item(self, key, "write")
            setitem(self, key, value)

        hooks["__setitem__"] = __setitem__
    if delitem is not None:

        def __delitem__(self: Any, key: Any) -> None:
            _announce_item(self, key, "write")
            delitem(self, key)

        hooks["__delitem__"] = __delitem__
    return hooks


def _hook(cls: type) -> None:
    if cls in _HOOKED:
        return
    hooks = _make_hooks(cls)
    _HOOKED[cls] = {name: cls.__dict__.get(name) for name in hooks}
    try:
        for name, fn in hooks.items():
            setattr(cls, name, fn)
    except TypeError:
        _unhook(cls)  # put back what was set before the failure
        raise


def _unhook(cls: type) -> None:
    saved = _HOOKED.pop(cls, None)
    if saved is None:
        return
    for name, original in saved.items():
        if original is None:
            with contextlib.suppress(AttributeError, TypeError):
                delattr(cls, name)
        else:
            setattr(cls, name, original)


def _check_watchable(cls: type) -> None:
    if cls.__module__ == "builtins" or not hasattr(cls, "__dict__"):
        raise InvalidArgument(
            f"watch() cannot watch {cls.__name__!r} objects (a built-in type): watch the class "
            "that holds them, or use interleave.Shared / interleave.Cache for shared values"
        )


# ---------------------------------------------------------------------------------- public
def watch(target: T) -> T:
    """Make reads and writes of ``target``'s attributes (and items) yield points.

    Args:
        target: a class (every instance is watched; usable as a decorator) or one instance
            (only that object is watched: its class is swapped for a watched subclass).

    Returns:
        ``target`` itself, so it works as a class decorator and inline.

    Outside an exploration a watched object behaves as before (one extra function call per
    attribute access). Inside one, a read or write of an instance attribute made from project
    code is a step, so a racy ``self.count += 1`` is explored and reported as a lost update.

    Example::

        @interleave.watch
        class Hits:
            def __init__(self):
                self.count = 0
            def hit(self):
                self.count += 1     # a read step, then a write step
    """
    if isinstance(target, type):
        _check_watchable(target)
        _hook(target)
        _PERMANENT.add(target)
        _own_files.clear()
        return target
    cls = type(target)
    if _origin(cls) is not cls or cls in _PERMANENT:
        return target  # already watched
    _check_watchable(cls)
    sub = _SUBCLASSES.get(cls)
    if sub is None:
        sub = type(cls.__name__, (cls,), {"_interleave_watch_origin": cls, "__slots__": ()})
        sub.__qualname__ = cls.__qualname__
        sub.__module__ = cls.__module__
        _hook(sub)
        _PERMANENT.add(sub)
        _own_files.clear()
        _SUBCLASSES[cls] = sub
    try:
        target.__class__ = sub
    except TypeError as exc:
        raise InvalidArgument(
            f"watch() cannot watch this {cls.__name__!r} object ({exc}); watch its class "
            "with @interleave.watch instead"
        ) from None
    return target


def unwatch(target: object) -> None:
    """Undo :func:`watch` on a class or an instance.

    Example::

        interleave.watch(Account)
        ...
        interleave.unwatch(Account)    # attribute accesses are plain again
    """
    if isinstance(target, type):
        _PERMANENT.discard(target)
        _own_files.clear()
        _unhook(target)
        return
    cls = type(target)
    origin = _origin(cls)
    if origin is not cls:
        target.__class__ = origin


def is_watched(target: object) -> bool:
    """Are ``target``'s attribute accesses (or its instances', for a class) yield points?"""
    cls = target if isinstance(target, type) else type(target)
    return any(c in _HOOKED for c in cls.__mro__)


# ---------------------------------------------------------------------------------- option
def _traceable(cls: type, module: str) -> bool:
    if cls.__module__ != module or cls in _HOOKED or not hasattr(cls, "__dict__"):
        return False
    if issubclass(cls, BaseException | type):
        return False  # exceptions and metaclasses are not shared state
    return not any(c.__module__ == "enum" for c in cls.__mro__)


# Per project: (the modules list it was computed from, the classes found in it).
_project_classes: dict[Project, tuple[object, list[type]]] = {}


def project_classes(project: Project) -> list[type]:
    """Classes defined at the top level of the project's modules (test modules included)."""
    modules = project.modules()
    cached = _project_classes.get(project)
    if cached is not None and cached[0] is modules:  # no module imported since
        return cached[1]
    found: list[type] = []
    for module in modules:
        name = module.__name__
        found.extend(
            v for v in list(vars(module).values()) if isinstance(v, type) and _traceable(v, name)
        )
    if len(_project_classes) > 64:
        _project_classes.clear()
    _project_classes[project] = (modules, found)
    return found


def watched_for_good(cls: type) -> bool:
    """Was ``cls`` (or a base) watched with :func:`watch`, not just for one execution?"""
    return any(c in _PERMANENT for c in cls.__mro__)


@contextlib.contextmanager
def trace_attributes(rt: Runtime) -> Iterator[None]:
    """Watch every project class for one execution (``explore(trace_attributes=True)``)."""
    hooked: list[type] = []
    try:
        for cls in project_classes(project_of(rt)):
            if cls not in _HOOKED:
                try:
                    _hook(cls)
                except TypeError:  # a class that refuses new attributes (an extension type)
                    continue
                hooked.append(cls)
        yield
    finally:
        for cls in reversed(hooked):
            _unhook(cls)
