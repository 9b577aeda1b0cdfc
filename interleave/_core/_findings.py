"""Findings: what went wrong in an execution, with what is needed to show and replay it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._ops import Location, Resource
from ._trace import Trace

__all__ = [
    "CallRecord",
    "DataRace",
    "Deadlock",
    "Finding",
    "Hold",
    "InvariantViolation",
    "LostUpdate",
    "NotLinearizable",
    "StepLimit",
    "TeardownFailed",
    "ThreadCrashed",
    "WaitInfo",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A problem found in one execution.

    Attributes:
        kind: ``deadlock``, ``lost-update``, ``invariant``, ``exception``, ``step-limit``,
            ``teardown``, ``not-linearizable`` or ``data-race``.
        message: one paragraph that says what happened.
        threads: names of the threads involved.
        steps: indices of the steps involved (into ``trace``).
        schedule_id: the ID that replays the execution (``interleave.replay``).
        trace: the execution in which it was found.
        signature: what makes two findings "the same bug" (used to deduplicate).
    """

    kind: ClassVar[str] = "finding"
    message: str
    threads: tuple[str, ...] = ()
    steps: tuple[int, ...] = ()
    schedule_id: str = ""
    trace: Trace | None = field(default=None, repr=False, compare=False)
    signature: tuple[object, ...] = field(default=(), repr=False)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    @property
    def origin(self) -> tuple[object, ...]:
        """What makes two findings the same bug: ``(kind, *signature)``. An exploration keeps
        one finding per origin (the first found), and counts how many executions showed it."""
        return (self.kind, *self.signature)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """A thread holding a resource, with the step and line where it took it."""

    thread: str
    resource: str
    step: int | None
    location: Location | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitInfo:
    """What one blocked thread waits for, and who holds it."""

    thread: str
    waits_for: str
    resource: Resource
    holders: tuple[Hold, ...]
    location: Location | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadlock(Finding):
    """No thread could run while some had not finished.

    Attributes:
        cycle: the lock-wait cycle as ``(thread, resource, thread, resource, ...)`` names,
            empty when the run is stuck without a cycle (an Event nobody sets, say).
        waits: every blocked thread, what it waits for and who holds that.
        graph: the lock-wait graph (``networkx.DiGraph``): thread -> resource it waits for
            -> thread holding it.
    """

    kind: ClassVar[str] = "deadlock"
    cycle: tuple[str, ...] = ()
    waits: tuple[WaitInfo, ...] = ()
    graph: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LostUpdate(Finding):
    """A thread wrote a resource based on a read that another thread's write made stale.

    Attributes:
        resource: the resource key.
        read_step: the step where the losing thread read it.
        other_write_step: the step where another thread wrote it after that read.
        write_step: the step where the losing thread wrote it, overwriting that write.
    """

    kind: ClassVar[str] = "lost-update"
    resource: Resource = ()
    read_step: int = -1
    other_write_step: int = -1
    write_step: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class DataRace(Finding):
    """Two threads accessed the same data, at least one of them writing, and nothing ordered
    the two accesses: no lock released by one and taken by the other, no event, join, queue
    or other synchronisation between them. It is a bug even when this execution's values came
    out right: another timing (or another interpreter) can interleave the two accesses.

    Attributes:
        resource: the resource key (``("shared", "hits")``, ``("attr", "Account#1.balance")``).
        first_step: the earlier of the two accesses (a step of ``trace``).
        second_step: the later one.
        first_access: ``read`` or ``write``.
        second_access: ``read`` or ``write``.
        first_location: the line of the earlier access.
        second_location: the line of the later access.

    Example::

        result = interleave.explore(unlocked_counter, trace_attributes=True)
        race = next(f for f in result.findings if isinstance(f, interleave.DataRace))
        print(race.first_location, race.second_location)
    """

    kind: ClassVar[str] = "data-race"
    resource: Resource = ()
    first_step: int = -1
    second_step: int = -1
    first_access: str = ""
    second_access: str = ""
    first_location: Location | None = None
    second_location: Location | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvariantViolation(Finding):
    """The scenario's ``check()`` returned False or raised."""

    kind: ClassVar[str] = "invariant"
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadCrashed(Finding):
    """A thread raised an exception (its traceback is kept)."""

    kind: ClassVar[str] = "exception"
    thread: str = ""
    exception: str = ""
    traceback: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepLimit(Finding):
    """A thread took more than ``max_steps`` steps: most likely a spin loop."""

    kind: ClassVar[str] = "step-limit"
    thread: str = ""
    max_steps: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TeardownFailed(Finding):
    """The scenario's ``teardown()`` raised (its traceback is kept); the exploration goes on.

    Example::

        def scenario():
            conn = sqlite3.connect(":memory:")
            return interleave.Scenario(threads=[work], teardown=conn.close)

        result = interleave.explore(scenario)
        failed = [f for f in result.findings if isinstance(f, interleave.TeardownFailed)]
    """

    kind: ClassVar[str] = "teardown"
    exception: str = ""
    traceback: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One call of a history that ``check_linearizable`` recorded.

    Attributes:
        thread: the name of the thread that made it (``t1``, ``t2`` ...).
        method: the method called.
        args: its arguments.
        result: what it returned, or the exception it raised (``raised``).
        raised: it raised ``result``.
        invoked: the step of its ``call`` mark in the trace (the invocation).
        returned: the step of its ``->`` mark (the response).
    """

    thread: str
    method: str
    args: tuple[object, ...] = ()
    result: object = None
    raised: bool = False
    invoked: int = -1
    returned: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class NotLinearizable(Finding):
    """No sequential order of an execution's calls, respecting real time, gives their results
    under the model (``interleave.check_linearizable``). The history is that of the execution
    in ``trace``, as it ran: a call runs from its ``call`` step to its result step.

    Attributes:
        model: the model's name.
        calls: every call of the execution, thread by thread.
        after: ``(a, b)`` pairs of calls (indices into ``calls``) of different threads where
            ``a`` returned before ``b`` was invoked: every explaining order must put ``a``
            first.
        checked: the calls the search covered (all, or those of the partition key ``key``).
        key: the ``repr`` of the partition key whose calls fail (None: not partitioned).
        order: the longest order of calls the model explains (indices into ``calls``).
        stuck: the calls that could come next after ``order``, each with what the model
            does there instead (``returns 1``, ``raises Empty``).

    Example::

        result = interleave.check_linearizable(StaleCounter, CounterModel, ["increment"])
        finding = result.findings[0]
        assert isinstance(finding, interleave.NotLinearizable)
        print([(c.thread, c.method, c.result) for c in finding.calls])
    """

    kind: ClassVar[str] = "not-linearizable"
    model: str = ""
    calls: tuple[CallRecord, ...] = ()
    after: tuple[tuple[int, int], ...] = ()
    checked: tuple[int, ...] = ()
    key: str | None = None
    order: tuple[int, ...] = ()
    stuck: tuple[tuple[int, str], ...] = ()
