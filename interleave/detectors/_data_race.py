"""Data-race detection: two accesses to the same data, one a write, that nothing orders.

The detector keeps *happens-before* with vector clocks, as FastTrack-style detectors do, but
its edges are synchronisation only, not DPOR's dependency relation: two conflicting accesses
to a ``Shared`` are ordered for DPOR (they do not commute), yet nothing but the scheduler's
choice put one before the other, and that is exactly a data race. The edges:

- program order (the steps of one thread);
- a thread's start: the step that started it (``spawn``, ``Thread.start``) is before its
  first step;
- synchronisation objects (every resource that is not data: locks, semaphores, conditions,
  events, thread ends, SQLite databases, and the locks ``queue.Queue`` is built on): a step
  that *publishes* on one (its footprint gives or writes it: a release, ``set``, ``notify``,
  a thread's end, a statement that changes the database) is before every later step that
  *observes* it (any successful operation on it: the acquire that takes the lock, the
  ``wait`` that returns, the ``join``, a later statement). An operation that failed or timed
  out (a try-acquire that found the lock busy, a wait that timed out) observes nothing;
- atomic operations on data (``update``, ``Counter.add``) both observe and publish their
  variable, as atomics do in other languages, and are never part of a race.

The data accesses checked are the plain reads and writes of ``Shared``, ``Counter`` and
``Cache`` (a key, or the whole cache for ``clear``/``len``) and of traced attributes and items.
``interleave.point`` resources are neither data nor synchronisation: they are ignored.

For each thread and resource the accesses are kept in program order; a new access scans each
other thread's list from the end and stops at the first access already ordered before it
(every earlier one is ordered too, by program order). Of the accesses a thread made from one
line (reading, or writing), only the latest is kept: when an earlier one is unordered with a
new access, so is the latest (were the latest ordered before it, the earlier would be too, by
program order), and both make the same pair of lines. A loop's list stays one entry long.

The detector is :class:`Rewindable`: every change a step makes is logged with the old value,
so an exploration carries one detector across its executions and only feeds it the steps
that differ from the previous execution's (see ``_core/_memo.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, NamedTuple

from .._core._findings import DataRace, Finding
from .._core._memo import MISSING, Rewindable
from .._core._native import mypyc_attr
from .._core._ops import (
    GIVE,
    READ,
    WRITE,
    Kind,
    Location,
    Operation,
    RacyOperation,
    Resource,
    describe_resource,
)

if TYPE_CHECKING:
    from .._core._threads import SimThread
    from .._core._views import ExecutionView

__all__ = ["DATA_KINDS", "DataRaceDetector", "race_signature"]

#: Resource kinds whose plain reads and writes are checked for races.
DATA_KINDS: Final = frozenset({"shared", "counter", "cache", "attr", "item"})
#: Resource kinds that are neither data nor synchronisation.
_IGNORED: Final = frozenset({"point"})
#: Operations that ran without getting what they waited for: they observe nothing.
_FAILED: Final = frozenset(
    {Kind.ACQUIRE_FAILED, Kind.WAIT_TIMEOUT, Kind.WAKE_TIMEOUT, Kind.JOIN_TIMEOUT, Kind.ERROR}
)

Clock = dict[int, int]
# Read at every step: module constants (an enum member read off its class is slow).
_SPAWN: Final = Kind.SPAWN
_UPDATE: Final = Kind.UPDATE


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class _Access(NamedTuple):
    epoch: int  # the thread's own clock at the access
    step: int
    write: bool
    location: Location | None


# Made at every data access: tuple.__new__ skips the named tuple's Python-level __new__.
_new_access = tuple.__new__


def race_signature(
    first: Location | None, second: Location | None, resource: Resource
) -> tuple[object, ...]:
    """What makes two races the same: their pair of lines, in either order (the resource
    when a line is unknown)."""
    a = (first.filename, first.lineno) if first is not None else describe_resource(resource)
    b = (second.filename, second.lineno) if second is not None else describe_resource(resource)
    return tuple(sorted((a, b), key=repr))


def _join(into: Clock, other: Clock, undo: list[tuple[Any, Any, Any]]) -> None:
    for tid, time in other.items():
        old = into.get(tid, 0)
        if old < time:
            undo.append((into, tid, old if old else MISSING))
            into[tid] = time


class DataRaceDetector(Rewindable):
    """Reports two conflicting accesses to data that no synchronisation orders.

    One finding per pair of source lines and execution; see the module docstring for the
    happens-before edges.
    """

    __slots__ = (
        "_accesses",
        "_clocks",
        "_pairs",
        "_races",
        "_seen",
        "_spawns",
        "_sync",
        "_under",
    )

    def __init__(self) -> None:
        super().__init__()
        self._clocks: dict[int, Clock] = {}  # per thread: its vector clock
        self._sync: dict[Resource, Clock] = {}  # per synchronisation object: what it publishes
        self._spawns: dict[int, Clock] = {}  # per step that started a thread: its clock then
        # Per data resource, per thread: its latest access from each line (read or write),
        # in program order.
        self._accesses: dict[Resource, dict[int, dict[int, _Access]]]
        self._accesses = {}
        # Per whole object (a cache), the longer keys accessed under it (its items).
        self._under: dict[Resource, tuple[Resource, ...]] = {}
        # (resource, first, second, the second's thread, signature), in the order found.
        self._races: list[tuple[Resource, _Access, _Access, int, tuple[object, ...]]] = []
        self._seen: dict[tuple[object, ...], bool] = {}  # the races' signatures
        self._pairs: dict[int, tuple[Location, Location]] = {}

    def on_step(self, index: int, thread: SimThread, op: Operation) -> None:
        # Every change is logged with the old value first (see Rewindable): the undo log.
        undo = self._undo
        self._marks.append(len(undo))
        tid = thread.tid
        clocks = self._clocks
        clock = clocks.get(tid)
        if clock is None:
            start = self._spawns.get(thread.created_at)
            undo.append((clocks, tid, MISSING))
            clock = clocks[tid] = {} if start is None else dict(start)
        time = clock.get(tid, 0)
        undo.append((clock, tid, time if time else MISSING))
        clock[tid] = time = time + 1
        kind = op.kind
        if kind == _SPAWN:
            # The started thread begins from this clock; the thread table the step writes
            # orders nothing else (two starts by different threads publish nothing to each
            # other).
            undo.append((self._spawns, index, MISSING))
            self._spawns[index] = dict(clock)
            return
        update = kind == _UPDATE
        for resource, mode in op.footprint:
            if not resource or resource[0] in _IGNORED:
                continue
            data = resource[0] in DATA_KINDS
            if data and not update:
                if mode in (READ, WRITE) and not isinstance(op, RacyOperation):
                    self._access(index, tid, clock, time, resource, mode == WRITE, thread)
                continue
            # Synchronisation (or an atomic update of data): observe what it published, then
            # publish this thread's clock when the step gives, writes or updates it.
            key = resource[:2]
            published = self._sync.get(key)
            if published is not None and kind not in _FAILED:
                _join(clock, published, undo)
            if data or mode in (WRITE, GIVE):
                if published is None:
                    undo.append((self._sync, key, MISSING))
                    self._sync[key] = dict(clock)
                else:
                    _join(published, clock, undo)

    def _access(
        self,
        index: int,
        tid: int,
        clock: Clock,
        time: int,
        resource: Resource,
        write: bool,
        thread: SimThread,
    ) -> None:
        location = thread.location
        access = _new_access(_Access, (time, index, write, location))
        accesses = self._accesses
        # The same resource, a whole object it belongs to (a cache's clear() for one key),
        # and, for a whole object, every key under it.
        related: tuple[Resource, ...]
        if len(resource) == 2:
            under = self._under.get(resource)
            related = (resource,) if under is None else (resource, *under)
        else:
            related = (resource, *(resource[:k] for k in range(len(resource) - 1, 1, -1)))
        # Run at every access of every step: a pair of lines already reported in this
        # execution (the common case in a loop) is skipped here, before any call.
        pairs = self._pairs
        mine = id(location) if location is not None else -1  # (-1: never a known pair)
        for other in related:
            per_thread = accesses.get(other)
            if per_thread is None:
                continue
            for u, listed in per_thread.items():
                if u == tid:
                    continue
                seen_by_me = clock.get(u, 0)
                for earlier in reversed(listed.values()):
                    if earlier[0] <= seen_by_me:
                        break  # ordered before this access, and so is everything before it
                    if (earlier[2] or write) and (id(earlier[3]) << 64 | mine) not in pairs:
                        named = other if len(other) > len(resource) else resource
                        self._found(named, earlier, access, tid)
        undo = self._undo
        per_thread = accesses.get(resource)
        if per_thread is None:
            undo.append((accesses, resource, MISSING))
            per_thread = accesses[resource] = {}
            if len(resource) > 2:
                whole = resource[:2]
                under = self._under.get(whole)
                undo.append((self._under, whole, MISSING if under is None else under))
                self._under[whole] = (resource,) if under is None else (*under, resource)
        # The latest access from this line (and of this kind) stands for the earlier ones:
        # moved to the end, so the entries stay in program order. Keyed by the identity of
        # the line's shared Location (kept alive by the entry) and the kind: an int, cheap
        # to hash; an equal Location made again only keeps one entry more.
        key = id(location) << 1 | write
        entries = per_thread.get(tid)
        if entries is None:
            undo.append((per_thread, tid, MISSING))
            per_thread[tid] = {key: access}
        elif key in entries:
            # Moved, not set: a new dict in its place, so that rewinding (putting the old
            # dict back) restores the order too.
            undo.append((per_thread, tid, entries))
            entries = per_thread[tid] = {k: a for k, a in entries.items() if k != key}
            entries[key] = access
        else:
            undo.append((entries, key, MISSING))
            entries[key] = access

    def _found(self, resource: Resource, first: _Access, second: _Access, tid: int) -> None:
        # A loop meets the same pair of lines at every turn: _access looks the pair up
        # before calling here. Locations are shared per line (``user_location``), so a pair
        # is keyed by identity (cheap to hash); the dict keeps both alive, so no id is reused
        # while it stands for them. An unknown line is never a known pair: its races are
        # told apart by the signature.
        undo = self._undo
        a, b = first.location, second.location
        if a is not None and b is not None:
            pair = id(a) << 64 | id(b)
            undo.append((self._pairs, pair, self._pairs.get(pair, MISSING)))
            self._pairs[pair] = (a, b)
        signature = race_signature(first.location, second.location, resource)
        if signature in self._seen:
            return
        undo.append((self._seen, signature, MISSING))
        self._seen[signature] = True
        undo.append((self._races, len(self._races), MISSING))
        self._races.append((resource, first, second, tid, signature))

    def on_finish(self, execution: ExecutionView) -> list[Finding]:
        if not self._races:
            return []
        threads = execution.threads
        choices = execution.choices
        known = execution.known
        findings: list[Finding] = []
        for resource, first, second, tid, signature in self._races:
            kept = known.get((DataRace.kind, *signature)) if known else None
            if kept is not None:
                findings.append(kept)  # the explorer only counts it (ExecutionView.known)
                continue
            one, two = threads[choices[first.step]].name, threads[tid].name
            what = describe_resource(resource)
            a, b = _verb(first.write), _verb(second.write)
            findings.append(
                DataRace(
                    message=(
                        f"{one} {a} {what} at {_at(first)} and {two} {b} it at {_at(second)}, "
                        "with nothing ordering the two accesses (no lock, join, event or "
                        "other synchronisation between them): they race, whatever the values "
                        "this time"
                    ),
                    threads=(one, two),
                    steps=(first.step, second.step),
                    resource=resource,
                    first_step=first.step,
                    second_step=second.step,
                    first_access="write" if first.write else "read",
                    second_access="write" if second.write else "read",
                    first_location=first.location,
                    second_location=second.location,
                    signature=signature,
                )
            )
        return findings


def _verb(write: bool) -> str:
    return "wrote" if write else "read"


def _at(access: _Access) -> str:
    where = access.location
    return f"step {access.step}" + (f" ({where})" if where is not None else "")
