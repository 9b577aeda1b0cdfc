"""A bounded buffer whose consumers test the condition with ``if`` instead of ``while``.

A consumer woken by ``notify`` does not own the item: another consumer may take it first.
"""

from __future__ import annotations

import threading


class Buffer:
    def __init__(self) -> None:
        self.items: list[int] = []
        self.cond = threading.Condition()

    def put(self, item: int) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify()

    def get(self) -> int:
        """The bug: ``if`` re-checks nothing after the wake-up."""
        with self.cond:
            if not self.items:
                self.cond.wait()
            return self.items.pop(0)

    def get_fixed(self) -> int:
        """The fix: wait in a loop (or ``wait_for``)."""
        with self.cond:
            while not self.items:
                self.cond.wait()
            return self.items.pop(0)
