"""Dynamic partial-order reduction: one execution per Mazurkiewicz trace (plus sleep sets).

Two executions that differ only in the order of *independent* operations (reads of the same
resource, accesses to different resources) are equivalent: they reach the same state and the
same findings. DPOR explores one representative per equivalence class (Mazurkiewicz trace).

This is source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014), run
statelessly: every execution replays the current path from the start, then the explorer
analyses the finished execution for *races* and adds backtrack points.

The exploration state is the path of the current execution, one node per step::

    depth  node: enabled   pending ops   sleep      backtrack   done   current
      0         {A,B}     A:w(x) B:r(x)  {}         {A,B}       {A}    B
      1         {A,B}     ...            {}         {A}         {}     A
      2         ...

* ``backtrack`` is the set of threads that must be tried at that node (a source set);
* ``done`` the threads already tried;
* ``sleep`` the threads that need not be tried because an equivalent execution was already
  explored (their next operation is independent of everything run since).

After an execution, each *race* ``e ⋖ e'`` (dependent operations of different threads, with no
third event ordered between them) in the new part of the execution asks for the reversed order
to be explored: at the node before ``e``, some initial thread of ``notdep(e).e'`` must be in the
backtrack set. Lock hand-offs (a release followed by another thread's acquire) are reversed at
the releasing thread's *acquire*, since the other thread cannot acquire a held lock.

An execution whose every enabled thread sleeps is redundant (sleep-set blocked); it is finished
with the default policy, its findings kept, and it is not counted as a new trace.
"""

from __future__ import annotations

from typing import ClassVar

from .._core._ops import Operation
from .._core._runtime import Chooser, RunOutcome, Runtime
from .._core._threads import SimThread
from ._strategies import Strategy, _nondeterminism

__all__ = ["DporStrategy", "dependent"]


def dependent(a: Operation, b: Operation) -> bool:
    """Do two operations of different threads conflict (their order can matter)?

    They touch the same resource (or one resource is a prefix of the other, like a whole cache
    and one of its keys) and at least one of them is not a plain read. Operations without a
    resource (pure scheduling points) conflict with nothing.
    """
    ra, rb = a.resource, b.resource
    if not ra or not rb:
        return False
    if ra != rb:
        la, lb = len(ra), len(rb)
        if la == lb:
            return False
        if la < lb:
            if rb[:la] != ra:
                return False
        elif ra[:lb] != rb:
            return False
    return not (a.kind == "read" and b.kind == "read")


class _Node:
    __slots__ = ("backtrack", "current", "done", "enabled", "last", "ops", "pre", "sleep")

    def __init__(
        self,
        enabled: tuple[int, ...],
        ops: dict[int, Operation],
        sleep: dict[int, Operation],
        current: int,
    ) -> None:
        self.enabled = enabled
        self.ops = ops
        self.sleep = sleep
        self.backtrack = {current}
        self.done: list[int] = []
        self.current = current
        self.pre = 0  # preemptions on the path before this node
        self.last: int | None = None  # the thread that ran last, if it could continue here


class DporStrategy(Strategy):
    """Exhaustive search with source-set DPOR and sleep sets (see the module docs)."""

    complete: ClassVar[bool] = True
    name: ClassVar[str] = "dpor"

    def __init__(self, preemption_bound: int | None = None) -> None:
        self.bound = preemption_bound
        self.cut = False
        self.stack: list[_Node] = []
        self._started = False
        self.exhausted = False
        self.new_from = 0
        self.redundant = 0
        self._chooser: _DporChooser | None = None

    def next_chooser(self) -> Chooser | None:
        if self._started and not self.stack:
            self.exhausted = True
            return None
        self._started = True
        self._chooser = _DporChooser(self.stack)
        return self._chooser

    def describe(self) -> str:
        return self.name if self.bound is None else f"{self.name} (preemption bound {self.bound})"

    def is_redundant(self) -> bool:
        """Was the last execution sleep-set blocked (equivalent to an explored one)?"""
        return self._chooser is not None and self._chooser.blocked_at is not None

    def record(self, runtime: Runtime, outcome: RunOutcome) -> None:
        chooser = self._chooser
        assert chooser is not None
        stack = self.stack
        analysed = len(stack)
        if chooser.blocked_at is not None:
            self.redundant += 1
            analysed = min(analysed, chooser.blocked_at)
        del stack[len(runtime.choices) :]
        analysed = min(analysed, len(runtime.choices))
        self._add_backtracks(runtime, analysed)
        # Move to the next unexplored branch: the deepest node with a backtrack thread that
        # is neither done nor asleep.
        while stack:
            node = stack[-1]
            node.done.append(node.current)
            options = sorted(node.backtrack.difference(node.done).difference(node.sleep))
            if self.bound is not None and node.last is not None and node.pre >= self.bound:
                # A bounded search does not preempt beyond the bound: incomplete, and said so.
                allowed = [o for o in options if o == node.last]
                if len(allowed) != len(options):
                    self.cut = True
                    node.done.extend(o for o in options if o != node.last)
                options = allowed
            if options:
                node.current = options[0]
                self.new_from = len(stack) - 1
                return
            stack.pop()

    def _add_backtracks(self, runtime: Runtime, length: int) -> None:
        choices = runtime.choices
        ops = runtime.ops
        nthreads = len(runtime.threads)
        initial = len(runtime.program.threads) if runtime.program is not None else 0
        names = {t.name: t.tid for t in runtime.threads}
        stack = self.stack
        new_from = self.new_from
        zero = [-1] * nthreads
        clocks: list[list[int]] = []
        last_of: list[int] = [-1] * nthreads
        start_clock: dict[int, list[int]] = {}
        spawned = 0
        groups: dict[tuple[object, ...], list[int]] = {}
        races: list[tuple[int, int]] = []
        for k in range(length):
            t = choices[k]
            op = ops[k]
            prev = last_of[t]
            clock = list(clocks[prev]) if prev >= 0 else list(start_clock.get(t, zero))
            if op.kind == "join" and len(op.resource) > 1:
                target = names.get(str(op.resource[1]))
                if target is not None and last_of[target] >= 0:
                    _join(clock, clocks[last_of[target]])
            resource = op.resource
            if resource:
                root = resource[:2]
                group = groups.get(root)
                if group is None:
                    groups[root] = [k]
                else:
                    # Earlier conflicting events, latest first: the ones not yet ordered
                    # before this event by what was joined so far are immediate races.
                    for i in reversed(group):
                        ti = choices[i]
                        if ti == t or clock[ti] >= i:
                            continue
                        if dependent(ops[i], op):
                            if k >= new_from:
                                races.append((i, k))
                            _join(clock, clocks[i])
                    group.append(k)
            clock[t] = k
            clocks.append(clock)
            last_of[t] = k
            if op.kind == "spawn":
                start_clock[initial + spawned] = clock
                spawned += 1
        for i, k in races:
            e = i
            if ops[i].kind == "release" and ops[k].kind == "acquire":
                # A lock hand-off: reverse it where the releasing thread acquired the lock.
                ti = choices[i]
                res = ops[i].resource
                for m in range(i - 1, -1, -1):
                    if choices[m] == ti and ops[m].resource == res and ops[m].kind == "acquire":
                        e = m
                        break
            node = stack[e]
            te = choices[e]
            notdep = [m for m in range(e + 1, k) if clocks[m][te] < e]
            initials = _initials(notdep, k, choices, clocks)
            if node.backtrack.isdisjoint(initials):
                p = choices[k]
                q = p if p in initials else min(initials)
                if q in node.enabled:
                    node.backtrack.add(q)
                else:
                    # The reversing thread is blocked here: try every enabled thread.
                    node.backtrack.update(node.enabled)


def _join(into: list[int], other: list[int]) -> None:
    for x, v in enumerate(other):
        if v > into[x]:
            into[x] = v


def _initials(
    notdep: list[int], last: int, choices: list[int], clocks: list[list[int]]
) -> set[int]:
    """Threads whose first event in ``notdep + [last]`` has no predecessor in that sequence."""
    seen: set[int] = set()
    result: set[int] = set()
    sequence = [*notdep, last]
    for pos, m in enumerate(sequence):
        tm = choices[m]
        if tm in seen:
            continue
        seen.add(tm)
        clock = clocks[m]
        if all(clock[choices[m2]] < m2 for m2 in sequence[:pos]):
            result.add(tm)
    return result


class _DporChooser:
    __slots__ = ("blocked_at", "preemptions", "stack")

    def __init__(self, stack: list[_Node]) -> None:
        self.stack = stack
        self.blocked_at: int | None = None
        self.preemptions = 0

    def _count(self, runtime: Runtime, enabled: list[SimThread], chosen: SimThread) -> SimThread:
        last = runtime.last
        if last is not None and chosen is not last and last in enabled:
            self.preemptions += 1
        return chosen

    def choose(self, runtime: Runtime, enabled: list[SimThread]) -> SimThread:
        depth = len(runtime.choices)
        if self.blocked_at is not None:
            return runtime.default_choice(enabled)
        stack = self.stack
        if depth < len(stack):
            node = stack[depth]
            if len(node.enabled) != len(enabled) or any(
                t.tid != e for t, e in zip(enabled, node.enabled, strict=True)
            ):
                raise _nondeterminism(runtime, depth, node.enabled, enabled)
            tid = node.current
            for thread in enabled:
                if thread.tid == tid:
                    return self._count(runtime, enabled, thread)
            raise AssertionError("unreachable: backtrack thread not enabled")
        sleep: dict[int, Operation] = {}
        if stack:
            parent = stack[-1]
            p_op = parent.ops[parent.current]
            for q, q_op in parent.sleep.items():
                if q != parent.current and not dependent(q_op, p_op):
                    sleep[q] = q_op
            for q in parent.done:
                q_op = parent.ops[q]
                if q != parent.current and not dependent(q_op, p_op):
                    sleep[q] = q_op
        awake = [t for t in enabled if t.tid not in sleep]
        if not awake:
            # Sleep-set blocked: every continuation is equivalent to one already explored.
            self.blocked_at = depth
            return runtime.default_choice(enabled)
        first = runtime.default_choice(awake)
        ops = {t.tid: t.pending for t in enabled}
        node = _Node(tuple(t.tid for t in enabled), ops, sleep, first.tid)  # type: ignore[arg-type]
        node.pre = self.preemptions
        last = runtime.last
        node.last = last.tid if last is not None and last in enabled else None
        stack.append(node)
        return self._count(runtime, enabled, first)
