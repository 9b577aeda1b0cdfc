"""``dpor`` over tasks: the coordinator owns the top of the tree and replays one process's order.

Optimal DPOR explores the branches of a node one after the other, and what it explores in a
later branch depends on the earlier ones in two ways: the threads explored before are asleep
in it, and the races of the earlier branches' executions plant wakeup sequences at the node
(new branches after them) or *inside* a pending branch's wakeup subtree (more to explore
below it). Splitting the tree statically loses the second: a task started beside its
sibling never receives what the sibling plants, and must make up for it with redundant
executions.

So the split follows one process exactly:

* The first task runs the search from the root (in the coordinator's process); when its
  budget runs out, its stack comes back (``_tasks.DporNodeState``) and the coordinator *owns*
  those nodes: their explored threads, the branch in progress and the pending wakeup
  branches (:class:`_Owned`, one :class:`_Slot` per branch).
* A task is one branch of an owned node, with everything one process would have there: the
  path, the threads asleep at each node of the path, and the branch's wakeup subtree. Its
  own subtree runs exactly as in one process; reversals it plants at the owned nodes above
  it come back with its result (``planted``), and its stack, if its budget ran out, becomes
  owned nodes in turn. A deep subtree is split as it goes.
* Results are **applied in the depth-first order** one process explores the tree in: the
  findings (the first of each origin in that order is kept: the same schedule ID), the
  execution count (``max_schedules`` stops where one process stops), and the planted
  reversals, inserted into the owner's wakeup tree at the moment one process would insert
  them, with the sleeping threads it would have then. The applied executions are one
  process's executions, class for class.
* Tasks are handed out ahead of that order (up to :data:`AHEAD` at a time, the earliest
  branches first), and that is a bet: a branch handed out before its earlier siblings'
  results were applied may have its wakeup subtree grow when they are (a race planted
  inside it). Its result is then *stale*: it is dropped (with everything made from it) and
  the branch runs again with its full subtree. The dropped executions are counted, and they
  are the only executions beyond one process's. Only *risky* branches (see ``_pending``) can
  be dropped, and a risky one is handed out only while the work dropped so far, with the
  bets not applied yet and the new one, stays within :data:`WASTE_SHARE` of the executions
  applied: a bound that holds whatever order the results come back in.
* A ``max_schedules`` cut drops whatever is out ahead of it when it comes, safe or not: so
  all the work out ahead of the order, with what was dropped, also stays within
  :data:`WASTE_SHARE` of ``max_schedules`` (:meth:`DporSplit.speculation_left`).

Results are taken as they come (a worker that finishes gets the next task at once), so which
tasks run ahead and how much of their work is dropped can vary from run to run; what is
applied, hence the answer and every count but the dropped executions, cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .._core._ops import Operation
from ._dpor import BEYOND_BOUND, START, _WNode, branch_verdict, insert_wakeup
from ._settings import ExitReason
from ._tasks import SLIVER, WASTE_SHARE, DporNodeState, DporTask, lite_tree

if TYPE_CHECKING:
    from ._parallel import TaskResult

__all__ = ["AHEAD", "WASTE_SHARE", "DporSplit"]

#: Tasks handed out and not yet returned, at most (more than workers: one that finishes finds
#: the next waiting). The answer does not depend on it, only how much work can be dropped.
AHEAD = 8
#: A risky task's budget is the task budget divided by this.
RISKY_SHARE = 8
# WASTE_SHARE (from _tasks): the executions run ahead and dropped never exceed this share of
# the executions applied (one process's): a risky task is only handed out, and only as large,
# as what is left of it; nor, with a cut, this share of max_schedules (speculation_left).


class _Slot:
    """One branch of an owned node: its wakeup subtree, and how far it is."""

    __slots__ = ("child", "result", "seq", "size", "state", "wnode")

    PENDING, OUT, RECEIVED, VIA, DONE = range(5)

    def __init__(self, wnode: _WNode, state: int = 0) -> None:
        self.wnode = wnode
        self.state = state
        self.seq = -1  # the task running it (OUT, RECEIVED)
        self.size = 0  # its wakeup subtree's size when handed out (grown: stale)
        self.result: TaskResult | None = None  # RECEIVED, until applied
        # The owned node its task's stack became (RECEIVED), or the node a branch in
        # progress continues in (VIA: a branch of a task's stack, explored through it).
        self.child: _Owned | None = None


class _Owned:
    """A node the coordinator owns: as ``_dpor._DporNode``, with its branches as slots
    (the explored threads before them in ``done``), ``next`` the first not finished in the
    depth-first order, and the path from the root (``above``: per node, the thread run,
    the enabled threads, the threads asleep for this path)."""

    __slots__ = (
        "above",
        "cut",
        "depth",
        "done",
        "enabled",
        "last",
        "next",
        "ops",
        "parent",
        "pre",
        "selected",
        "sleep",
        "slots",
        "taken",
    )

    def __init__(
        self,
        state: DporNodeState,
        parent: _Owned | None,
        above: tuple[tuple[int, tuple[int, ...], dict[int, Operation]], ...],
    ) -> None:
        self.parent = parent
        self.depth = len(above)
        self.above = above
        self.enabled = state.enabled
        self.ops = state.ops
        self.sleep = state.sleep
        self.done = state.done
        self.pre = state.pre
        self.last = state.last
        self.slots: list[_Slot] = []
        self.next = 0
        # Per slot (computed in order, as branches are picked): is it explored, and was it
        # skipped by the preemption bound.
        self.selected: list[bool] = []
        self.cut: list[bool] = []
        self.taken = set(state.done)  # threads explored (or to be) before the next slot

    def picks(self, index: int, bound: int | None) -> bool:
        """Is slot ``index`` explored when reached (``_dpor.branch_verdict``)?"""
        selected = self.selected
        while len(selected) <= index:
            tid = self.slots[len(selected)].wnode.tid
            verdict = branch_verdict(tid, self, self.taken, bound)
            self.cut.append(verdict is BEYOND_BOUND)
            selected.append(verdict is START)
            if verdict is START:
                self.taken.add(tid)
        return selected[index]

    def asleep(self, index: int, bound: int | None) -> dict[int, Operation]:
        """The threads asleep here while slot ``index`` is explored."""
        result = dict(self.sleep)
        ops = self.ops
        for tid in self.done:
            result[tid] = ops[tid]
        for i in range(index):
            if self.picks(i, bound):
                tid = self.slots[i].wnode.tid
                result[tid] = ops[tid]
        return result


def _size(node: _WNode) -> int:
    return len(node.nodes())


class DporSplit:
    """The owned nodes of a split ``dpor`` exploration and the depth-first application of
    task results (see the module docs). ``make`` submits a task and returns its number."""

    def __init__(
        self,
        make: Callable[[DporTask, int], int],
        budget: int,
        max_schedules: int,
        bound: int | None,
    ) -> None:
        self.make = make
        self.budget = budget
        self.max_schedules = max_schedules
        self.bound = bound
        self.root: _Owned | None = None
        self.cursor: _Owned | None = None  # the deepest owned node on the depth-first path
        # Task -> its slot, whether it is risky, its budget; until received.
        self.out: dict[int, tuple[_Owned, int, bool, int]] = {}
        # The executions of the tasks out (their budgets) and of those received, not applied.
        self.ahead = 0
        self.committed = 0  # executions applied (one process's count so far)
        self.wasted = 0  # executions of stale results, dropped
        # Risky tasks dropped while out, by task: their budgets count against WASTE_SHARE
        # until their results come.
        self.doomed: dict[int, int] = {}
        # Risky tasks not applied yet (out, or received and waiting for their turn), by task:
        # their budgets (executions, once received) count against WASTE_SHARE too, since any
        # of them may still be dropped. (Counting only those out let several received bets
        # be dropped together: 29 executions on a 704-class program, over 4%.)
        self.bets: dict[int, int] = {}
        self.stale = 0
        self.first_seq = -1  # the task of the branch next in the depth-first order, if out
        self.cut = False
        self.finished = False  # every branch applied: the tree is covered
        self.limited = False  # max_schedules reached with branches left

    # ------------------------------------------------------------------ building
    def own(
        self, rest: tuple[DporNodeState, ...], parent: _Owned | None, index: int
    ) -> _Owned | None:
        """Make owned nodes of a task's stack, below slot ``index`` of ``parent``."""
        top: _Owned | None = None
        for position, state in enumerate(rest):
            if parent is None:
                above: tuple[tuple[int, tuple[int, ...], dict[int, Operation]], ...] = ()
            else:
                tid = parent.slots[index].wnode.tid
                above = (*parent.above, (tid, parent.enabled, parent.asleep(index, self.bound)))
            node = _Owned(state, parent, above)
            deepest = position == len(rest) - 1
            if deepest:
                first = state.branch or _WNode(state.current, state.ops[state.current], -1)
                node.slots.append(_Slot(first))
            else:
                # In progress: what is left of it is the next node of the stack.
                current = _WNode(state.current, state.ops[state.current], -1)
                node.slots.append(_Slot(current, _Slot.VIA))
            node.slots.extend(_Slot(w) for w in state.wakeup)
            if parent is not None:
                parent.slots[index].child = node
            else:
                top = node
            parent, index = node, 0
        return top

    def start(
        self, result: TaskResult, apply: Callable[[TaskResult, int], ExitReason | None]
    ) -> ExitReason | None:
        """Apply the first task's result (the search from the root, in this process): its
        stack becomes the owned top of the tree. Returns a reason to stop."""
        stop = apply(result, self.max_schedules)
        self.committed = result.executions
        self.cut = result.cut
        if stop is not None:
            return stop
        frontier = result.frontier
        self.root = self.cursor = self.own(() if frontier is None else frontier.dpor, None, 0)
        if self.root is None:
            self.finished = True
        elif self.committed >= self.max_schedules:
            self.limited = True
            return ExitReason.MAX_SCHEDULES
        return None

    # ------------------------------------------------------------------ handing out
    def _pending(self, node: _Owned, below: bool) -> Iterator[tuple[_Owned, int, int]]:
        """The pending branches in depth-first order, each with its risk: 0 safe, 1 risky,
        2 below a risky one (``below``: this node is)."""
        for index in range(node.next, len(node.slots)):
            slot = node.slots[index]
            # Only the branches explored before a slot at its node plant into its wakeup
            # subtree, and a single step (a leaf) never grows: insertion stops at a leaf.
            # Any other slot after the one in progress can still grow: it is *risky*, and
            # so is everything below it.
            risky = index > node.next and bool(slot.wnode.children)
            if slot.state == _Slot.PENDING:
                if node.picks(index, self.bound):
                    yield node, index, 2 if below else int(risky)
            elif slot.child is not None:
                yield from self._pending(slot.child, below or risky)

    def fill(self) -> None:
        """Hand out pending branches until :data:`AHEAD` tasks are out: the earliest safe
        one first; a risky one only when none is safe, one at a time, with a smaller budget;
        never what a risky one left (it waits until it is safe: a stale result takes what
        was made from it along). Nothing beyond ``max_schedules``."""
        if self.root is None or self.finished or self.limited:
            return
        while (
            len(self.out) < AHEAD
            and self.committed + self.ahead < self.max_schedules
            and self.speculation_left() >= min(self.budget // SLIVER, self.max_schedules)
        ):
            risky: tuple[_Owned, int] | None = None
            for node, index, risk in self._pending(self.root, False):
                if risk == 0:
                    self.hand_out(node, index, cap=self.speculation_left())
                    break
                if risk == 1 and risky is None:
                    risky = node, index
            else:
                if risky is None or any(out[2] for out in self.out.values()):
                    return
                # (When nothing is out, the earliest pending branch is at its node's next
                # slot, hence safe: holding risky ones back never leaves the workers idle
                # for good.)
                allowance = int(WASTE_SHARE * self.committed) - self.wasted
                allowance -= sum(self.doomed.values()) + sum(self.bets.values())
                allowance = min(allowance, self.speculation_left())
                if allowance < 1:
                    return
                self.hand_out(*risky, risky=True, cap=allowance)

    def speculation_left(self) -> int:
        """Executions that may still be handed out ahead of the depth-first order.

        A run that ``max_schedules`` cuts drops, when the cut comes, everything out ahead of
        it: the results of later branches wait for the earlier ones, and the earlier ones'
        subtrees (unknown in size: a task's stack comes back with more branches) can take all
        the room that is left. So what is out ahead of the order (not the task of the branch
        next in it), with the work dropped so far, stays within :data:`WASTE_SHARE` of
        ``max_schedules``. (Without it, 3 x 3 increments cut at the default 10,000 ran 12,697
        executions with two workers, more slowly than one process.) It limits a run that
        ends before its cut too, when ``max_schedules`` is small: under 25 task budgets
        (12,500 executions by default), less than one whole task can run ahead.
        """
        first = self.out.get(self.first_seq)
        ahead = self.ahead - (first[3] if first is not None else 0)
        dropped = self.wasted + sum(self.doomed.values())
        return int(WASTE_SHARE * self.max_schedules) - ahead - dropped

    def hand_out(
        self,
        node: _Owned,
        index: int,
        risky: bool = False,
        first: bool = False,
        cap: int | None = None,
    ) -> None:
        """Make the task of slot ``index``; ``first``: it is next in the depth-first order
        (its budget is what is left of ``max_schedules`` after the applied results); ``cap``:
        the most a risky task may run."""
        slot = node.slots[index]
        tid = slot.wnode.tid
        task = DporTask(
            (*(a[0] for a in node.above), tid),
            (*(a[1] for a in node.above), node.enabled),
            (*(a[2] for a in node.above), node.asleep(index, self.bound)),
            # A copy: the coordinator inserts into the original while the task is out (and
            # a process pool pickles it later, in a thread of its own).
            lite_tree(slot.wnode),
        )
        slot.state = _Slot.OUT
        slot.size = _size(slot.wnode)
        budget = self.budget // RISKY_SHARE if risky else self.budget
        if cap is not None:
            budget = min(budget, cap)
        left = self.max_schedules - self.committed - (0 if first else self.ahead)
        budget = max(1, min(budget, left))
        slot.seq = self.make(task, budget)
        if first:
            self.first_seq = slot.seq
        self.out[slot.seq] = (node, index, risky, budget)
        self.ahead += budget
        if risky:
            self.bets[slot.seq] = budget

    # ------------------------------------------------------------------ receiving
    def receive(self, result: TaskResult, rest: tuple[DporNodeState, ...]) -> None:
        """A task's result, in any order (one whose branch was dropped meanwhile is only
        counted)."""
        where = self.out.pop(result.seq, None)
        if where is None:
            self.wasted += result.executions  # its branch was found stale meanwhile
            self.doomed.pop(result.seq, None)
            return
        node, index, risky, budget = where
        self.ahead += result.executions - budget
        if risky:
            self.bets[result.seq] = result.executions
        slot = node.slots[index]
        slot.state = _Slot.RECEIVED
        slot.result = result
        self.own(rest, node, index)

    def _drop(self, slot: _Slot) -> None:
        """Forget what was run for ``slot`` and below it (it runs again)."""
        self.bets.pop(slot.seq, None)
        if slot.state == _Slot.OUT:
            out = self.out.pop(slot.seq)  # its result is wasted when it comes
            self.ahead -= out[3]
            self.doomed[slot.seq] = out[3]
        elif slot.state == _Slot.RECEIVED:
            assert slot.result is not None
            self.wasted += slot.result.executions
            self.ahead -= slot.result.executions
        child = slot.child
        if child is not None:
            for below in child.slots:
                self._drop(below)
        slot.state, slot.result, slot.child = _Slot.PENDING, None, None

    # ------------------------------------------------------------------ applying
    def advance(self, apply: Callable[[TaskResult, int], ExitReason | None]) -> ExitReason | None:
        """Apply the received results that are next in the depth-first order; hand out the
        branch that is next, when it is pending. ``apply(result, room)`` counts a result
        (``room``: executions left under ``max_schedules``) and says whether to stop there.
        Returns a reason to stop."""

        while not self.finished:
            node = self.cursor
            assert node is not None
            if node.next == len(node.slots):
                parent = node.parent
                if parent is None:
                    self.finished = True
                    break
                done = parent.slots[parent.next]
                done.state, done.child = _Slot.DONE, None
                parent.next += 1
                self.cursor = parent
                continue
            index = node.next
            slot = node.slots[index]
            if slot.state != _Slot.VIA and not node.picks(index, self.bound):
                self.cut |= node.cut[index]
                slot.state = _Slot.DONE
                node.next += 1
                continue
            if slot.state == _Slot.VIA:
                assert slot.child is not None
                self.cursor = slot.child
                continue
            if self.committed >= self.max_schedules:
                self.limited = True  # one process stops here too, with branches left
                return ExitReason.MAX_SCHEDULES
            if slot.state == _Slot.PENDING:
                self.hand_out(node, index, first=True)
                return None
            if slot.state == _Slot.OUT:
                return None
            result = slot.result
            assert result is not None
            slot.result = None
            self.bets.pop(slot.seq, None)  # applied: no longer a bet
            room = self.max_schedules - self.committed
            self.ahead -= result.executions
            stop = apply(result, room)
            if result.executions > room:
                # One process stops inside this task's executions (``apply`` kept only the
                # findings of those it would have run).
                self.committed = self.max_schedules
                self.limited = True
                return ExitReason.MAX_SCHEDULES
            self.committed += result.executions
            self.cut |= result.cut
            for depth, seq in result.planted:
                owner = node
                while owner.depth > depth:
                    assert owner.parent is not None
                    owner = owner.parent
                # The owner is exploring its slot ``next`` (this result lies below it): what
                # is planted goes among the branches after it, as one process inserts it.
                later = owner.slots[owner.next + 1 :]
                after = [s.wnode for s in later]
                insert_wakeup(after, list(seq))
                owner.slots.extend(_Slot(w) for w in after[len(later) :])
                for other in later:
                    if other.state in (_Slot.OUT, _Slot.RECEIVED) and (
                        _size(other.wnode) != other.size
                    ):
                        # Planted into after it was handed out: what was run for it is not
                        # what one process runs. Drop it now, before more is run below it.
                        self.stale += 1
                        self._drop(other)
            if stop is not None:
                return stop
            if slot.child is not None:
                slot.state = _Slot.VIA
                self.cursor = slot.child
            else:
                slot.state = _Slot.DONE
                node.next += 1
        return None

    def nothing_left(self) -> bool:
        """After the last applied result: is every branch still in the tree skipped?"""
        node = self.cursor
        while node is not None:
            for index in range(node.next + 1, len(node.slots)):
                if node.picks(index, self.bound):
                    return False
            node = node.parent
        return True
