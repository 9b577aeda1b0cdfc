"""The race analysis's bookkeeping for DPOR (``_dpor.py``): happens-before over the current
path (:class:`Analysis`, kept from one execution to the next) and which earlier steps of an
execution may conflict with a step, found fast.

Accesses are grouped by resource root (a kind and an object's name); within a group, per
thread, the latest step that conflicts with an access and is not already ordered before it by
happens-before (a vector clock) is a race candidate. A waiting step enabled by a release is
reversed before the step that took the resource (the lock hand-off, see ``_dpor.py``).
"""

from __future__ import annotations

from .._core._ops import GIVE, READ, TAKE, Footprint, Operation, Resource
from .._core._program import RunOutcome

__all__ = [
    "Accesses",
    "Analysis",
    "Event",
    "groups_of",
    "handoff",
    "join_clocks",
    "latest_conflicts",
]

# An event of an analysed execution: (thread, operation, thread it spawns or -1).
Event = tuple[int, Operation, int]


def join_clocks(into: list[int], other: list[int]) -> None:
    for x, v in enumerate(other):
        if v > into[x]:
            into[x] = v


def prefix_related(a: Resource, b: Resource) -> bool:
    """The same resource, or one a prefix of the other (a whole cache and one of its keys)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if la < lb:
        return b[:la] == a
    return lb < la and a[:lb] == b


# Per resource root (its first two items), per thread: the steps that read and those that
# write it, as (step, resource) in execution order.
Accesses = tuple[list[tuple[int, Resource]], list[tuple[int, Resource]]]


def groups_of(
    groups: dict[Resource, dict[int, Accesses]],
    by_kind: dict[Resource, list[Resource]],
    resource: Resource,
) -> list[dict[int, Accesses]]:
    """The groups whose resources may be prefix-related to ``resource``.

    Resources are grouped by their first two items (a kind and an object's name), which
    keeps the scan short; a one-item resource (a whole kind, such as ``("history",)``) is a
    prefix of every resource of its kind, so it meets every group of that kind, and every
    resource meets the one-item group of its kind.
    """
    if len(resource) == 1:
        return [groups[key] for key in by_kind.get(resource, ())]
    found = []
    group = groups.get(resource[:2])
    if group is not None:
        found.append(group)
    whole = groups.get(resource[:1])
    if whole is not None:
        found.append(whole)
    return found


def latest_conflicts(
    group: dict[int, Accesses],
    t: int,
    clock: list[int],
    resource: Resource,
    reading: bool,
    candidates: list[int],
) -> None:
    """Add, per thread other than ``t``, its latest step in ``group`` that conflicts with an
    access to ``resource`` and is not ordered before the step already (``clock``)."""
    # Run for every access of every step of every execution: the scan is inlined (the
    # exact-resource test before the prefix one, most conflicts are on the same resource).
    for u, (reads, writes) in group.items():
        if u == t:
            continue
        floor = clock[u]  # steps at or before it are ordered before k already
        best = -1
        for i, other in reversed(writes):
            if i <= floor:
                break
            if other == resource or prefix_related(other, resource):
                best = floor = i
                break
        if not reading:
            for i, other in reversed(reads):
                if i <= floor:
                    break  # already ordered before k (or a later write was found)
                if other == resource or prefix_related(other, resource):
                    best = i
                    break
        if best >= 0:
            candidates.append(best)


def handoff(give: Operation, waiting: Operation, takes: dict[Resource, int]) -> int:
    """The step before which to reverse a waiting step enabled by ``give``, or -1."""
    best = -1
    for resource, mode in give.footprint:
        if mode != GIVE:
            continue
        if any(resource == other for other, _ in waiting.footprint):
            best = max(best, takes.get(resource, -1))
    return best


class Analysis:
    """Happens-before over the current path, kept from one execution to the next.

    Vector clocks: ``clocks[k][u]`` is the latest step of thread ``u`` ordered before step
    ``k`` (program order, spawn, conflicts), or -1. For each step only the latest conflicting
    step of every other thread can be an immediate race (earlier ones are ordered before it by
    program order), so per resource and thread the steps are kept in lists and scanned from
    the end.

    Everything here about step ``k`` depends only on the steps up to ``k``, and every
    execution replays the path's prefix exactly (the chooser checks it): so the analysis of
    the shared prefix is kept, and each execution only undoes the previous one's steps past
    the point where the two part (:meth:`truncate`) and analyses its own from there
    (:meth:`extend`). Without this, the race analysis re-ran over every replayed step: most
    of DPOR's cost per execution.
    """

    __slots__ = (
        "by_kind",
        "choices",
        "clocks",
        "events",
        "executed",
        "groups",
        "last_of",
        "last_take",
        "ops",
        "prev_step",
        "take_before",
        "take_undo",
        "zero",
    )

    def __init__(self) -> None:
        self.choices: list[int] = []
        self.executed = 0  # the steps that ran (pending operations may follow them)
        self.ops: list[Operation] = []
        self.events: list[Event] = []
        self.clocks: list[list[int]] = []
        self.prev_step: list[int] = []  # the same thread's previous step, or -1
        self.last_of: list[int] = []  # per thread, its latest analysed step, or -1
        self.groups: dict[Resource, dict[int, Accesses]] = {}
        self.by_kind: dict[Resource, list[Resource]] = {}  # a resource's kind -> groups' keys
        # For a step that makes a resource available (GIVE), the last step that had made it
        # unavailable (TAKE) before it: where a waiting step's race with it is reversed.
        self.last_take: dict[Resource, int] = {}
        self.take_before: dict[int, dict[Resource, int]] = {}
        # Per step, what its TAKEs overwrote in ``last_take`` (to undo it).
        self.take_undo: list[list[tuple[Resource, int]] | None] = []
        self.zero: list[int] = []  # the clock before any step

    def truncate(self, length: int) -> None:
        """Forget the steps from ``length`` on (newest first: each undo is exact)."""
        choices, ops, groups = self.choices, self.ops, self.groups
        last_of, prev_step = self.last_of, self.prev_step
        # Pending operations (after ``executed``) changed nothing but the lists themselves.
        del choices[max(length, self.executed) :]
        for k in range(len(choices) - 1, length - 1, -1):
            t = choices[k]
            last_of[t] = prev_step[k]
            for resource, mode in reversed(ops[k].footprint):
                groups[resource[:2]][t][0 if mode == READ else 1].pop()
            undo = self.take_undo[k]
            if undo is not None:
                last_take = self.last_take
                for resource, before in reversed(undo):
                    if before < 0:
                        del last_take[resource]
                    else:
                        last_take[resource] = before
            self.take_before.pop(k, None)
        del choices[length:]
        self.executed = min(self.executed, length)
        del ops[length:]
        del self.events[length:]
        del self.clocks[length:]
        del prev_step[length:]
        del self.take_undo[length:]

    def _threads(self, n: int) -> None:
        # A later execution may have more threads (one spawned on another branch): widen
        # every clock; never narrower, so clocks of the kept prefix and new ones always match.
        grow = n - len(self.zero)
        if grow > 0:
            pad = [-1] * grow
            for clock in self.clocks:
                clock.extend(pad)
            self.last_of.extend(pad)
            self.zero.extend(pad)

    def _start(self, t: int, created_at: tuple[int, ...]) -> list[int]:
        # A step starts from its thread's previous step's clock (program order); a thread's
        # first step from the clock of the step that started the thread (spawn).
        prev = self.last_of[t]
        if prev >= 0:
            return list(self.clocks[prev])
        created = created_at[t]
        return list(self.clocks[created]) if 0 <= created < len(self.clocks) else list(self.zero)

    def _analyse(
        self,
        k: int,
        t: int,
        footprint: Footprint,
        clock: list[int],
        new_from: int,
        races: list[tuple[int, int]],
    ) -> None:
        # Per other thread, its latest conflicting step not yet ordered before this one: an
        # earlier conflicting step of that thread is ordered before that one by program
        # order, so it cannot be an immediate race with k (something lies between them).
        groups, by_kind = self.groups, self.by_kind
        candidates: list[int] = []
        for resource, mode in footprint:
            reading = mode == READ
            for group in groups_of(groups, by_kind, resource):
                # A read conflicts with writes only; a write with both (reads commute).
                latest_conflicts(group, t, clock, resource, reading, candidates)
        if not candidates:
            return
        # Latest first: a candidate ordered before k through a later candidate (joined into
        # k's clock first) has a step between it and k, so it is no immediate race.
        candidates.sort(reverse=True)
        choices, clocks = self.choices, self.clocks
        for i in candidates:
            if clock[choices[i]] >= i:
                continue
            # Races whose later step lies in the part of the path this execution shares with
            # the previous ones were analysed when that part was new; only the new part is.
            if k >= new_from:
                races.append((i, k))
            join_clocks(clock, clocks[i])

    def extend(
        self, outcome: RunOutcome, length: int, new_from: int, races: list[tuple[int, int]]
    ) -> None:
        """Analyse the execution's steps up to ``length`` that are not analysed yet (the
        caller truncated to the prefix it shares with the last one); add the races whose
        later step is at ``new_from`` or after."""
        created_at = outcome.created_at
        self._threads(len(created_at))
        spawn_child = {created: tid for tid, created in enumerate(created_at) if created >= 0}
        new_choices, new_ops = outcome.choices, outcome.ops
        choices, ops, events, clocks = self.choices, self.ops, self.events, self.clocks
        groups, by_kind, last_of = self.groups, self.by_kind, self.last_of
        last_take, take_before = self.last_take, self.take_before
        for k in range(len(choices), length):
            t = new_choices[k]
            op = new_ops[k]
            choices.append(t)
            ops.append(op)
            events.append((t, op, spawn_child.get(k, -1)))
            self.prev_step.append(last_of[t])
            clock = self._start(t, created_at)
            footprint = op.footprint
            undo: list[tuple[Resource, int]] | None = None
            if footprint:
                self._analyse(k, t, footprint, clock, new_from, races)
                for resource, mode in footprint:
                    key = resource[:2]
                    found = groups.get(key)
                    if found is None:
                        found = groups[key] = {}
                        by_kind.setdefault(resource[:1], []).append(key)
                    lists = found.get(t)
                    if lists is None:
                        lists = found[t] = ([], [])
                    lists[0 if mode == READ else 1].append((k, resource))
                    # Remember, for each step that made a resource available again, the step
                    # that had made it unavailable: a waiting step this one let run is
                    # reversed there.
                    if mode == GIVE:
                        take_before.setdefault(k, {})[resource] = last_take.get(resource, -1)
                    elif mode == TAKE:
                        if undo is None:
                            undo = []
                        undo.append((resource, last_take.get(resource, -1)))
                        last_take[resource] = k
            self.take_undo.append(undo)
            clock[t] = k
            clocks.append(clock)
            last_of[t] = k
        self.executed = len(choices)

    def pending(self, outcome: RunOutcome, new_from: int, races: list[tuple[int, int]]) -> None:
        """Analyse the operations left pending at the end of an execution cut short (a
        deadlock, a step limit) as steps after the executed ones (each one's ``prev_step``
        is its thread's last executed step). The caller truncates them away after planting."""
        # They conflict with what did run, and those races must be reversed too, or the
        # orders in which they run earlier would never be explored. They follow the executed
        # steps, not each other (nothing of theirs is added to the groups), and may run with
        # any of their outcomes (``potential``).
        for t, pending in sorted(outcome.pending.items()):
            op = pending.potential
            if not op.footprint:
                continue
            k = len(self.choices)
            self.choices.append(t)
            self.ops.append(op)
            self.events.append((t, op, -1))
            self.prev_step.append(self.last_of[t])
            self.take_undo.append(None)
            clock = self._start(t, outcome.created_at)
            self._analyse(k, t, op.footprint, clock, new_from, races)
            clock[t] = k
            self.clocks.append(clock)
