"""Operations: what a simulated thread is about to do at a yield point."""

from __future__ import annotations

import functools
from typing import Final, NamedTuple

__all__ = [
    "ACCESS_KINDS",
    "BLOCKING_KINDS",
    "Location",
    "Operation",
    "Resource",
]

#: A resource is a tuple key such as ``("shared", "hits")``, ``("cache", "users", 42)`` or
#: ``("lock", "db")``. The first item names the kind of object.
Resource = tuple[object, ...]

#: The kinds of data access. ``update`` is an atomic read-modify-write.
ACCESS_KINDS: Final = frozenset({"read", "write", "update"})

#: Operations that may wait for another thread.
BLOCKING_KINDS: Final = frozenset({"acquire", "wait", "wake", "join"})


class Location(NamedTuple):
    """Where in user code an operation was issued."""

    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f"{_short(self.filename)}:{self.lineno}"


@functools.lru_cache(maxsize=1024)
def _short(filename: str) -> str:
    # Paths in reports are shown relative to the working directory when they are inside it,
    # so they stay short and clickable; absolute otherwise. Cached: detectors render
    # locations for every finding of every execution.
    import os

    try:
        rel = os.path.relpath(filename)
    except ValueError:  # a different drive on Windows
        return filename
    return filename if rel.startswith("..") else rel


class Operation:
    """The pending or executed action of a simulated thread.

    Attributes:
        kind: ``read``, ``write``, ``update`` (atomic read-modify-write), ``acquire``,
            ``release``, ``wait``, ``wake``, ``notify``, ``spawn``, ``join``, ``yield`` or
            ``error`` (an operation that failed at once, such as SQLite's immediate BUSY).
        resource: the tuple key of what it touches, for example ``("shared", "hits")``.
        label: an optional human label shown in reports (``"get"``, ``"set"``, a SQL text).

    Operations are immutable by convention and shared: a primitive builds its operations once
    and issues the same object at every call, which keeps the hot path allocation-free.
    (A plain slotted class rather than a frozen dataclass: it is built on the hot path.)
    """

    __slots__ = ("kind", "label", "resource")

    kind: str
    resource: Resource
    label: str | None

    def __init__(self, kind: str, resource: Resource, label: str | None = None) -> None:
        self.kind = kind
        self.resource = resource
        self.label = label

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Operation({self.kind!r}, {self.resource!r}{label})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Operation):
            return NotImplemented
        return (self.kind, self.resource, self.label) == (other.kind, other.resource, other.label)

    def __hash__(self) -> int:
        return hash((self.kind, self.resource, self.label))

    @property
    def is_write(self) -> bool:
        """True for ``write`` and ``update``."""
        return self.kind == "write" or self.kind == "update"

    def describe(self) -> str:
        """A short text such as ``read shared 'hits'`` for reports."""
        what = self.label or self.kind
        return f"{what} {describe_resource(self.resource)}"


def describe_resource(resource: Resource) -> str:
    """Render a resource key for humans: ``("cache", "users", 42)`` -> ``cache 'users'[42]``."""
    if not resource:
        return "-"
    kind, *rest = resource
    if not rest:
        return str(kind)
    head = f"{kind} {rest[0]!r}" if isinstance(rest[0], str) else f"{kind} {rest[0]}"
    tail = "".join(f"[{item!r}]" for item in rest[1:])
    return head + tail
