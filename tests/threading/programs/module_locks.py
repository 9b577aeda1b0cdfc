"""Locks created at import time, before any exploration: module globals, a class attribute,
a name bound with ``from threading import ...``, and one captured in a closure."""

from __future__ import annotations

import threading
import time
from threading import Lock as make_lock

LOCK_A = threading.Lock()
LOCK_B = threading.Lock()
ACCOUNTS = {"a": 100, "b": 100}


def a_then_b() -> None:
    with LOCK_A:
        time.sleep(0.01)
        with LOCK_B:
            ACCOUNTS["a"] -= 1


def b_then_a() -> None:
    with LOCK_B, LOCK_A:
        ACCOUNTS["b"] -= 1


class Registry:
    """Shares one class-level lock between every instance."""

    lock = threading.RLock()

    def __init__(self) -> None:
        self.names: list[str] = []

    def add_once(self, name: str) -> None:
        with self.lock:
            present = name in self.names
        if not present:  # check-then-act across two critical sections
            with self.lock:
                self.names.append(name)


def new_lock() -> object:
    """A lock made with a name imported from threading at import time."""
    return make_lock()


def _make_worker() -> object:
    lock = threading.Lock()  # captured in a closure: interleave cannot see it to swap it

    def work() -> None:
        with lock:
            time.sleep(0.01)  # a yield point while holding a real lock

    return work


HIDDEN_LOCK_WORKER = _make_worker()
