"""Optimal dynamic partial-order reduction: one execution per Mazurkiewicz trace.

Two executions that differ only in the order of *independent* operations (reads of the same
resource, accesses to different resources) are equivalent: they reach the same state and the
same findings. DPOR explores one representative per equivalence class (Mazurkiewicz trace).

This is optimal DPOR with wakeup trees and sleep sets (Abdulla, Aronis, Jonsson, Sagonas,
POPL 2014 / JACM 2017), run statelessly: every execution replays the current path from the
start, then the finished execution is analysed for *races* which plant new wakeup sequences.

The exploration state is the path of the current execution, one node per step::

    depth  node: enabled  pending ops    sleep (+done)   current   wakeup tree (pending)
      0        {A,B}     A:w(x) B:r(x)   {A}             B         [ ]
      1        {A,B}     ...             {}              A         [B -> A]
      2        ...                                                  (B, then A)

* the *wakeup tree* of a node holds sequences that must still be explored from it, as a tree
  of (thread, operation) nodes; its leftmost branch is followed by the next execution;
* ``done`` threads were explored from the node; together with the inherited ``sleep`` set
  they need not be tried again (an equivalent execution was explored);
* after an execution, each *race* ``e ⋖ e'`` (dependent operations of different threads with
  no third event ordered between them) in its new part asks for the reversed order: with
  ``E'`` the node before ``e`` and ``v = notdep(e).e'`` (the events between them that do not
  depend on ``e``, then ``e'``), ``v`` is inserted into the wakeup tree of ``E'`` unless a
  sleeping thread of ``E'`` could start it (then an equivalent execution is already covered).

Lock hand-offs (a release followed by another thread's acquire) are reversed at the releasing
thread's *acquire*, since the other thread cannot acquire a held lock. Should an execution
still find every enabled thread asleep (possible with blocking operations), it is finished with
the default policy, its findings kept, and it is counted as sleep-set blocked, not as a trace.
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


class _WNode:
    """A node of a wakeup tree: ``tid`` performs ``op``; ``children`` continue the sequence."""

    __slots__ = ("children", "op", "spawned", "tid")

    def __init__(self, tid: int, op: Operation, spawned: int) -> None:
        self.tid = tid
        self.op = op
        self.spawned = spawned  # the thread this event creates (a spawn), else -1
        self.children: list[_WNode] = []


# An event of an analysed execution: (thread, operation, thread it spawns or -1).
_Event = tuple[int, Operation, int]


def _related(a: _Event, b: _Event) -> bool:
    """Must ``a`` stay before ``b`` when it comes first (program order, conflict, spawn)?"""
    return a[0] == b[0] or a[2] == b[0] or dependent(a[1], b[1])


def _weak_initial(tid: int, op: Operation, spawned: int, seq: list[_Event]) -> int | None:
    """Can thread ``tid`` (next doing ``op``) start a reordering of ``seq``?

    Returns the index of its first event in ``seq`` when that event has no related event
    before it, -1 when the thread does not occur in ``seq`` and its ``op`` commutes with all of
    it, and None otherwise. (A chain of related events before the thread's first event always
    contains one related to it directly, so checking direct relations is enough.)
    """
    event = (tid, op, spawned)
    for index, other in enumerate(seq):
        if other[0] == tid:
            first = seq[index]
            for earlier in seq[:index]:
                if _related(earlier, first):
                    return None
            return index
    for other in seq:
        if _related(event, other) or _related(other, event):
            return None
    return -1


class _Node:
    __slots__ = (
        "branch",
        "current",
        "done",
        "enabled",
        "last",
        "ops",
        "pre",
        "sleep",
        "wakeup",
    )

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
        self.done: list[int] = []
        self.current = current
        self.branch: _WNode | None = None  # the wakeup-tree node being followed, if any
        self.wakeup: list[_WNode] = []  # pending wakeup-tree branches, explored in order
        self.pre = 0  # preemptions on the path before this node
        self.last: int | None = None  # the thread that ran last, if it could continue here

    def asleep(self) -> dict[int, Operation]:
        """Threads not to start from here: the inherited sleep set and the explored ones."""
        result = dict(self.sleep)
        for tid in self.done:
            result[tid] = self.ops[tid]
        return result

    def insert(self, seq: list[_Event]) -> None:
        """Insert ``seq`` into the pending wakeup tree, unless it is already covered."""
        children = self.wakeup
        top = True
        while True:
            for child in children:
                index = _weak_initial(child.tid, child.op, child.spawned, seq)
                if index is None:
                    continue
                if index >= 0:
                    seq = seq[:index] + seq[index + 1 :]
                if not child.children or not seq:
                    return  # an explored-to-be branch already covers it
                children = child.children
                top = False
                break
            else:
                if not seq and not top:
                    return
                for tid, op, spawned in seq:
                    node = _WNode(tid, op, spawned)
                    children.append(node)
                    children = node.children
                return


class DporStrategy(Strategy):
    """Exhaustive search with optimal DPOR: wakeup trees and sleep sets (see the module docs)."""

    complete: ClassVar[bool] = True
    name: ClassVar[str] = "dpor"

    def __init__(self, preemption_bound: int | None = None) -> None:
        self.bound = preemption_bound
        self.cut = False
        self.stack: list[_Node] = []
        self._started = False
        self.exhausted = False
        self.new_from = 0
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
        if chooser.blocked_at is not None:  # (the explorer counts it as pruned)
            analysed = min(analysed, chooser.blocked_at)
        del stack[len(runtime.choices) :]
        analysed = min(analysed, len(runtime.choices))
        self._plant_wakeups(runtime, outcome, analysed)
        # Move to the next unexplored branch: the deepest node with a pending wakeup branch.
        while stack:
            node = stack[-1]
            node.done.append(node.current)
            node.branch = None
            while node.wakeup:
                branch = node.wakeup.pop(0)
                if branch.tid in node.sleep or branch.tid in node.done:
                    continue  # covered by an equivalent exploration
                if branch.tid not in node.enabled:
                    continue  # defensive: cannot start here
                if (
                    self.bound is not None
                    and node.last is not None
                    and node.pre >= self.bound
                    and branch.tid != node.last
                ):
                    # A bounded search does not preempt beyond the bound: incomplete.
                    self.cut = True
                    continue
                node.current = branch.tid
                node.branch = branch
                self.new_from = len(stack) - 1
                return
            stack.pop()

    def _plant_wakeups(self, runtime: Runtime, outcome: RunOutcome, length: int) -> None:
        choices = list(runtime.choices[:length])
        ops = list(runtime.ops[:length])
        nthreads = len(runtime.threads)
        initial = len(runtime.program.threads) if runtime.program is not None else 0
        names = {t.name: t.tid for t in runtime.threads}
        outcomes = outcome.trace.outcomes
        last_step = [-1] * nthreads
        for index, tid in enumerate(choices):
            last_step[tid] = index
        stack = self.stack
        new_from = self.new_from
        zero = [-1] * nthreads
        clocks: list[list[int]] = []
        last_of: list[int] = [-1] * nthreads
        start_clock: dict[int, list[int]] = {}
        spawned = 0
        spawn_child: dict[int, int] = {}
        # Events by resource root, then by thread: (reads, other operations), each a list of
        # (index, operation as far as conflicts go) in execution order.
        Lists = tuple[list[tuple[int, Operation]], list[tuple[int, Operation]]]
        groups: dict[tuple[object, ...], dict[int, Lists]] = {}
        races: list[tuple[int, int]] = []
        # A thread's end is an event too: its last step also "writes" the thread, so that
        # is_alive() and join(timeout) race with the thread finishing.
        ends: dict[int, Operation] = {}
        for thread in runtime.threads:
            last = last_step[thread.tid]
            if 0 <= last < length and outcomes[thread.tid] == "finished":
                ends[last] = Operation("write", ("thread", thread.name), "end")

        def conflicts(k: int, t: int, op: Operation, clock: list[int], keep: bool) -> None:
            group = groups.setdefault(op.resource[:2], {})
            reading = op.kind == "read"
            # Per other thread, its latest conflicting event not yet ordered before this one
            # (its earlier events are ordered before that one by program order).
            candidates = []
            for u, (reads, others) in group.items():
                if u == t:
                    continue
                seen = clock[u]
                best = -1
                for events in (others,) if reading else (others, reads):
                    for j in range(len(events) - 1, -1, -1):
                        i, i_op = events[j]
                        if i <= seen or i <= best:
                            break
                        if dependent(i_op, op):
                            best = i
                            break
                if best >= 0:
                    candidates.append(best)
            # Latest first: one ordered before this event by an event joined already is no
            # immediate race.
            candidates.sort(reverse=True)
            for i in candidates:
                if clock[choices[i]] >= i:
                    continue
                if k >= new_from:
                    races.append((i, k))
                _join(clock, clocks[i])
            if keep:
                lists = group.get(t)
                if lists is None:
                    lists = group[t] = ([], [])
                lists[0 if reading else 1].append((k, op))

        for k in range(length):
            t = choices[k]
            op = ops[k]
            prev = last_of[t]
            clock = list(clocks[prev]) if prev >= 0 else list(start_clock.get(t, zero))
            if op.kind == "join" and len(op.resource) > 1:
                target = names.get(str(op.resource[1]))
                if target is not None and last_of[target] >= 0:
                    _join(clock, clocks[last_of[target]])
            if op.resource:
                conflicts(k, t, op, clock, True)
            end = ends.get(k)
            if end is not None:
                conflicts(k, t, end, clock, True)
            clock[t] = k
            clocks.append(clock)
            last_of[t] = k
            if op.kind == "spawn":
                start_clock[initial + spawned] = clock
                spawn_child[k] = initial + spawned
                spawned += 1
        events: list[_Event] = [(choices[m], ops[m], spawn_child.get(m, -1)) for m in range(length)]
        # An execution cut short (a deadlock, a step limit) leaves operations that never ran;
        # they conflict with what did run, and those races must be reversed too, or the orders
        # in which they run earlier would never be explored.
        if len(runtime.choices) == length:
            for t, op in sorted(runtime.pending_at_end.items()):
                if not op.resource:
                    continue
                k = len(choices)
                prev = last_of[t]
                clock = list(clocks[prev]) if prev >= 0 else list(start_clock.get(t, zero))
                choices.append(t)
                ops.append(op)
                conflicts(k, t, op, clock, False)
                clock[t] = k
                clocks.append(clock)
                events.append((t, op, -1))
        for i, k in races:
            e = i
            if (
                ops[i].kind == "release"
                and ops[k].kind == "acquire"
                and choices[k] not in stack[i].enabled
            ):
                # A lock hand-off: reverse it where the releasing thread acquired the lock.
                ti = choices[i]
                res = ops[i].resource
                for m in range(i - 1, -1, -1):
                    if choices[m] == ti and ops[m].resource == res and ops[m].kind == "acquire":
                        e = m
                        break
            node = stack[e]
            te = choices[e]
            # Pending operations (k >= length) follow the executed events, not each other.
            seq = [events[m] for m in range(e + 1, min(k, length)) if clocks[m][te] < e]
            seq.append(events[k])
            if seq[0][0] not in node.enabled:
                # Start the sequence with an equivalent first event whose thread can run here.
                for index, candidate in enumerate(seq):
                    if candidate[0] in node.enabled and not any(
                        _related(earlier, candidate) for earlier in seq[:index]
                    ):
                        seq.insert(0, seq.pop(index))
                        break
                else:
                    continue  # not reversible from here: the reversing thread is blocked
            if any(
                _weak_initial(q, q_op, -1, seq) is not None for q, q_op in node.asleep().items()
            ):
                continue  # a sleeping thread starts an equivalent execution: covered
            node.insert(seq)


def _join(into: list[int], other: list[int]) -> None:
    for x, v in enumerate(other):
        if v > into[x]:
            into[x] = v


class _DporChooser:
    __slots__ = ("blocked_at", "stack")

    def __init__(self, stack: list[_Node]) -> None:
        self.stack = stack
        self.blocked_at: int | None = None

    def choose(self, runtime: Runtime, enabled: list[SimThread]) -> SimThread:
        depth = len(runtime.choices)
        if self.blocked_at is not None:
            return runtime.default_choice(enabled)
        stack = self.stack
        if depth < len(stack):
            # Replaying the current path: same enabled threads as recorded, or the scenario
            # is not deterministic. (One plain loop: this runs at every replayed step.)
            node = stack[depth]
            recorded = node.enabled
            if len(recorded) != len(enabled):
                raise _nondeterminism(runtime, depth, recorded, enabled)
            tid = node.current
            chosen: SimThread | None = None
            for thread, expected in zip(enabled, recorded, strict=True):
                if thread.tid != expected:
                    raise _nondeterminism(runtime, depth, recorded, enabled)
                if expected == tid:
                    chosen = thread
            if chosen is None:
                raise AssertionError("unreachable: wakeup thread not enabled")
            return chosen
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
        ops = {t.tid: t.pending for t in enabled}
        subtree = stack[-1].branch.children if stack and stack[-1].branch is not None else []
        chosen = None
        branch: _WNode | None = None
        pending: list[_WNode] = []
        for k, candidate in enumerate(subtree):
            match = next((t for t in awake if t.tid == candidate.tid), None)
            if match is not None:
                chosen, branch, pending = match, candidate, subtree[k + 1 :]
                break
        if chosen is None:
            chosen = runtime.default_choice(awake)
        node = _Node(tuple(t.tid for t in enabled), ops, sleep, chosen.tid)  # type: ignore[arg-type]
        node.branch = branch
        node.wakeup = list(pending)
        node.pre = runtime.preemptions  # preemptions of the steps before this one
        last = runtime.last
        node.last = last.tid if last is not None and last in enabled else None
        stack.append(node)
        return chosen
