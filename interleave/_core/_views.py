"""What the engine and the detectors may see of a running execution: read-only views.

The runtime is the only writer of an execution's state. Choosers (strategies) see a
:class:`StepView` at each step, detectors an :class:`ExecutionView` when the execution is
stuck or finished (and, at each step, only the step itself: ``on_step(index, thread, op)``).
Both are protocols that :class:`~interleave._core._runtime.Runtime` satisfies as it is, so the
narrow contract costs nothing on the hot path; the type checker keeps everyone to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._findings import Finding
    from ._ops import Location, Operation
    from ._threads import SimThread

__all__ = ["ExecutionView", "StepView"]


class ExecutionView(Protocol):
    """An execution as detectors see it when it is stuck or over."""

    @property
    def threads(self) -> Sequence[SimThread]:
        """Every thread, in creation order."""
        ...

    @property
    def choices(self) -> Sequence[int]:
        """The thread of each step."""
        ...

    @property
    def ops(self) -> Sequence[Operation]:
        """The operation each step performed (as it resolved)."""
        ...

    @property
    def locations(self) -> Sequence[Location | None]:
        """The user-code line that issued each step."""
        ...

    @property
    def known(self) -> Mapping[tuple[object, ...], Finding]:
        """Findings the exploration already keeps, by origin (empty outside its explore
        phase). A detector whose finding has one of these origins may return the kept one
        instead of building it again: the explorer only counts it."""
        ...


class StepView(ExecutionView, Protocol):
    """A step about to be chosen, as a chooser sees it: the execution so far (read-only), and
    what the step depends on."""

    @property
    def step_count(self) -> int:
        """Steps taken so far: the index of the step being chosen."""
        ...

    @property
    def last(self) -> SimThread | None:
        """The thread that took the previous step, if any."""
        ...

    @property
    def preemptions(self) -> int:
        """Switches so far away from a thread that could have continued."""
        ...

    def default_choice(self, enabled: list[SimThread]) -> SimThread:
        """The default policy: the last thread if it can continue, else the lowest one."""
        ...

    def resolved(self, op: Operation, thread: SimThread) -> Operation:
        """What ``op`` does if ``thread`` runs it now."""
        ...
