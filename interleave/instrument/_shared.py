"""Shared values, counters and caches: every access is a yield point inside an exploration."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, overload

from .._core._context import state as _state
from .._core._ops import Operation, RacyOperation
from ..errors import InvalidArgument
from ._base import sim

__all__ = ["Cache", "Counter", "Shared", "point"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")

_MISSING: Any = object()


def _access_type(racy: object, what: str) -> type[Operation]:
    """The class of a variable's plain reads and writes: racy ones are never data races."""
    if not isinstance(racy, bool):
        raise InvalidArgument(f"{what}(racy={racy!r}) must be True or False")
    return RacyOperation if racy else Operation


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArgument(
            f"{what} needs a name: a non-empty string such as {what}('hits', 0); got {name!r}"
        )
    return name


#: (class name, variable name, racy) -> the variable's read, write and atomic operations.
#: Operations are immutable and shared (see Operation), and a scenario factory makes its
#: variables again on every execution: building three operations cost more than the rest of
#: the factory. Bounded: a program that makes variables of ever new names does not grow it.
_VARIABLE_OPS: dict[tuple[str, str, bool], tuple[Operation, Operation, Operation]] = {}
_MAX_VARIABLE_OPS = 4096


def _variable_ops(
    what: str, name: object, racy: object, atomic: str
) -> tuple[Operation, Operation, Operation]:
    """The ``get``, ``set`` and atomic (labelled ``atomic``) operations of the variable
    ``name`` of class ``what``; ``name`` (a non-empty string) and ``racy`` (a bool) are
    checked."""
    if type(name) is str and type(racy) is bool:
        ops = _VARIABLE_OPS.get((what, name, racy))
        if ops is not None:
            return ops
    resource = (what.lower(), _check_name(name, what))
    access = _access_type(racy, what)
    ops = (
        access("read", resource, "get"),
        access("write", resource, "set"),
        Operation("update", resource, atomic),
    )
    if type(name) is str and type(racy) is bool:
        if len(_VARIABLE_OPS) >= _MAX_VARIABLE_OPS:
            _VARIABLE_OPS.clear()
        _VARIABLE_OPS[(what, name, racy)] = ops
    return ops


class Shared(Generic[T]):
    """A shared value; ``get`` and ``set`` are separate steps, ``update`` is atomic.

    Outside an exploration it is a plain box around the value. A ``get`` and a ``set`` by two
    threads that no synchronisation orders are a ``data-race`` finding; ``racy=True`` says the
    race is intended (a statistic read without a lock, say) and exempts the variable.

    Example::

        hits = interleave.Shared("hits", 0)
        hits.set(hits.get() + 1)          # two steps: another thread may run in between
        hits.update(lambda v: v + 1)      # one atomic step
        seen = interleave.Shared("seen", 0, racy=True)  # never reported as a data race
    """

    __slots__ = ("_read", "_update", "_value", "_write", "name")

    def __init__(self, name: str, value: T, *, racy: bool = False) -> None:
        self._read, self._write, self._update = _variable_ops("Shared", name, racy, "update")
        self.name = name
        self._value = value

    def get(self) -> T:
        """Read the value (a yield point)."""
        rt = _state.active  # sim(), inlined: every access of a shared value asks
        if rt is not None and rt.current is not None:
            rt.access(self._read)
        return self._value

    def set(self, value: T) -> None:
        """Write the value (a yield point)."""
        rt = _state.active  # sim(), inlined: every access of a shared value asks
        if rt is not None and rt.current is not None:
            rt.access(self._write)
        self._value = value

    def update(self, fn: Callable[[T], T]) -> T:
        """Replace the value with ``fn(value)`` atomically (one step); return the new value.

        ``fn`` must not touch other instrumented objects: it runs inside the step.
        """
        rt = _state.active  # sim(), inlined: every access of a shared value asks
        if rt is not None and rt.current is not None:
            rt.access(self._update)
        self._value = value = fn(self._value)
        return value

    def __repr__(self) -> str:
        return f"Shared({self.name!r}, {self._value!r})"


class Counter:
    """A shared integer; ``add`` is atomic, ``get`` then ``set`` is not.

    ``racy=True`` exempts its ``get`` and ``set`` from data-race findings (``add`` never
    races: it is atomic).

    Example::

        visits = interleave.Counter("visits")
        visits.add()                      # atomic: never a lost update
    """

    __slots__ = ("_add", "_read", "_value", "_write", "name")

    def __init__(self, name: str, start: int = 0, *, racy: bool = False) -> None:
        self._read, self._write, self._add = _variable_ops("Counter", name, racy, "add")
        if not isinstance(start, int):
            raise InvalidArgument(f"Counter start={start!r} must be an int")
        self.name = name
        self._value = start

    def get(self) -> int:
        """Read the value (a yield point)."""
        rt = _state.active  # sim(), inlined: every access of a shared value asks
        if rt is not None and rt.current is not None:
            rt.access(self._read)
        return self._value

    def set(self, value: int) -> None:
        """Write the value (a yield point)."""
        rt = _state.active  # sim(), inlined: every access of a shared value asks
        if rt is not None and rt.current is not None:
            rt.access(self._write)
        self._value = value

    def add(self, n: int = 1) -> int:
        """Add ``n`` atomically (one step) and return the new value."""
        rt = _state.active  # sim(), inlined: every access of a shared value asks
        if rt is not None and rt.current is not None:
            rt.access(self._add)
        self._value += n
        return self._value

    def __repr__(self) -> str:
        return f"Counter({self.name!r}, {self._value!r})"


class Cache(Generic[K, V]):
    """A shared dictionary-like cache; each key is its own resource.

    ``clear()`` and ``len()`` touch the whole cache, so they conflict with every key.
    ``racy=True`` exempts every access from data-race findings.

    Example::

        users = interleave.Cache("users")
        if users.get(42) is None:         # check …
            users.set(42, load(42))       # … then act: another thread may have set it
    """

    __slots__ = ("_access", "_all", "_clear", "_data", "_len", "name")

    def __init__(self, name: str, *, racy: bool = False) -> None:
        self.name = _check_name(name, "Cache")
        self._access = access = _access_type(racy, "Cache")
        self._data: dict[K, V] = {}
        self._all = ("cache", self.name)
        self._clear = access("write", self._all, "clear")
        self._len = access("read", self._all, "len")

    def _op(self, kind: str, key: K, label: str) -> None:
        rt = sim()
        if rt is not None:
            rt.access(self._access(kind, ("cache", self.name, key), label))

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key: K, default: object = None) -> object:
        """The value for ``key``, or ``default`` (a read of that key)."""
        self._op("read", key, "get")
        return self._data.get(key, default)

    def set(self, key: K, value: V) -> None:
        """Store ``value`` under ``key`` (a write of that key)."""
        self._op("write", key, "set")
        self._data[key] = value

    def delete(self, key: K) -> bool:
        """Remove ``key``; True if it was there (a write of that key)."""
        self._op("write", key, "delete")
        return self._data.pop(key, _MISSING) is not _MISSING

    def clear(self) -> None:
        """Remove every key (a write of the whole cache)."""
        rt = sim()
        if rt is not None:
            rt.access(self._clear)
        self._data.clear()

    def __contains__(self, key: object) -> bool:
        self._op("read", key, "in")  # type: ignore[arg-type]
        return key in self._data

    def __len__(self) -> int:
        rt = sim()
        if rt is not None:
            rt.access(self._len)
        return len(self._data)

    def __repr__(self) -> str:
        return f"Cache({self.name!r}, {len(self._data)} keys)"


_ACCESS = {None: None, "read": "read", "write": "write", "update": "update"}


def point(
    label: str | None = None,
    resource: str | tuple[object, ...] | None = None,
    access: str | None = None,
) -> None:
    """A hand-placed yield point: another thread may run here.

    Args:
        label: shown in reports.
        resource: what the code around it touches (a name or a tuple key). Without one the
            point conflicts with nothing (a pure scheduling point).
        access: ``"read"``, ``"write"`` or ``"update"``; defaults to ``"write"`` when a
            resource is given (the conservative choice).

    Example::

        balance = account.balance
        interleave.point("after read", resource="balance", access="read")
    """
    if access not in _ACCESS:
        raise InvalidArgument(f"access={access!r} must be 'read', 'write', 'update' or None")
    rt = sim()
    if rt is None:
        return
    if resource is None:
        if access is not None:
            raise InvalidArgument(f"access={access!r} needs a resource= to access")
        rt.access(Operation("yield", (), label))
        return
    key: tuple[object, ...] = ("point", resource) if isinstance(resource, str) else tuple(resource)
    rt.access(Operation(access or "write", key, label))
