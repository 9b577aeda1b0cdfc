"""A ``dfs`` exploration split into tasks, applied in one process's depth-first order.

A ``dfs`` task is a subtree (``_tasks.DfsTask``); its executions are the first ones of that
subtree in depth-first order, as many as its budget allows, and what it leaves becomes new
tasks (its *frontier*), which lie right after it in that order. Results are applied in the
depth-first order of their subtrees, whatever order they come back in, so the executions
that count are exactly the first ``max_schedules`` ones one process runs:

* a task's budget is what ``max_schedules`` leaves after everything before it in the order
  (applied executions, and the budgets or executions of the tasks before it not applied
  yet), so the task at the front always has room, and the tasks behind it run ahead; a
  result's frontier joins the order when the result comes, not when it is applied;
* the executions of a task before it in the order are not known until its result comes
  (its frontier can hold more), so a task that ran ahead can reach past ``max_schedules``:
  its result is then run again with exactly the room left (the same first executions of the
  same subtree), and applied instead;
* what lies past the cut is dropped (its executions count in the explore phase's
  executions, as ``dpor``'s dropped work does).

Without a cut (an exhaustive run) every result is applied: the same executions as one
process, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._settings import ExitReason
from ._tasks import SLIVER, WASTE_SHARE, DfsTask

if TYPE_CHECKING:
    from ._parallel import TaskResult

__all__ = ["DfsSplit"]


@dataclass(slots=True)
class _Entry:
    """A task in the depth-first order: its subtree, its budget once handed out (its
    number ``seq``), and its result once received."""

    task: DfsTask
    budget: int = 0
    seq: int | None = None
    result: TaskResult | None = None


class DfsSplit:
    """The tasks of a split ``dfs`` exploration not applied yet, in depth-first order.

    ``make(task, budget)`` submits a task and returns its number.
    """

    def __init__(
        self,
        make: Callable[[DfsTask, int], int],
        budget: int,
        max_schedules: int,
        in_flight: int,
    ) -> None:
        self.make = make
        self.budget = budget
        self.max_schedules = max_schedules
        # Tasks handed out and not back yet, at most: enough to keep every worker busy. Work
        # ahead of the front can end past a cut (a subtree before it turned out bigger); this
        # and WASTE_SHARE keep what a cut run drops small. (3 x 3 increments cut at 10,000
        # with two workers ran 15,788 executions with neither, 11,909 with this alone, 10,360
        # with both.)
        self.in_flight = in_flight
        self.order: list[_Entry] = []
        self.by_seq: dict[int, _Entry] = {}
        self.applied = 0  # executions applied: one process's first ``applied``
        # Executions of results thrown away before the cut: the first runs of tasks that ran
        # ahead past it (run again with the room left). They count against WASTE_SHARE with
        # the work behind the front, so what a run drops in all stays within it.
        self.dropped = 0
        self.cut = False  # a preemption bound cut a subtree
        self.finished = False  # every task applied: the tree is covered

    def start(
        self,
        executions: int,
        frontier: list[DfsTask],
        cut: bool,
    ) -> ExitReason | None:
        """Take in the first task's result (the search from the root, already applied by
        the caller): its frontier becomes the first tasks. Returns a reason to stop."""
        self.applied = executions
        self.cut = cut
        self.order = [_Entry(task) for task in frontier]
        return self._settle()

    def _settle(self) -> ExitReason | None:
        if not self.order:
            self.finished = True
        elif self.applied >= self.max_schedules:
            return ExitReason.MAX_SCHEDULES  # one process stops here too, with tasks left
        return None

    def fill(self) -> None:
        """Hand out every task that ``max_schedules`` still leaves room for, front first.

        Behind the front, only as much as ``WASTE_SHARE`` of ``max_schedules``, less what was
        dropped already: a cut drops what is out (or back, waiting) behind it when it comes,
        since the subtrees before it can take the room that is left (their frontiers come
        back with more). Nor in slivers (``SLIVER``).
        """
        before = self.applied
        out = len(self.by_seq)
        # What a cut could throw away: the executions out or back behind the front, wherever
        # they are in the order (tasks handed out early can lie far behind it), and what was
        # dropped already.
        at_risk = self.dropped + sum(
            e.budget if e.result is None else e.result.executions for e in self.order[1:]
        )
        allowance = int(WASTE_SHARE * self.max_schedules)
        for position, entry in enumerate(self.order):
            room = self.max_schedules - before
            if room <= 0:
                break  # past the cut for now (tasks before it may run fewer than budgeted)
            if entry.seq is None:
                if out >= self.in_flight:
                    break
                budget = min(self.budget, room)
                if position > 0:
                    budget = min(budget, allowance - at_risk)
                    if budget < min(self.budget // SLIVER, room):
                        break
                    at_risk += budget
                out += 1
                entry.budget = budget
                entry.seq = self.make(entry.task, entry.budget)
                self.by_seq[entry.seq] = entry
            done = entry.result
            before += entry.budget if done is None else done.executions

    def receive(self, result: TaskResult) -> None:
        """A task's result (applied when its turn comes: :meth:`advance`). What it left (its
        frontier) goes right after it in the order at once, to be handed out while the
        tasks before it run: it does not depend on them."""
        entry = self.by_seq.pop(result.seq, None)
        if entry is None:
            return  # (a task past the cut)
        entry.result = result
        if result.frontier is not None and result.frontier.dfs:
            at = next(i for i, e in enumerate(self.order) if e is entry) + 1
            self.order[at:at] = [_Entry(task) for task in result.frontier.dfs]

    def advance(self, apply: Callable[[TaskResult], ExitReason | None]) -> ExitReason | None:
        """Apply the results at the front of the order. ``apply(result)`` counts one and
        says whether to stop there. Returns a reason to stop."""
        while self.order:
            entry = self.order[0]
            result = entry.result
            if result is None:
                break  # its turn, not back yet
            room = self.max_schedules - self.applied
            if result.executions > room:
                # It ran ahead past the cut: its first ``room`` executions are one
                # process's last ones. Run the same subtree again with that budget (what
                # its frontier put after it is past the cut: never applied).
                self.dropped += result.executions
                entry.result = None
                entry.budget = room
                entry.seq = self.make(entry.task, room)
                self.by_seq[entry.seq] = entry
                return None
            del self.order[0]
            self.applied += result.executions
            self.cut |= result.cut
            stop = apply(result)
            if stop is not None:
                return stop
            settled = self._settle()
            if settled is not None or self.finished:
                return settled
        return None
