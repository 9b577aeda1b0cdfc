"""One execution: the only place a ``Runtime`` is made (exploring, minimising, replaying)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager

from .._core._findings import Finding
from .._core._memo import StepMemo
from .._core._observer import Observer
from .._core._program import Chooser, Program, RunOutcome
from .._core._runtime import Runtime

__all__ = ["ExecutionContext", "run_once"]

ExecutionContext = Callable[[Runtime], AbstractContextManager[object]]


def run_once(
    build: Callable[[], Program],
    chooser: Chooser,
    *,
    observers: Sequence[Observer],
    max_steps: int,
    contexts: Sequence[ExecutionContext] = (),
    deadline: float | None = None,
    known: Mapping[tuple[object, ...], Finding] | None = None,
    memo: StepMemo | None = None,
) -> tuple[Runtime, RunOutcome]:
    """Build the program and run it once under ``chooser``; return the runtime (strategies
    read what it recorded) and the outcome. ``known``: see ``ExecutionView.known`` (only an
    explorer that merely counts findings of those origins may pass it). ``memo``: observers
    carried from the previous execution (watching besides ``observers``)."""
    runtime = Runtime(
        build,
        chooser,
        observers=observers,
        max_steps=max_steps,
        contexts=contexts,
        deadline=deadline,
        known=known,
        memo=memo,
    )
    return runtime, runtime.run()
