"""Two transfers that take two account locks in opposite orders (ABBA deadlock)."""

from __future__ import annotations

import threading


class Ledger:
    def __init__(self) -> None:
        self.balances = {"a": 100, "b": 100}
        self.locks = {"a": threading.Lock(), "b": threading.Lock()}

    def transfer(self, src: str, dst: str, amount: int) -> None:
        """The bug: lock the source first, then the destination."""
        with self.locks[src], self.locks[dst]:
            self.balances[src] -= amount
            self.balances[dst] += amount

    def transfer_ordered(self, src: str, dst: str, amount: int) -> None:
        """The fix: always take the locks in one global order."""
        first, second = sorted((src, dst))
        with self.locks[first], self.locks[second]:
            self.balances[src] -= amount
            self.balances[dst] += amount


def run_transfers(ledger: Ledger, ordered: bool) -> None:
    move = ledger.transfer_ordered if ordered else ledger.transfer
    threads = [
        threading.Thread(target=move, args=("a", "b", 10), name="a-to-b"),
        threading.Thread(target=move, args=("b", "a", 20), name="b-to-a"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
