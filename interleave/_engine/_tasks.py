"""One exploration split into tasks: a subtree of the search, run by a worker.

``dfs``: a task is a path from the root down to a *floor* node (each step with its *rank*, its
option's place at its node in the order one process explores them) and the options left at
the floor. A worker replays the path (checking that the scenario is deterministic) and runs
DFS below, never backtracking above the floor, until the subtree is covered or the task's
budget of executions is spent; then the unexplored rest of its path becomes new tasks (the
*frontier*), so a deep subtree is split as it goes.

``dpor``: a task is one branch of a node the coordinator owns (``_dpor_split.py``): the path
down to that node, the threads asleep at every node of the path for this branch (the sleep
set with the siblings explored before it), and the branch's wakeup subtree. A worker runs
optimal DPOR below the branch exactly as one process would there. The nodes of the path are
*remote*: a reversal planted at one of them (a race between a step above the task and one in
it) is checked against that node's sleeping threads here, and sent back (``planted``) for the
coordinator to insert into the node's wakeup tree, where it becomes a branch of its own. When
the budget runs out, the task's stack (each node's sleep set, explored threads, current
thread and pending wakeup branches) goes back as plain data (``rest``): the coordinator owns
those nodes from then on and hands their branches out.

Everything a task carries is plain data: thread indices, and operations reduced to their
kind, resource and footprint (``lite``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._core._ops import Operation
from .._core._program import RunOutcome
from ._dpor import DporStrategy, _DporNode, _WNode
from ._races import Event
from ._strategies import DfsStrategy, _DfsNode

__all__ = [
    "SLIVER",
    "WASTE_SHARE",
    "DfsTask",
    "DfsTaskStrategy",
    "DporNodeState",
    "DporTask",
    "DporTaskStrategy",
    "Frontier",
    "Planted",
    "lite",
    "lite_tree",
]

#: The executions a split exploration may run ahead of one process's order and drop, as a
#: share: of ``max_schedules`` (what a cut drops: everything out ahead of it when it comes,
#: ``dfs`` and ``dpor``), and of the executions applied (``dpor``'s bets on branches that can
#: still grow, see ``_dpor_split``).
WASTE_SHARE = 0.04
#: A task handed out ahead of the order is given at least the task budget divided by this,
#: or waits: a task's own cost (a process, pickling) wants executions, not slivers.
SLIVER = 8


def lite(op: Operation) -> Operation:
    """``op`` reduced to what the reduction compares (kind, resource, footprint): picklable
    as long as its resource is."""
    if op.resolve is None and op.potential is op and op.label is None:
        return op
    return Operation(op.kind, op.resource, footprint=op.footprint)


@dataclass(frozen=True, slots=True)
class DfsTask:
    """A ``dfs`` subtree: ``path`` (thread, rank) per step above the floor, ``enabled`` per
    step above the floor and at it, and the (thread, rank) options to try at the floor. A
    rank is an option's place at its node in the sequential order: the executions of all
    tasks sort by their ranks into the order one process runs them."""

    path: tuple[tuple[int, int], ...]
    enabled: tuple[tuple[int, ...], ...]
    options: tuple[tuple[int, int], ...]


def lite_tree(node: _WNode) -> _WNode:
    """A copy of the wakeup subtree ``node`` with its operations reduced (``lite``)."""
    top = _WNode(node.tid, lite(node.op), node.spawned)
    todo = [(node, top)]  # (original, copy): iteratively, a subtree can be a long chain
    while todo:
        original, copy = todo.pop()
        for child in original.children:
            made = _WNode(child.tid, lite(child.op), child.spawned)
            copy.children.append(made)
            todo.append((child, made))
    return top


@dataclass(frozen=True, slots=True)
class DporTask:
    """A ``dpor`` subtree: one branch of a node the coordinator owns. Per node from the root
    to that node: the thread run there (``path``, the branch's thread last), the enabled
    threads, and the threads asleep there for this path (with their operations); then the
    branch's wakeup subtree (``branch``: its root is the branch's first step)."""

    path: tuple[int, ...]
    enabled: tuple[tuple[int, ...], ...]
    asleep: tuple[dict[int, Operation], ...]
    branch: _WNode


@dataclass(frozen=True, slots=True)
class DporNodeState:
    """A node of a ``dpor`` task's stack when its budget ran out (its unexplored rest): the
    node's enabled threads with their operations, its sleep set, the threads explored from
    it, the thread being explored (``current``; at the deepest node, the branch the next
    execution would start, with its wakeup subtree ``branch``), the wakeup branches pending,
    and what a preemption bound needs."""

    enabled: tuple[int, ...]
    ops: dict[int, Operation]
    sleep: dict[int, Operation]
    done: tuple[int, ...]
    current: int
    branch: _WNode | None
    wakeup: tuple[_WNode, ...]
    pre: int
    last: int | None


#: A reversal a ``dpor`` task planted above its floor: the node's depth and the sequence.
Planted = tuple[int, tuple[Event, ...]]


@dataclass(slots=True)
class Frontier:
    """What a task left unexplored when its budget ran out: ``dfs``, as tasks, in the order
    one process would have explored them; ``dpor``, its stack below its floor."""

    dfs: list[DfsTask] = field(default_factory=list)
    dpor: tuple[DporNodeState, ...] = ()


# ---------------------------------------------------------------------------------- dfs


class DfsTaskStrategy(DfsStrategy):
    """:class:`DfsStrategy` over one task's subtree (the whole tree for ``task=None``)."""

    def __init__(self, task: DfsTask | None, preemption_bound: int | None = None) -> None:
        super().__init__(preemption_bound)
        self.ranks: list[list[int]] = []  # per node of the stack: the rank of each option
        self.last_key: tuple[int, ...] = ()
        if task is not None:
            for (tid, rank), enabled in zip(task.path, task.enabled, strict=False):
                self.stack.append(_DfsNode([tid], enabled, ()))
                self.ranks.append([rank])
            self.stack.append(_DfsNode([t for t, _ in task.options], task.enabled[-1], ()))
            self.ranks.append([r for _, r in task.options])
            self._started = True

    def key(self) -> tuple[int, ...]:
        """The sequential-order key of the execution just run (call before :meth:`record`)."""
        ranks = self.ranks
        stack = self.stack
        return tuple(
            ranks[d][node.pos] if d < len(ranks) else node.pos for d, node in enumerate(stack)
        )

    def record(self, outcome: RunOutcome) -> None:
        self.last_key = self.key()
        super().record(outcome)
        del self.ranks[len(self.stack) :]

    def frontier(self) -> Frontier:
        """The unexplored options of the current path, deepest first, as tasks."""
        stack, ranks = self.stack, self.ranks
        out = Frontier()
        path: list[tuple[int, int]] = []
        enabled: list[tuple[int, ...]] = []
        tasks: list[DfsTask] = []
        for d, node in enumerate(stack):
            rank = ranks[d] if d < len(ranks) else list(range(len(node.options)))
            # The deepest node was just advanced to an unexplored option; the others are in
            # the middle of theirs (the deeper tasks cover its rest).
            first = node.pos if d == len(stack) - 1 else node.pos + 1
            options = tuple((node.options[i], rank[i]) for i in range(first, len(node.options)))
            if options:
                tasks.append(DfsTask(tuple(path), (*enabled, node.enabled), options))
            path.append((node.options[node.pos], rank[node.pos]))
            enabled.append(node.enabled)
        out.dfs = tasks[::-1]
        return out


# ---------------------------------------------------------------------------------- dpor


class _RemoteNode(_DporNode):
    """A node above the floor, owned by the coordinator: replayed, never explored here. A
    reversal planted at it is checked against the threads asleep there (``sleep``: given
    with the task) and sent back, in the order planted."""

    __slots__ = ("depth", "outbox")

    def __init__(
        self,
        enabled: tuple[int, ...],
        asleep: dict[int, Operation],
        current: int,
        depth: int,
        outbox: list[Planted],
    ) -> None:
        super().__init__(enabled, {}, dict(asleep), current)
        self.depth = depth
        self.outbox = outbox

    def insert(self, seq: list[Event]) -> None:
        self.outbox.append((self.depth, tuple((t, lite(op), s) for t, op, s in seq)))


class DporTaskStrategy(DporStrategy):
    """:class:`DporStrategy` over one task's subtree (the whole tree for ``task=None``):
    nothing above its floor is explored; reversals planted there are collected in
    ``planted``."""

    def __init__(self, task: DporTask | None, preemption_bound: int | None = None) -> None:
        super().__init__(preemption_bound)
        self.planted: list[Planted] = []
        if task is not None:
            steps = zip(task.path, task.enabled, task.asleep, strict=True)
            for depth, (tid, enabled, asleep) in enumerate(steps):
                self.stack.append(_RemoteNode(enabled, asleep, tid, depth, self.planted))
            # The task's node: its branch's wakeup subtree guides the first new node.
            self.stack[-1].branch = task.branch
            self.floor = len(task.path)
            # Its step is new: races from it on are this task's (as in one process, whose
            # next execution after picking a branch at a node is new from that node).
            self.new_from = len(task.path) - 1

    def rest(self) -> tuple[DporNodeState, ...]:
        """The stack below the floor, as plain data (what is left to explore)."""
        out = []
        stack = self.stack
        for index in range(self.floor, len(stack)):
            node = stack[index]
            branch = node.branch if index == len(stack) - 1 else None
            out.append(
                DporNodeState(
                    node.enabled,
                    {t: lite(op) for t, op in node.ops.items()},
                    {t: lite(op) for t, op in node.sleep.items()},
                    tuple(node.done),
                    node.current,
                    None if branch is None else lite_tree(branch),
                    tuple(lite_tree(w) for w in node.wakeup),
                    node.pre,
                    node.last,
                )
            )
        return tuple(out)
