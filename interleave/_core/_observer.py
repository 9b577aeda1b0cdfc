"""Observers: detectors watch an execution through these hooks and never steer it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._findings import Finding
    from ._ops import Operation
    from ._runtime import Runtime
    from ._threads import SimThread

__all__ = ["Observer"]


class Observer:
    """Base class for detectors.

    Override only the hooks you need: the runtime calls just the overridden ones, so an unused
    hook costs nothing. Hooks must not pick threads or touch instrumented objects. An exception
    in a hook fails the run loudly (it is a bug in the detector).
    """

    def on_step(self, runtime: Runtime, index: int, thread: SimThread, op: Operation) -> None:
        """Called when ``thread`` has been chosen to perform ``op`` as step ``index``."""

    def on_stuck(self, runtime: Runtime, blocked: list[SimThread]) -> list[Finding]:
        """Called when no thread can run and ``blocked`` have not finished."""
        return []

    def on_finish(self, runtime: Runtime) -> list[Finding]:
        """Called once after the execution ends (before ``check()``)."""
        return []

    @classmethod
    def overrides(cls, hook: str) -> bool:
        return getattr(cls, hook) is not getattr(Observer, hook)
