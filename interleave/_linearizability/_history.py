"""Histories of concurrent calls, read off executions, and every real-time order they allow.

Each call of a scenario is recorded between two hand-placed yield points of its thread (steps
in the trace, labelled ``call m(args)`` and ``-> result``)::

    t1:  [call increment()] [get counter] [set counter] [-> 1]   [call get()] [get counter] ...
          invocation         the object's own steps      response

Code between two steps runs atomically, as everywhere in interleave: the object's work between
its own yield points, and the recording of the call's result right after its last one.

The two marks conflict with nothing (they have no resource), so exploring does not multiply the
executions by their orders. Instead the checker considers every real-time order the execution
allows. Steps that do not conflict may run in any order without changing any result (this is
what DPOR relies on), so one explored execution stands for all the orders of its independent
steps: its *happens-before* partial order (program order, conflicting footprints, thread
spawns) says which. For the real-time order of calls only the first and the last step of each
call matter (the marks can move next to them), and a history with *more* "a returned before b
was invoked" pairs is harder to linearize than one with fewer (any order that explains the
stronger one explains the weaker). So the checker enumerates the linear extensions of the
first/last steps, keeps the histories that are maximal in that sense, and checks each: that is
exactly as strong as exploring every order of the marks, at a fraction of the executions.

For a report, :func:`realize` turns an execution and one of its histories into a schedule of
the same steps, with the marks next to the first and last steps, whose own history is that one:
the diagram then shows the calls exactly as the explanation describes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .._core._ops import Operation, conflict
from ._checker import HistoryCall, Outcome

__all__ = [
    "Poset",
    "Span",
    "call_poset",
    "direct_before",
    "happens_before",
    "maximal_histories",
    "realize",
]


@dataclass(frozen=True, slots=True)
class Span:
    """A call as it ran: the history call, and the steps of its two marks in the trace."""

    call: HistoryCall
    invoked: int
    returned: int


def direct_before(spans: Sequence[Span]) -> tuple[int, ...]:
    """Per call, the mask of the calls whose response mark came before its invocation mark."""
    masks = []
    for span in spans:
        mask = 0
        for d, other in enumerate(spans):
            if other.returned < span.invoked:
                mask |= 1 << d
        masks.append(mask)
    return tuple(masks)


def happens_before(
    choices: Sequence[int], ops: Sequence[Operation], created_at: Sequence[int]
) -> list[list[int]]:
    """Vector clocks of an execution: ``clocks[k][u]`` is the last step of thread ``u`` that
    happens before step ``k`` (program order, a conflicting footprint, the spawn of ``k``'s
    thread), or -1; ``clocks[k][choices[k]] == k``.

    Two steps conflict as DPOR decides it (``_core._ops.conflict``): the orders of the steps
    that do not conflict are the orders this one execution stands for.
    """
    nthreads = len(created_at)
    clocks: list[list[int]] = []
    last_of = [-1] * nthreads
    steps_of: list[list[int]] = [[] for _ in range(nthreads)]
    for k, t in enumerate(choices):
        prev = last_of[t]
        if prev >= 0:
            clock = list(clocks[prev])
        elif 0 <= created_at[t] < k:
            clock = list(clocks[created_at[t]])
        else:
            clock = [-1] * nthreads
        footprint = ops[k].footprint
        if footprint:
            for u in range(nthreads):
                if u == t:
                    continue
                # Only the latest conflicting step of each thread matters: the earlier ones
                # are ordered before it by program order.
                seen = clock[u]
                mine = steps_of[u]
                for j in range(len(mine) - 1, -1, -1):
                    step = mine[j]
                    if step <= seen:
                        break
                    other = ops[step].footprint
                    if other and conflict(other, footprint):
                        theirs = clocks[step]
                        for v in range(nthreads):
                            if theirs[v] > clock[v]:
                                clock[v] = theirs[v]
                        break
        clock[t] = k
        clocks.append(clock)
        steps_of[t].append(k)
        last_of[t] = k
    return clocks


def _ends(choices: Sequence[int], spans: Sequence[Span]) -> tuple[list[int], list[int]]:
    """Per call, its first and last step of its own (the invocation mark when it has none)."""
    firsts: list[int] = []
    lasts: list[int] = []
    for span in spans:
        t = span.call.thread
        own = [k for k in range(span.invoked + 1, span.returned) if choices[k] == t]
        firsts.append(own[0] if own else span.invoked)
        lasts.append(own[-1] if own else span.invoked)
    return firsts, lasts


@dataclass(frozen=True, slots=True)
class Poset:
    """The first and last steps of an execution's calls, ordered by happens-before: all
    :func:`maximal_histories` needs (executions with the same one have the same histories).

    ``preds[e]`` is the mask of the events before event ``e``; ``first_of[e]`` the call that
    ``e`` starts (-1: none), ``last_of[e]`` the call it ends (-1: none).
    """

    preds: tuple[int, ...]
    first_of: tuple[int, ...]
    last_of: tuple[int, ...]
    calls: int


def call_poset(choices: Sequence[int], clocks: list[list[int]], spans: Sequence[Span]) -> Poset:
    """The :class:`Poset` of an execution.

    Events are numbered by call (each call's first step, then its last), not by when they
    ran: executions that order the same calls the same way get equal posets (and share the
    answer of :func:`maximal_histories`).
    """
    firsts, lasts = _ends(choices, spans)
    events = list(dict.fromkeys(step for pair in zip(firsts, lasts, strict=True) for step in pair))
    index = {step: i for i, step in enumerate(events)}
    m = len(events)
    preds = [0] * m
    for b, k in enumerate(events):
        clock = clocks[k]
        mask = 0
        for a, i in enumerate(events):
            if i != k and clock[choices[i]] >= i:
                mask |= 1 << a
        preds[b] = mask
    first_of = [-1] * m
    last_of = [-1] * m
    for c, step in enumerate(firsts):
        first_of[index[step]] = c
    for c, step in enumerate(lasts):
        last_of[index[step]] = c
    return Poset(tuple(preds), tuple(first_of), tuple(last_of), len(spans))


def maximal_histories(poset: Poset) -> list[tuple[int, ...]]:
    """Every maximal real-time order of the calls over the orders the execution stands for.

    Returns a sorted list of ``before`` tuples (per call, the mask of the calls that returned
    before it was invoked). Every other order the execution allows has a subset of the pairs
    of one of them.
    """
    preds, first_of, last_of = poset.preds, poset.first_of, poset.last_of
    m = len(preds)
    full = (1 << m) - 1
    found: set[tuple[int, ...]] = set()
    visited: set[tuple[int, tuple[int, ...]]] = set()

    def extend(done: int, finished: int, before: tuple[int, ...]) -> None:
        # A call's last step taken as early as it can be only adds "returned before" pairs:
        # take every enabled one that starts no call at once, and branch on the others.
        progress = True
        while progress:
            progress = False
            for e in range(m):
                if not done >> e & 1 and first_of[e] < 0 and preds[e] & ~done == 0:
                    done |= 1 << e
                    finished |= 1 << last_of[e]
                    progress = True
        if done == full:
            found.add(before)
            return
        key = (done, before)
        if key in visited:
            return
        visited.add(key)
        for e in range(m):
            if done >> e & 1 or preds[e] & ~done:
                continue
            c = first_of[e]
            ends = finished | (1 << c if last_of[e] == c else 0)
            extend(done | 1 << e, ends, (*before[:c], finished, *before[c + 1 :]))

    extend(0, 0, (0,) * poset.calls)
    # Keep the maximal ones: each history as one bit mask of its pairs, for a fast subset test.
    n = poset.calls
    histories = sorted(found)
    packed = [sum(mask << (c * n) for c, mask in enumerate(h)) for h in histories]
    return [
        h
        for h, bits in zip(histories, packed, strict=True)
        if not any(other != bits and bits & ~other == 0 for other in packed)
    ]


def realize(
    choices: Sequence[int],
    clocks: list[list[int]],
    spans: Sequence[Span],
    before: Sequence[int],
) -> list[int]:
    """A schedule of the execution's steps whose own history is ``before`` (one of
    :func:`maximal_histories`): the steps in a new order, as indices into the execution.

    The order keeps every happens-before pair, puts each invocation mark right before its
    call's first step and each response mark right after its last, and otherwise prefers to
    keep running the same thread (few preemptions). Being maximal, ``before`` is then exactly
    the history of the result.

    Raises:
        ValueError: no such order (``before`` does not come from this execution).
    """
    firsts, lasts = _ends(choices, spans)
    n = len(choices)
    nthreads = len(clocks[0]) if clocks else 0
    # Extra requirements: a call's first step waits for the last steps of the calls that must
    # have returned before it was invoked.
    needs: dict[int, list[int]] = {}
    for c, mask in enumerate(before):
        for d in range(len(spans)):
            if mask >> d & 1:
                needs.setdefault(firsts[c], []).append(lasts[d])
    glue_after: dict[int, int] = {}  # invocation mark -> first step; last step -> response mark
    for c, span in enumerate(spans):
        if firsts[c] != span.invoked:
            glue_after[span.invoked] = firsts[c]
        glue_after[lasts[c]] = span.returned
    queues: list[list[int]] = [[] for _ in range(nthreads)]
    for k, t in enumerate(choices):
        queues[t].append(k)
    heads = [0] * nthreads
    last_done = [-1] * nthreads
    done = [False] * n

    def ready(k: int) -> bool:
        clock = clocks[k]
        t = choices[k]
        for u in range(nthreads):
            if u != t and clock[u] > last_done[u]:
                return False
        return all(done[j] for j in needs.get(k, ()))

    def startable(k: int) -> bool:
        # An invocation mark waits until its call's first step can follow it at once.
        first = first_after_mark.get(k)
        return ready(k) and (first is None or ready(first))

    first_after_mark = {
        span.invoked: firsts[c] for c, span in enumerate(spans) if firsts[c] != span.invoked
    }
    order: list[int] = []

    def take(k: int) -> None:
        t = choices[k]
        done[k] = True
        last_done[t] = k
        heads[t] += 1
        order.append(k)

    current = -1
    while len(order) < n:
        pick = -1
        if current >= 0 and heads[current] < len(queues[current]):
            k = queues[current][heads[current]]
            if startable(k):
                pick = current
        if pick < 0:
            for t in range(nthreads):
                if heads[t] < len(queues[t]) and startable(queues[t][heads[t]]):
                    pick = t
                    break
        if pick < 0:
            raise ValueError("no schedule of this execution has that history")
        k = queues[pick][heads[pick]]
        take(k)
        follow = glue_after.get(k)
        while follow is not None and choices[follow] == pick and not done[follow]:
            if not ready(follow):
                raise ValueError("no schedule of this execution has that history")
            take(follow)
            follow = glue_after.get(follow)
        current = pick
    return order


def outcome_label(outcome: Outcome) -> str:
    """The label of a response mark: ``-> 2`` or ``raised Empty``."""
    return outcome.describe(30)
