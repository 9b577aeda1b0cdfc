"""What an execution runs and what it produced: the types the engine and the runtime share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ._findings import Finding
from ._ops import Operation
from ._schedule import DEFAULT_OPTIONS, ExecutionOptions, encode
from ._trace import Trace

if TYPE_CHECKING:
    from ._threads import SimThread
    from ._views import StepView

__all__ = ["Chooser", "Program", "RunOutcome", "ThreadSpec"]


class ThreadSpec(NamedTuple):
    """A thread to start: an explicit name (or None to derive one), the function, its args.

    (A named tuple: one is built per thread of every execution.)
    """

    name: str | None
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Program:
    """A built scenario, normalised: what one execution runs."""

    threads: tuple[ThreadSpec, ...]
    check: Callable[[], object] | None = None
    teardown: Callable[[], object] | None = None
    name: str = "scenario"
    #: The options this program runs with, recorded in its schedule IDs.
    options: ExecutionOptions = DEFAULT_OPTIONS


class Chooser(Protocol):
    """Picks the thread to run at each step (strategies provide these).

    It sees the step through a read-only :class:`~interleave._core._views.StepView` (the
    runtime itself, typed narrowly): it may read, never change, the execution. ``enabled``
    is never changed once passed: the runtime passes the same list again while the enabled
    threads stay the same, and a new list when they change (choosers may keep what they
    derive from it, keyed by its identity).

    A chooser that replays the start of its previous execution may say so, and let the
    runtime replay it without asking (the replay fast path): ``token`` (an object of its
    own), ``follows`` (the ``token`` of the chooser that ran the previous execution of the
    same search, or None) and ``replayable``, the number of first steps at which it would
    choose the thread the previous execution ran, having checked then what it would check
    now. The runtime does so only when the previous execution it carried observers through
    (see ``_memo.py``) was that chooser's, and only for steps whose enabled threads and
    signature equal that execution's; at the first difference it asks the chooser again.
    """

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread: ...


class RunOutcome:
    """What one execution produced: all a strategy learns from it.

    Attributes:
        trace: the steps (threads, resolved operations, locations) and how each thread ended;
            built on first use (``record``), since most executions of an exploration are
            only counted: their length and threads are ``steps`` and ``threads``.
        raw_findings: what went wrong, without ID and trace (``findings`` adds them).
        stuck: no thread could run while some had not finished.
        pending: the operation each unfinished thread was about to do (resolved) when the
            execution ended early (stuck, or a step limit): they conflict with what ran.
        created_at: per thread, the step during which another thread started it (-1: one of
            the scenario's own threads).
        steps: the number of steps (``len(trace)``).
        choices, ops: the thread and the (resolved) operation of each step, as the runtime
            recorded them: what the trace holds, without building it (DPOR reads them after
            every execution; read-only).
        threads: the number of threads (``len(trace.thread_names)``).

    (A plain slotted class, read-only by convention: a frozen dataclass's constructor costs
    more than a scheduling step, and one is made per execution.)
    """

    __slots__ = (
        "_record",
        "_schedule_id",
        "_trace",
        "choices",
        "created_at",
        "ops",
        "pending",
        "raw_findings",
        "steps",
        "stuck",
        "threads",
    )

    def __init__(
        self,
        *,
        record: Callable[[], Trace],
        steps: int,
        threads: int,
        raw_findings: tuple[Finding, ...],
        stuck: bool = False,
        pending: Mapping[int, Operation] | None = None,
        created_at: tuple[int, ...] = (),
        choices: Sequence[int] = (),
        ops: Sequence[Operation] = (),
    ) -> None:
        self._record = record
        self._trace: Trace | None = None
        self._schedule_id = ""
        self.steps = steps
        self.threads = threads
        self.raw_findings = raw_findings
        self.stuck = stuck
        self.pending: Mapping[int, Operation] = {} if pending is None else pending
        self.created_at = created_at
        self.choices = choices
        self.ops = ops

    @property
    def trace(self) -> Trace:
        """The trace, recorded on first use, then kept."""
        trace = self._trace
        if trace is None:
            trace = self._trace = self._record()
        return trace

    @property
    def schedule_id(self) -> str:
        """The ID that replays this execution (encoded on first use, then kept)."""
        sid = self._schedule_id
        if not sid:
            trace = self.trace
            sid = self._schedule_id = encode(trace.schedule, trace.ops)
        return sid

    def finalise(self, finding: Finding) -> Finding:
        """``finding`` with what shows and replays it: this execution's ID and trace.

        The runtime leaves findings bare: an exploration keeps one finding per origin, so most
        of them (the same bug found again) never need an ID, whose encoding costs more than a
        step.
        """
        return replace(finding, schedule_id=self.schedule_id, trace=self.trace)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of the execution, finalised (see :meth:`finalise`)."""
        return tuple([self.finalise(f) for f in self.raw_findings])
