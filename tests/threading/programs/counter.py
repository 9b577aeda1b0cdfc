"""A hit counter whose ``self.count += 1`` is a read-modify-write without a lock."""

from __future__ import annotations

import threading


class HitCounter:
    def __init__(self) -> None:
        self.count = 0

    def hit(self) -> None:
        self.count += 1  # the bug: two threads can read the same value


class LockedHitCounter:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def hit(self) -> None:
        with self._lock:
            self.count += 1


def hammer(counter: HitCounter | LockedHitCounter, threads: int = 2) -> None:
    workers = [threading.Thread(target=counter.hit) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
