"""A scenario for ``trace_attributes=True``, in a module of its own: the classes of test modules
are not traced."""

from __future__ import annotations

import interleave


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def hit(self) -> None:
        self.count += 1  # a read, then a write


def attribute_race() -> interleave.Scenario:
    counter = Counter()
    return interleave.Scenario(threads=[counter.hit, counter.hit], check=lambda: counter.count == 2)
