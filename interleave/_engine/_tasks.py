"""One exploration split into tasks: a subtree of the search, run by a worker.

``dfs``: a task is a path from the root down to a *floor* node (each step with its *rank*, its
option's place at its node in the order one process explores them) and the options left at
the floor. A worker replays the path (checking that the scenario is deterministic) and runs
DFS below, never backtracking above the floor, until the subtree is covered or the task's
budget of executions is spent; then the unexplored rest of its path becomes new tasks (the
*frontier*), so a deep subtree is split as it goes.

``dpor``: the coordinator expands the top of the tree with sleep sets (every awake thread at
a node starts a child) and makes a task of each node where it stops, with that node's sleep
set. A worker runs optimal DPOR from there (``_dpor.py``). Two things differ from one
process. A reversal planted above the floor is dropped: every awake thread at those nodes
starts a task of its own, and a sleeping one stands for a sibling's subtree. And a sleeping
thread covers a reversal only when the reversal can start with it (an *initial*, as in
source-DPOR), not merely when it commutes with it (a *weak initial*, optimal DPOR's rule):
the weak rule relies on the wakeup sequences a sibling's subtree plants at the top to steer
the later siblings, and a task started beside that sibling never receives them. The
tasks cover every class, each once among the executions that are not sleep-set blocked;
the blocked ones are the price (``statistics.pruned``).

Everything a task carries is plain data: thread indices, and the sleep set's operations
reduced to their kind, resource and footprint (``lite``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._core._ops import Operation
from .._core._program import RunOutcome
from ._dpor import DporStrategy, _DporNode
from ._races import Event
from ._strategies import DfsStrategy, _DfsNode

__all__ = ["DfsTask", "DfsTaskStrategy", "DporTask", "DporTaskStrategy", "Frontier", "lite"]


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


@dataclass(frozen=True, slots=True)
class DporTask:
    """A ``dpor`` subtree: the threads run above the floor (``path``), ``enabled`` per step
    above it, and the sleep set of the floor node."""

    path: tuple[int, ...]
    enabled: tuple[tuple[int, ...], ...]
    sleep: dict[int, Operation]


@dataclass(slots=True)
class Frontier:
    """What a ``dfs`` task left unexplored when its budget ran out, as tasks, in the order one
    process would have explored them."""

    dfs: list[DfsTask] = field(default_factory=list)


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
    """A node above the floor: replayed, never explored. Every awake thread there starts a
    task of its own, so a reversal planted there is explored by another task: it is
    dropped."""

    __slots__ = ()

    def asleep(self) -> dict[int, Operation]:
        return {}

    def insert(self, seq: list[Event]) -> None:
        return None


class DporTaskStrategy(DporStrategy):
    """:class:`DporStrategy` over one task's subtree (the whole tree for ``task=None``): the
    floor node starts with the task's sleep set, nothing above it is explored, and sleeping
    threads cover reversals by initials only."""

    def __init__(self, task: DporTask | None, preemption_bound: int | None = None) -> None:
        super().__init__(preemption_bound)
        if task is not None:
            for tid, enabled in zip(task.path, task.enabled, strict=True):
                self.stack.append(_RemoteNode(enabled, {}, {}, tid))
            if self.stack:
                self.stack[-1].child_sleep = dict(task.sleep)
            self.initials_only = True
            self.floor = self.new_from = len(task.path)
