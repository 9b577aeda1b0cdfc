"""Helpers shared by the shims: is this call scheduled, and how are things named."""

from __future__ import annotations

import itertools

from .._core import _context
from .._core._context import state as _state
from .._core._runtime import Runtime

__all__ = ["auto_name", "refuse_threads_in_task", "sim"]

_plain_counter = itertools.count(1)


def sim() -> Runtime | None:
    """The runtime if the caller is a simulated thread, else ``None`` (plain behaviour)."""
    rt = _state.active  # _context.active(), inlined: every instrumented call asks
    if rt is not None and rt.current is not None:
        return rt
    return None


def auto_name(kind: str, name: str | None) -> str:
    """The given name, or a stable one (``lock#1`` …) counted per execution.

    Objects created while a scenario is built or run are numbered by that execution's
    runtime, so the same object gets the same name in every execution (and in replays).
    """
    if name is not None:
        if not isinstance(name, str) or not name:
            from ..errors import InvalidArgument

            raise InvalidArgument(f"name={name!r} must be a non-empty string")
        return name
    rt = _context.building()
    if rt is not None:
        return rt.next_name(kind)
    return f"{kind}#{next(_plain_counter)}"


def refuse_threads_in_task(rt: Runtime, what: str) -> None:
    """Raise ``ScenarioError`` when an asyncio task of the execution starts a thread: tasks and
    threads are not explored together (see ``Scenario``)."""
    me = rt.current
    if me is not None and hasattr(me.handle, "check_blocking_wait"):
        from ..errors import ScenarioError

        raise ScenarioError(
            f"task {me.name!r} called {what}: interleave explores the tasks of one event loop or "
            "threads, not both. Explore the threaded code in a scenario of its own"
        )
