"""A bank account whose lock is used wrongly: the balance check and the debit are two
separate critical sections, so two withdrawals can both pass the check."""

from __future__ import annotations

import threading


class Account:
    """The buggy account: check-then-act across two ``with self._lock`` blocks."""

    def __init__(self, balance: int) -> None:
        self.balance = balance
        self._lock = threading.Lock()

    def withdraw(self, amount: int) -> bool:
        with self._lock:
            enough = self.balance >= amount
        if not enough:
            return False
        with self._lock:  # another withdrawal may have run since the check
            self.balance -= amount
        return True


class SafeAccount(Account):
    """The fix: check and debit in one critical section."""

    def withdraw(self, amount: int) -> bool:
        with self._lock:
            if self.balance < amount:
                return False
            self.balance -= amount
            return True


def withdraw_twice(account: Account, amount: int) -> list[bool]:
    """Two threads withdraw ``amount`` at once; return what each withdrawal said."""
    results: list[bool] = [False, False]

    def teller(i: int) -> None:
        results[i] = account.withdraw(amount)

    tellers = [threading.Thread(target=teller, args=(i,)) for i in range(2)]
    for t in tellers:
        t.start()
    for t in tellers:
        t.join()
    return results
