"""The record of one execution: its steps and how each thread ended."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._ops import Location, Operation
from ._schedule import ExecutionOptions, Schedule, encode

if TYPE_CHECKING:
    from ._threads import SimThread

__all__ = ["Step", "Trace", "record_trace"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One scheduling step: ``thread`` ran ``op`` (issued at ``location``).

    Attributes:
        index: position in the execution, from 0.
        thread: index of the thread (creation order).
        thread_name: its stable name, such as ``worker#1``.
        op: the operation it performed.
        location: the user-code line that issued it, if known.
    """

    index: int
    thread: int
    thread_name: str
    op: Operation
    location: Location | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    """Everything needed to show or compare an execution.

    Attributes:
        thread_names: names by thread index.
        choices: the thread index of each step.
        ops: the operation of each step.
        locations: the issuing line of each step.
        outcomes: per thread: ``finished``, ``crashed``, ``blocked`` or ``unfinished``.
        schedule: the schedule that reproduces this execution.
        preempted: preemptions counted by the runtime (-1 when not recorded).
    """

    thread_names: tuple[str, ...]
    choices: tuple[int, ...]
    ops: tuple[Operation, ...]
    locations: tuple[Location | None, ...]
    outcomes: tuple[str, ...]
    schedule: Schedule
    preempted: int = -1

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps, built on demand (traces are recorded as parallel tuples for speed)."""
        names = self.thread_names
        return tuple(
            Step(index=i, thread=t, thread_name=names[t], op=op, location=loc)
            for i, (t, op, loc) in enumerate(
                zip(self.choices, self.ops, self.locations, strict=True)
            )
        )

    @property
    def schedule_id(self) -> str:
        """The replayable ID of this execution."""
        return encode(self.schedule, self.ops)

    def __len__(self) -> int:
        return len(self.choices)

    def step(self, index: int) -> Step:
        """The step at ``index``."""
        return Step(
            index=index,
            thread=self.choices[index],
            thread_name=self.thread_names[self.choices[index]],
            op=self.ops[index],
            location=self.locations[index],
        )

    def preemptions(self) -> int:
        """How many times a thread was switched away from while it could still run.

        Exact when the runtime recorded it (it knows which threads could run at each step);
        otherwise estimated from the choices: a switch counts when the previous thread ran
        again later.
        """
        if self.preempted >= 0:
            return self.preempted
        count = 0
        last_index: dict[int, int] = {}
        for i, t in enumerate(self.choices):
            last_index[t] = i
        for i in range(1, len(self.choices)):
            prev = self.choices[i - 1]
            if self.choices[i] != prev and last_index[prev] > i - 1:
                count += 1
        return count


def record_trace(
    threads: Sequence[SimThread],
    blocked: Collection[int],
    choices: Sequence[int],
    ops: Sequence[Operation],
    locations: Sequence[Location | None],
    *,
    recorded: int,
    options: ExecutionOptions,
    preemptions: int,
) -> Trace:
    """The trace of a finished execution: its steps, how each thread ended (``blocked``:
    the tids of threads stuck waiting), and the schedule that replays it (the first
    ``recorded`` choices, after which the default policy takes over)."""
    outcomes = tuple(
        [
            "crashed"
            if t.error is not None
            else "blocked"
            if t.tid in blocked
            else "finished"
            if t.ended and not t.unwound
            else "unfinished"
            for t in threads
        ]
    )
    taken = tuple(choices)
    return Trace(
        thread_names=tuple([t.name for t in threads]),
        choices=taken,
        ops=tuple(ops),
        locations=tuple(locations),
        outcomes=outcomes,
        schedule=Schedule(choices=taken[:recorded], steps=len(taken), options=options),
        preempted=preemptions,
    )
