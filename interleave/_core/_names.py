"""Names that are the same in every execution: threads and unnamed objects.

A name identifies a thread or a resource across executions (in schedule IDs, in DPOR's memory
of earlier executions, in reports), so it must never depend on the schedule. Numbering restarts
in every execution; objects a running thread makes are numbered per thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Names"]


class Names:
    """One execution's numbering of threads and unnamed objects."""

    __slots__ = ("_counters", "_threads")

    def __init__(self) -> None:
        self._threads: dict[str, int] = {}  # base name -> last number (0: taken as is)
        self._counters: dict[str, int] = {}  # kind (per thread) -> last number

    def thread(self, explicit: str | None, fn: Callable[..., Any]) -> str:
        """An explicit name as given (first come), else ``function#n`` in creation order."""
        names = self._threads
        if explicit is not None:
            base = explicit
            if base not in names:
                names[base] = 0
                return base
        else:
            base = getattr(fn, "__name__", None) or "thread"
            if base == "<lambda>":
                base = "thread"
        n = names.get(base, 0) + 1
        names[base] = n
        name = f"{base}#{n}"
        while name in names:  # an explicit name already took it
            n += 1
            names[base] = n
            name = f"{base}#{n}"
        return name

    def object(self, kind: str, maker: str | None) -> str:
        """``lock#1``, ``lock#2`` … for objects the scenario factory makes (``maker`` None);
        ``lock#1@worker#2`` for one thread ``worker#2`` makes.

        Two threads that each make a lock do so in either order; numbered across threads, the
        same object would get another name in another schedule, and the exploration would take
        it for another object.
        """
        key = kind if maker is None else f"{kind}@{maker}"
        n = self._counters.get(key, 0) + 1
        self._counters[key] = n
        return f"{kind}#{n}" if maker is None else f"{kind}#{n}@{maker}"
