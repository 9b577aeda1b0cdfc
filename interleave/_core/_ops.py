"""Operations: what a simulated thread is about to do at a yield point, and what it touches.

Every operation has a *footprint*: the resources it reads and writes when it runs. Exploration
strategies that reduce the search (DPOR) order two steps of different threads only when their
footprints conflict (a common resource, at least one write), so the footprint must cover
everything an operation observes or changes, including whether it could run at all. Some
operations have an outcome that depends on the state when they run (a try-acquire that finds
the lock held, a timed wait that times out, an ``RLock`` re-entry): those carry a ``resolve``
function, and the runtime records the resolved operation, whose kind, label and footprint say
what the step did. ``docs/strategies.md`` has the table of every primitive's operations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Final, NamedTuple

if TYPE_CHECKING:
    from ._runtime import Runtime
    from ._threads import SimThread

__all__ = [
    "GIVE",
    "READ",
    "TAKE",
    "WRITE",
    "Footprint",
    "Kind",
    "Location",
    "Operation",
    "RacyOperation",
    "Resolver",
    "Resource",
    "conflict",
    "describe_resource",
]

#: A resource is a tuple key such as ``("shared", "hits")``, ``("cache", "users", 42)`` or
#: ``("lock", "db")``. The first item names the kind of object.
Resource = tuple[object, ...]

# Access modes in a footprint. TAKE and GIVE are writes that also change whether a blocking
# operation on the resource can run: TAKE makes it unavailable (a lock taken, a semaphore's last
# permit, an event cleared), GIVE makes it available (a lock freed, a permit returned to an
# empty semaphore, an event set, a thread ended). DPOR needs them to reverse a race whose later
# step could not have run before the earlier one (see ``_engine/_dpor.py``).
READ: Final = 0
WRITE: Final = 1
TAKE: Final = 2
GIVE: Final = 3

#: What an operation touches: ``(resource, mode)`` pairs.
Footprint = tuple[tuple[Resource, int], ...]


class Kind(StrEnum):
    """What an operation does (``Operation.kind``); a ``str``, so ``op.kind == "read"`` works.

    The kinds after a try or timed call are what it did when it ran (see ``resolve``).
    """

    READ = "read"
    WRITE = "write"
    UPDATE = "update"  # an atomic read-modify-write
    ACQUIRE = "acquire"  # took the lock (or a permit)
    ACQUIRE_FAILED = "acquire-failed"  # a try or timed acquire that did not get it
    REENTER = "reenter"  # an RLock owner acquiring again
    RELEASE = "release"
    RELEASE_NESTED = "release-nested"  # an inner RLock release: still held
    WAIT = "wait"
    WAIT_TIMEOUT = "wait-timeout"
    WAKE = "wake"
    WAKE_TIMEOUT = "wake-timeout"
    NOTIFY = "notify"
    SPAWN = "spawn"
    END = "end"  # a thread with a handle finishing
    JOIN = "join"
    JOIN_TIMEOUT = "join-timeout"
    YIELD = "yield"  # a pure scheduling point
    ERROR = "error"  # failed at once (SQLite's immediate BUSY)


#: Kinds whose default footprint reads their resource; kinds in ``_NO_ACCESS`` touch nothing;
#: every other kind writes its resource.
_READ_KINDS: Final = frozenset(
    {
        Kind.READ,
        Kind.ACQUIRE_FAILED,
        Kind.WAIT,
        Kind.WAIT_TIMEOUT,
        Kind.JOIN,
        Kind.JOIN_TIMEOUT,
        Kind.WAKE,
    }
)
_NO_ACCESS: Final = frozenset({Kind.YIELD, Kind.REENTER, Kind.RELEASE_NESTED})
# (A frozenset rather than ``Kind.WRITE`` & co.: an enum member read off its class is slow.)
_WRITE_KINDS: Final = frozenset({Kind.WRITE, Kind.UPDATE})

Resolver = Callable[["Runtime", "SimThread"], "Operation"]


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
            ``acquire-failed`` (a try or timed acquire that did not get it), ``reenter`` (an
            ``RLock`` owner acquiring again), ``release``, ``release-nested`` (an inner
            ``RLock`` release), ``wait``, ``wait-timeout``, ``wake``, ``notify``, ``spawn``,
            ``end`` (a started thread finishing), ``join``, ``join-timeout``, ``yield`` or
            ``error`` (an operation that failed at once, such as SQLite's immediate BUSY).
        resource: the tuple key of what it touches, for example ``("shared", "hits")``.
        label: an optional human label shown in reports (``"get"``, ``"set"``, a SQL text).
        footprint: the ``(resource, mode)`` pairs it reads or writes (derived from ``kind``
            and ``resource`` unless given).
        resolve: for an operation whose outcome depends on the state when it runs, a function
            ``(runtime, thread) -> Operation`` giving what it does if it runs now (for a
            blocked operation: what it does once it can run); ``None`` otherwise.
        potential: the resolved operation with the widest footprint among its outcomes (for
            the unresolved one and for every outcome of it): what the step may touch when it
            runs in another order.

    Operations are immutable by convention and shared: a primitive builds its operations once
    and issues the same object at every call, which keeps the hot path allocation-free.
    (A plain slotted class rather than a frozen dataclass: it is built on the hot path.)
    """

    __slots__ = ("footprint", "kind", "label", "potential", "resolve", "resource")

    kind: str
    resource: Resource
    label: str | None
    footprint: Footprint
    resolve: Resolver | None
    potential: Operation

    def __init__(
        self,
        kind: str,
        resource: Resource,
        label: str | None = None,
        *,
        footprint: Footprint | None = None,
        resolve: Resolver | None = None,
        potential: Operation | None = None,
    ) -> None:
        self.kind = kind
        self.resource = resource
        self.label = label
        if footprint is None:
            if not resource or kind in _NO_ACCESS:
                footprint = ()
            else:
                footprint = ((resource, READ if kind in _READ_KINDS else WRITE),)
        self.footprint = footprint
        self.resolve = resolve
        self.potential = self if potential is None else potential

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
        return self.kind in _WRITE_KINDS

    def describe(self) -> str:
        """A short text such as ``read shared 'hits'`` for reports."""
        what = self.label or self.kind
        return f"{what} {describe_resource(self.resource)}"


class RacyOperation(Operation):
    """An access the user declared intentionally racy (``Shared(..., racy=True)``): it is
    scheduled like any other, but the data-race detector never reports it."""

    __slots__ = ()


def conflict(a: Footprint, b: Footprint) -> bool:
    """Do two footprints conflict: a common resource that one of them writes?

    Resources are compared as keys: one that is a prefix of the other (a whole cache and one of
    its keys) is the same resource for this purpose.
    """
    for ra, ma in a:
        la = len(ra)
        for rb, mb in b:
            if not (ma or mb):
                continue  # two reads commute
            if ra == rb:
                return True
            lb = len(rb)
            if la < lb:
                if rb[:la] == ra:
                    return True
            elif lb < la and ra[:lb] == rb:
                return True
    return False


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
