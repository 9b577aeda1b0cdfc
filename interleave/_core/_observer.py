"""Observers: detectors watch an execution through these hooks and never steer it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._native import mypyc_attr

if TYPE_CHECKING:
    from ._findings import Finding
    from ._ops import Operation
    from ._threads import SimThread
    from ._views import ExecutionView

__all__ = ["Observer", "overrides_hook"]


@mypyc_attr(allow_interpreted_subclasses=True)
class Observer:
    """Base class for detectors.

    Override only the hooks you need: the runtime calls just the overridden ones, so an unused
    hook costs nothing. A hook sees the step (``on_step``) or a read-only view of the execution
    (``on_stuck``, ``on_finish``), never the runtime: it cannot pick threads, and must not
    touch instrumented objects. An exception in a hook fails the run loudly (it is a bug in
    the detector).
    """

    def on_step(self, index: int, thread: SimThread, op: Operation) -> None:
        """Called when ``thread`` has been chosen to perform ``op`` as step ``index``."""

    def on_stuck(self, execution: ExecutionView, blocked: list[SimThread]) -> list[Finding]:
        """Called when no thread can run and ``blocked`` have not finished."""
        return []

    def on_finish(self, execution: ExecutionView) -> list[Finding]:
        """Called once after the execution ends (before ``check()``)."""
        return []

    @classmethod
    def overrides(cls, hook: str) -> bool:
        return getattr(cls, hook) is not getattr(Observer, hook)


_overridden: dict[tuple[type[Observer], str], bool] = {}


def overrides_hook(observer: Observer, hook: str) -> bool:
    """``observer.overrides(hook)``, remembered per class (it is asked on every execution)."""
    key = (type(observer), hook)
    flag = _overridden.get(key)
    if flag is None:
        flag = _overridden[key] = observer.overrides(hook)
    return flag
