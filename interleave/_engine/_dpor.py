"""Optimal dynamic partial-order reduction: one execution per Mazurkiewicz trace.

Two executions that differ only in the order of *independent* steps (reads of the same
resource, accesses to different resources) are equivalent: they reach the same state and the
same findings. DPOR explores one representative per equivalence class (Mazurkiewicz trace).

This is optimal DPOR with wakeup trees and sleep sets (Abdulla, Aronis, Jonsson, Sagonas,
POPL 2014 / JACM 2017), run statelessly: every execution replays the current path from the
start, then the finished execution is analysed for *races*, which plant new wakeup sequences.

Dependency is decided on *footprints* (``_core/_ops.py``): the resources a step reads and
writes, as resolved when it ran. A try-acquire that found the lock held only read the lock; an
``RLock`` re-entry touched nothing; a condition wait wrote the condition and freed its lock.
``docs/strategies.md`` has the table for every primitive.

The exploration state is the path of the current execution, one node per step::

    depth  node: enabled  ops (resolved)  sleep (+done)   current   wakeup tree (pending)
      0        {A,B}     A:w(x) B:r(x)   {A}             B         [ ]
      1        {A,B}     ...             {}              A         [B -> A]
      2        ...                                                  (B, then A)

* the *wakeup tree* of a node holds sequences that must still be explored from it, as a tree
  of (thread, operation) nodes; its leftmost branch is followed by the next execution;
* ``done`` threads were explored from the node; together with the inherited ``sleep`` set
  they need not be tried again (an equivalent execution was explored);
* after an execution, each *race* ``e ⋖ e'`` (conflicting steps of different threads with
  no third step ordered between them) in its new part asks for the reversed order: with
  ``E'`` the node before ``e`` and ``v = notdep(e).e'`` (the steps between them that do not
  depend on ``e``, then ``e'``), ``v`` is inserted into the wakeup tree of ``E'`` unless a
  sleeping thread of ``E'`` could start it (then an equivalent execution is already covered).

Blocking operations need one more rule. A race ``e ⋖ e'`` can only be reversed at ``E'`` when
``e'`` can run there. A try or timed acquire always can (it then fails or times out: another
outcome, and another trace). An operation that waits cannot when ``e`` is what let it run:
``e`` freed the lock, returned the semaphore's last permit, set the event. Then the order
that is really different is ``e'`` before the step that made the resource unavailable (the
acquire that took the lock, ...): the reversal is planted there (a lock *hand-off*). When no
such step exists (a wake after a notify, a join after a thread's end, a retried SQLite
statement after a commit) there is no other order to explore and the race is dropped; the
orders that matter are reached through the races of the earlier, non-blocking steps (the
wait, the failed statement).

Should an execution still find every enabled thread asleep, it is finished with the default
policy, its findings kept, and it is counted as sleep-set blocked, not as a trace.
"""

from __future__ import annotations

from collections.abc import Container
from typing import ClassVar, Protocol

from .._core._native import caused, mypyc_attr
from .._core._ops import GIVE, Operation, conflict
from .._core._program import Chooser, RunOutcome
from .._core._threads import SimThread
from .._core._views import StepView
from ._races import Analysis, handoff
from ._races import Event as _Event
from ._strategies import Strategy, _nondeterminism, _operation_changed, same_operation

__all__ = [
    "BEYOND_BOUND",
    "COVERED",
    "START",
    "BranchNode",
    "DporStrategy",
    "branch_verdict",
    "dependent",
    "insert_wakeup",
]


def dependent(a: Operation, b: Operation) -> bool:
    """Do two operations of different threads conflict (their order can matter)?

    Their footprints share a resource (or one resource is a prefix of the other, like a whole
    cache and one of its keys) that at least one of them writes. Operations without a
    footprint (pure scheduling points, re-entries) conflict with nothing.
    """
    return conflict(a.footprint, b.footprint)


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class _WNode:
    """A node of a wakeup tree: ``tid`` performs ``op``; ``children`` continue the sequence."""

    __slots__ = ("children", "op", "spawned", "tid")

    def __init__(self, tid: int, op: Operation, spawned: int) -> None:
        self.tid = tid
        self.op = op
        self.spawned = spawned  # the thread this event creates (a spawn), else -1
        self.children: list[_WNode] = []

    def nodes(self) -> list[_WNode]:
        """This node and every node below it, depth first (iteratively: a wakeup subtree can
        be a chain as long as an execution)."""
        out: list[_WNode] = []
        todo = [self]
        while todo:
            node = todo.pop()
            out.append(node)
            todo.extend(reversed(node.children))
        return out

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Flat, depth first with each node's number of children: pickle would otherwise
        # recurse once per level and overflow on long chains (a task's wakeup subtrees).
        return _rebuild, ([(n.tid, n.op, n.spawned, len(n.children)) for n in self.nodes()],)


def _rebuild(flat: list[tuple[int, Operation, int, int]]) -> _WNode:
    """The wakeup subtree :meth:`_WNode.__reduce__` flattened."""
    root: _WNode | None = None
    open_: list[tuple[_WNode, int]] = []  # nodes still missing children, with how many
    for tid, op, spawned, count in flat:
        node = _WNode(tid, op, spawned)
        if open_:
            parent, missing = open_[-1]
            parent.children.append(node)
            if missing == 1:
                open_.pop()
            else:
                open_[-1] = (parent, missing - 1)
        else:
            root = node
        if count:
            open_.append((node, count))
    assert root is not None
    return root


def _related(a: _Event, b: _Event) -> bool:
    """Must ``a`` stay before ``b`` when it comes first (program order, conflict, spawn)?"""
    return a[0] == b[0] or a[2] == b[0] or conflict(a[1].footprint, b[1].footprint)


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


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class _DporNode:
    """One step of the current path and what is left to explore from it.

    ``enabled`` and ``ops`` (each enabled thread's operation as it would run here) are fixed
    when the node is made; ``current`` is the thread explored now, ``done`` those explored
    before it, ``sleep`` the threads inherited asleep (an equivalent execution already started
    with them), ``wakeup`` the branches still to explore, ``branch`` the one being followed.
    ``waits`` says whether ``current``'s operation is one that waits without a timeout.
    """

    __slots__ = (
        "branch",
        "current",
        "done",
        "enabled",
        "last",
        "ops",
        "pre",
        "sleep",
        "waits",
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
        self.waits = False
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
        """Insert ``seq`` into the pending wakeup tree, unless it is already covered
        (:func:`insert_wakeup`)."""
        insert_wakeup(self.wakeup, seq)


def insert_wakeup(children: list[_WNode], seq: list[_Event]) -> None:
    """Insert ``seq`` into the wakeup tree whose pending branches are ``children``, unless it
    is already covered. (A parallel exploration's coordinator calls it on the branches it
    owns, ``_dpor_split.py``.)

    The wakeup tree's invariant (JACM 2017, section 6): every branch starts an execution
    no earlier branch is equivalent to, and the leftmost branch that can start ``seq``
    (some reordering of it) is where ``seq`` belongs. So walk down: at each level, the
    first child whose event can come first in ``seq`` (a weak initial) takes it, and
    ``seq`` continues below that child without that event. A leaf reached means the
    branch already planned explores an execution equivalent to ``seq`` (the rest commutes
    with it): nothing to add. No child fitting means no planned branch covers ``seq``:
    what is left of it becomes a new rightmost branch.
    """
    top = True
    while True:
        for child in children:
            index = _weak_initial(child.tid, child.op, child.spawned, seq)
            if index is None:
                continue  # this branch starts with a step seq must not start with
            if index >= 0:
                # The child's thread occurs in seq and can move to the front: consume it.
                seq = seq[:index] + seq[index + 1 :]
            # (index == -1: the child's step commutes with all of seq; seq stays whole.)
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


#: What becomes of a wakeup branch when its node picks the next one (:func:`branch_verdict`).
START, COVERED, BEYOND_BOUND = "start", "covered", "beyond-bound"


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class BranchNode(Protocol):
    """What :func:`branch_verdict` reads of a node (``_DporNode``, ``_dpor_split._Owned``)."""

    sleep: dict[int, Operation]
    enabled: tuple[int, ...]
    pre: int
    last: int | None


def branch_verdict(tid: int, node: BranchNode, explored: Container[int], bound: int | None) -> str:
    """Is the wakeup branch of thread ``tid`` started at ``node``, whose threads ``explored``
    were explored before it? Not when that thread sleeps there or was explored already (an
    equivalent execution is covered), nor when it is not enabled (defensive); and a bounded
    search does not preempt beyond its bound. (One process's ``record`` and a parallel
    exploration's coordinator, ``_dpor_split.py``, ask the same.)"""
    if tid in node.sleep or tid in explored or tid not in node.enabled:
        return COVERED
    if bound is not None and node.last is not None and node.pre >= bound and tid != node.last:
        return BEYOND_BOUND
    return START


@mypyc_attr(allow_interpreted_subclasses=True)
class DporStrategy(Strategy):
    """Exhaustive search with optimal DPOR: wakeup trees and sleep sets (see the module docs)."""

    name: ClassVar[str] = "dpor"
    exact_bound: ClassVar[bool] = False

    def __init__(self, preemption_bound: int | None = None) -> None:
        self.bound = preemption_bound
        self.cut = False
        self.stack: list[_DporNode] = []
        self._started = False
        self.exhausted = False
        self.new_from = 0
        # Nodes above the floor belong to another task (``_tasks.py``): never explored here.
        self.floor = 0
        self._chooser: _DporChooser | None = None
        self._analysis = Analysis()
        # The first steps of the next execution that replay the last one's choices: the
        # path above the node whose branch changed (see Chooser: the replay fast path).
        self._replayable = 0

    def next_chooser(self) -> Chooser | None:
        if self._started and not self.stack:
            self.exhausted = True
            return None
        self._started = True
        last = self._chooser
        self._chooser = _DporChooser(
            self.stack, None if last is None else last.token, self._replayable
        )
        return self._chooser

    def describe(self) -> str:
        return self.name if self.bound is None else f"{self.name} (preemption bound {self.bound})"

    def last_was_pruned(self) -> bool:
        """Was the last execution sleep-set blocked (equivalent to an explored one)?"""
        return self._chooser is not None and self._chooser.pruned_at is not None

    def record(self, outcome: RunOutcome) -> None:
        chooser = self._chooser
        assert chooser is not None
        stack = self.stack
        length = outcome.steps
        analysed = len(stack)
        if chooser.pruned_at is not None:  # (the explorer counts it as pruned)
            analysed = min(analysed, chooser.pruned_at)
        del stack[length:]
        analysed = min(analysed, length)
        # A pruned (sleep-set blocked) execution is only analysed up to where it was pruned:
        # past that point it ran on the default policy and its races belong to an explored
        # equivalent execution.
        if chooser.unstable:
            self._analysis.truncate(0)  # analyse the whole execution again
        _plant_wakeups(stack, self._analysis, outcome, analysed, self.new_from)
        # Move to the next unexplored branch: the deepest node with a pending wakeup branch
        # (depth first, as the wakeup trees were planted). Each node's explored thread joins
        # its done set: its sleep set for the branches after it.
        self._replayable = 0
        while len(stack) > self.floor:
            node = stack[-1]
            node.done.append(node.current)
            node.branch = None
            while node.wakeup:
                branch = node.wakeup.pop(0)
                verdict = branch_verdict(branch.tid, node, node.done, self.bound)
                if verdict is not START:
                    self.cut |= verdict is BEYOND_BOUND  # (then the search is incomplete)
                    continue
                node.current = branch.tid
                node.branch = branch
                # The next execution replays the path up to here and is new from this node:
                # only races with a later step from here on are new (see _plant_wakeups).
                self.new_from = self._replayable = len(stack) - 1
                return
            stack.pop()  # nothing left to explore below this node
        stack.clear()  # the floor's subtree is covered


def _plant_wakeups(
    stack: list[_DporNode],
    analysis: Analysis,
    outcome: RunOutcome,
    length: int,
    new_from: int,
) -> None:
    """Analyse the execution's first ``length`` steps for races; plant their reversals.

    ``analysis`` holds the steps the previous execution shares with this one (up to
    ``new_from`` at least); it ends holding this execution's first ``length`` steps.
    """
    analysis.truncate(min(new_from, len(analysis.choices)))
    races: list[tuple[int, int]] = []
    analysis.extend(outcome, length, new_from, races)
    if outcome.steps == length and outcome.pending:
        analysis.pending(outcome, new_from, races)
    try:
        _reverse(stack, analysis, outcome.created_at, races, length)
    finally:
        analysis.truncate(length)  # pending operations are not part of the path


def _reverse(
    stack: list[_DporNode],
    analysis: Analysis,
    created_at: tuple[int, ...],
    races: list[tuple[int, int]],
    length: int,
) -> None:
    """Reverse each race ``i ⋖ k``: plant, at the node before step ``e`` (``i``, or the
    hand-off step), the wakeup sequence v = the steps after ``e`` that do not depend on
    ``e``, then ``k``."""
    choices, ops, events = analysis.choices, analysis.ops, analysis.events
    clocks, prev_step, take_before = analysis.clocks, analysis.prev_step, analysis.take_before
    for i, k in races:
        q = choices[k]
        prev = prev_step[k]
        e = i
        if _waits(stack, k, length) and _cannot_run_before(stack, created_at, i, k, q, prev, ops):
            # ``k`` waited and ``i`` is what let it run: plant the hand-off instead, before
            # the step that made the resource unavailable, if there is one.
            e = handoff(ops[i], ops[k], take_before.get(i, {}))
            if e < 0:
                continue
            te = choices[e]
            if te == q or (prev >= 0 and clocks[prev][te] >= e):
                continue  # k's thread depends on that step: it cannot run before it
        node = stack[e]
        te = choices[e]
        # notdep(e): the steps after e that e does not happen before (clock of e's thread in
        # them older than e). Pending operations (k >= length) follow the executed events,
        # not each other.
        seq = [events[m] for m in range(e + 1, min(k, length)) if clocks[m][te] < e]
        last = events[k]
        # k may take another outcome when it runs first (a try that now gets the lock):
        # compare by the widest footprint it can have, or a sleeping thread could wrongly
        # look independent of it.
        seq.append((last[0], last[1].potential, last[2]))
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
        # A thread asleep at the node (inherited, or explored from it already) that can start
        # v means an execution equivalent to v was or will be explored with it first.
        if any(_weak_initial(s, s_op, -1, seq) is not None for s, s_op in node.asleep().items()):
            continue  # a sleeping thread starts an equivalent execution: covered
        node.insert(seq)


def _waits(stack: list[_DporNode], k: int, length: int) -> bool:
    """Did step ``k`` wait without a timeout? (A pending step at the end always did.)"""
    return k >= length or stack[k].waits


def _cannot_run_before(
    stack: list[_DporNode],
    created_at: tuple[int, ...],
    i: int,
    k: int,
    q: int,
    prev: int,
    ops: list[Operation],
) -> bool:
    """Could the waiting step ``k`` (of thread ``q``) not have run just before step ``i``?

    When ``q`` had no step between them, its operation was already pending at ``i``: it could
    not run there exactly when it was not enabled there (``i`` then enabled it, since anything
    else that did would be ordered between them). When ``q`` took steps in between, the
    resource ``k`` waits for was unavailable before ``i`` exactly when ``i`` gave it (GIVE): no
    step between them that is independent of ``i`` can change it.
    """
    if prev < i and created_at[q] < i:
        return q not in stack[i].enabled
    given = {resource for resource, mode in ops[i].footprint if mode == GIVE}
    return any(resource in given for resource, _ in ops[k].footprint)


class _DporChooser:
    """Follows the current path, then extends it with new nodes (see the module docs)."""

    __slots__ = (
        "_listed",
        "_tids",
        "follows",
        "pruned_at",
        "replayable",
        "stack",
        "token",
        "unstable",
    )

    def __init__(self, stack: list[_DporNode], follows: object, replayable: int) -> None:
        self.stack = stack
        # The replay fast path (see Chooser): the path's nodes above the one whose branch
        # changed are replayed as the previous execution ran them (their ``waits`` too).
        self.token = object()
        self.follows = follows
        self.replayable = replayable
        self.pruned_at: int | None = None
        self.unstable = False  # a replayed step's footprint differs from the recorded one
        # The runtime keeps its list of enabled threads from one step to the next while
        # nothing can change it: their ids are kept with it (the list held, so not reused).
        self._listed: list[SimThread] | None = None
        self._tids: tuple[int, ...] = ()

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        depth = len(view.choices)
        stack = self.stack
        if enabled is self._listed:
            tids = self._tids
        else:
            self._listed = enabled
            tids = self._tids = tuple([t.tid for t in enabled])
        if depth < len(stack):
            # Replaying the current path: same enabled threads and operations as recorded, or
            # the scenario is not deterministic. (Tuples compared, not a loop: this runs at
            # every replayed step.)
            node = stack[depth]
            recorded = node.enabled
            if tids != recorded:
                raise _nondeterminism(view, depth, recorded, enabled)
            tid = node.current
            try:
                chosen = enabled[tids.index(tid)]
            except ValueError:
                raise caused(
                    AssertionError("unreachable: wakeup thread not enabled"), None
                ) from None
            op = chosen.pending
            assert op is not None
            if op.resolve is not None:
                op = view.resolved(op, chosen)
            expected_op = node.ops.get(tid)
            if expected_op is None:
                node.ops[tid] = expected_op = op  # a node above a task's floor, first replay
            # Each execution builds its own operations: compare kind, resource and footprint
            # inline first (the common case, at most replayed steps), the full rule on a miss.
            if op is not expected_op and (
                op.kind != expected_op.kind
                or op.resource != expected_op.resource
                or op.footprint != expected_op.footprint
            ):
                if not same_operation(op, expected_op):
                    raise _operation_changed(depth, chosen, expected_op, op)
                if op.footprint != expected_op.footprint:
                    # The same operation on a resource that is equal only by type across
                    # executions (a fresh user object as a cache key): the analysis kept
                    # from the last execution would not match this one's resources.
                    self.unstable = True
            wait = chosen.wait
            node.waits = wait is not None and not wait.timeout
            return chosen
        if self.pruned_at is not None:
            # (Past the step where it was pruned, the path has no nodes: replay ended above.)
            return view.default_choice(enabled)
        # A new node. Its sleep set: the threads asleep at the parent (inherited or explored
        # from it) whose next step commutes with the step the parent took. Starting with one
        # of them here would explore an execution equivalent to one already covered.
        sleep: dict[int, Operation] = {}
        if stack:
            parent = stack[-1]
            p_fp = parent.ops[parent.current].footprint
            for q, q_op in parent.sleep.items():
                if q != parent.current and not conflict(q_op.footprint, p_fp):
                    sleep[q] = q_op
            for q in parent.done:
                q_op = parent.ops[q]
                if q != parent.current and not conflict(q_op.footprint, p_fp):
                    sleep[q] = q_op
        awake = [t for t in enabled if t.tid not in sleep]
        if not awake:
            # Sleep-set blocked: every continuation is equivalent to one already explored.
            self.pruned_at = depth
            return view.default_choice(enabled)
        # Each enabled thread's step as it would run here: what sleep sets and the race
        # analysis compare (a try-acquire's outcome depends on the state at this node).
        ops: dict[int, Operation] = {}
        for t in enabled:
            op = t.pending
            assert op is not None
            ops[t.tid] = op if op.resolve is None else view.resolved(op, t)
        # Follow the wakeup sequence being explored, if any: the first of its next steps
        # whose thread is awake; the others stay pending at this node, to explore after.
        subtree = stack[-1].branch.children if stack and stack[-1].branch is not None else []
        picked: SimThread | None = None
        branch: _WNode | None = None
        pending: list[_WNode] = []
        for k, candidate in enumerate(subtree):
            for match in awake:
                if match.tid == candidate.tid:
                    picked, branch, pending = match, candidate, subtree[k + 1 :]
                    break
            if picked is not None:
                break
        # Beyond the planned sequence: any awake thread will do (the races of this execution
        # plant whatever else must run); the default policy keeps IDs short.
        chosen = view.default_choice(awake) if picked is None else picked
        node = _DporNode(tids, ops, sleep, chosen.tid)
        wait = chosen.wait
        node.waits = wait is not None and not wait.timeout
        node.branch = branch
        node.wakeup = list(pending)
        node.pre = view.preemptions  # preemptions of the steps before this one
        last = view.last
        node.last = last.tid if last is not None and last in enabled else None
        stack.append(node)
        return chosen
