"""The textbook scenarios many tests use: one definition each.

(On the tests' import path through ``pythonpath`` in ``pyproject.toml``: ``import textbook``.)
"""

from __future__ import annotations

import interleave


def lost_update() -> interleave.Scenario:
    """Two workers increment a shared value with a read, then a write: a lost update."""
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def abba() -> interleave.Scenario:
    """Two threads take two locks in opposite orders: a lock-order deadlock."""
    a, b = interleave.Lock(name="a"), interleave.Lock(name="b")

    def one() -> None:
        with a, b:
            pass

    def two() -> None:
        with b, a:
            pass

    return interleave.Scenario(threads={"one": one, "two": two})


def spin() -> interleave.Scenario:
    """A thread that waits for a value in a loop with no blocking call: a step limit."""
    flag = interleave.Shared("flag", 0)
    seen: list[int] = []

    def waiter() -> None:
        while flag.get() == 0:
            pass
        seen.append(1)

    def setter() -> None:
        flag.set(1)

    return interleave.Scenario(threads=[waiter, setter], check=lambda: len(seen) == 0)
