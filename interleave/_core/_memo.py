"""Observers carried from one execution to the next, so a repeated prefix is not watched twice.

Systematic strategies run executions that share long prefixes: depth-first search (and DPOR's
search) goes back to the deepest branch point and runs on from there, so four steps in five
repeat a step the previous execution took, in the same order, by the same thread, at the
same line (measured on increments programs: 80%). Threads must re-run those steps (their state
cannot be copied), but the detectors need not watch them again: a *rewindable* observer logs
how each step changed it, and when the next execution leaves the previous one's path at step
``k`` the observer undoes steps ``k`` onwards and watches from there.

The runtime decides what repeats, not the strategy: it keeps each step's signature (thread,
operation, line) and skips the hooks only while the new execution's steps are equal to the
previous one's. A rewindable observer's ``on_step`` must therefore read nothing but what the
signature holds: the step's index, ``thread.tid``, ``thread.created_at``, ``thread.location``
and the operation's class, ``kind``, ``resource`` and ``footprint``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from ._native import mypyc_attr
from ._observer import Observer, overrides_hook

if TYPE_CHECKING:
    from ._ops import Footprint, Location, Operation, Resource
    from ._threads import SimThread

__all__ = ["MISSING", "Rewindable", "StepMemo", "step_signature"]

#: The old value of a key that was absent: rewinding deletes the key.
MISSING: Final = object()


@mypyc_attr(allow_interpreted_subclasses=True)
class Rewindable(Observer):
    """An observer whose ``on_step`` changes can be undone, step by step (see the module docs).

    ``on_step`` must first append ``len(self._undo)`` to ``self._marks`` (where the step's
    changes begin), then log the old value of every key it sets or deletes in any of its dicts
    (``self._undo.append((container, key, old))``, ``old`` being :data:`MISSING` for a new key)
    before changing it. A list that only grows is logged as ``(the_list, len(the_list),
    MISSING)`` before the append.
    """

    __slots__ = ("_marks", "_undo")

    def __init__(self) -> None:
        # (container, key, old value) for each change, oldest first.
        self._undo: list[tuple[Any, Any, Any]] = []
        # Per step seen: the length of the log before it (so step k's changes are
        # _undo[_marks[k]:_marks[k + 1]]).
        self._marks: list[int] = []

    def rewind(self, step: int) -> None:
        """Undo every step from ``step`` on: the state is as right after step ``step - 1``."""
        marks = self._marks
        if step >= len(marks):
            return
        undo = self._undo
        cut = marks[step]
        del marks[step:]
        undone = undo[cut:]
        del undo[cut:]
        for i in range(len(undone) - 1, -1, -1):  # newest first
            container, key, old = undone[i]
            if old is MISSING:
                del container[key]
            else:
                container[key] = old


#: (thread id, the step that created it, line, operation class, kind, resource, footprint).
Signature = tuple[int, int, "Location | None", type, str, "Resource", "Footprint"]


def step_signature(thread: SimThread, op: Operation) -> Signature:
    """What a rewindable observer may read of a step (besides its index)."""
    return (
        thread.tid,
        thread.created_at,
        thread.location,
        op.__class__,
        op.kind,
        op.resource,
        op.footprint,
    )


class StepMemo:
    """One exploration's observers, kept across its executions, and the steps they saw last.

    Made by :meth:`of`, which refuses (None) observers it cannot carry: one that watches steps
    without being :class:`Rewindable`, or that keeps findings of its own (``on_finish``) without
    being rewindable. The runtime (``Runtime(memo=...)``) feeds the observers only the steps
    that differ from the previous execution's, after rewinding them to the first difference.
    """

    __slots__ = ("enabled", "hooks", "observers", "rewindable", "steps", "token")

    def __init__(self, observers: Sequence[Observer]) -> None:
        self.observers = tuple(observers)
        self.rewindable = [o for o in self.observers if isinstance(o, Rewindable)]
        self.hooks: list[Callable[[int, SimThread, Operation], None]] = [
            o.on_step for o in self.rewindable if overrides_hook(o, "on_step")
        ]
        #: The signature of each step the observers have seen, in order.
        self.steps: list[Signature] = []
        #: With each step, the ids of the threads enabled at it.
        self.enabled: list[tuple[int, ...]] = []
        #: The ``token`` of the chooser that ran the last execution (see ``Chooser``): the next
        #: execution's chooser, if it ``follows`` that one, may be replayed by the runtime.
        self.token: object = None

    @classmethod
    def of(cls, observers: Sequence[Observer]) -> StepMemo | None:
        """A memo carrying ``observers``, or None when one of them cannot be carried."""
        for observer in observers:
            if isinstance(observer, Rewindable):
                continue
            if overrides_hook(observer, "on_step") or overrides_hook(observer, "on_finish"):
                return None
        return cls(observers)

    def rewind(self, step: int) -> None:
        """Forget the steps from ``step`` on (the observers undo them)."""
        if step < len(self.steps):
            del self.steps[step:]
            del self.enabled[step:]
            for observer in self.rewindable:
                observer.rewind(step)
