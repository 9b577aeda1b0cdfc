"""The race analysis's bookkeeping for DPOR (``_dpor.py``): which earlier steps of an execution
may conflict with a step, found fast.

Accesses are grouped by resource root (a kind and an object's name); within a group, per
thread, the latest step that conflicts with an access and is not already ordered before it by
happens-before (a vector clock) is a race candidate. A waiting step enabled by a release is
reversed before the step that took the resource (the lock hand-off, see ``_dpor.py``).
"""

from __future__ import annotations

from .._core._ops import GIVE, Operation, Resource

__all__ = ["Accesses", "groups_of", "handoff", "join_clocks", "latest_conflicts"]


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
