"""Bank transfers: a lost update, and two ways to fix it.

Three accounts (alice, bob, carol) hold 100 each. Two transfers run at the same time and both
touch bob: alice pays bob 30 while bob pays carol 20. Whatever the interleaving, the bank must
still hold 300 in total.

``unlocked`` (the bug)
    ``transfer`` reads both balances, then writes both. When the other transfer writes bob's
    balance between this transfer's read and write, that write is overwritten: a
    ``lost-update`` finding, and the total is no longer 300 (an ``invariant`` finding).

``locked`` (a fix)
    Each account has its own ``interleave.Lock``; a transfer takes the two locks in a fixed
    order (by account name), so two transfers never wait for each other in a cycle.
    Exhaustively clean.

``atomic`` (another fix)
    Each balance changes with one atomic ``Shared.update`` step, so no write is based on a
    stale read. Exhaustively clean.

Run it from the command line::

    interleave explore examples/bank_transfer.py:unlocked
    interleave explore examples/bank_transfer.py:locked
    python examples/bank_transfer.py          # the report of every variant

or from Python::

    import interleave
    from bank_transfer import unlocked

    result = interleave.explore(unlocked)
    assert [f.kind for f in result.findings] == ["lost-update", "invariant"]

``DEMO`` lists the factories ``interleave demo`` explores, in order.
"""

from __future__ import annotations

from collections.abc import Callable

import interleave

TOTAL = 300
#: (source, destination, amount) of the transfers that run at the same time.
TRANSFERS = (("alice", "bob", 30), ("bob", "carol", 20))


def _accounts() -> dict[str, interleave.Shared[int]]:
    return {name: interleave.Shared(name, 100) for name in ("alice", "bob", "carol")}


def _scenario(
    accounts: dict[str, interleave.Shared[int]],
    transfer: Callable[[str, str, int], None],
) -> interleave.Scenario:
    def thread(src: str, dst: str, amount: int) -> Callable[[], None]:
        def run() -> None:
            transfer(src, dst, amount)

        return run

    def total_is_conserved() -> bool:
        return sum(account.get() for account in accounts.values()) == TOTAL

    return interleave.Scenario(
        threads={f"{src}->{dst}": thread(src, dst, amount) for src, dst, amount in TRANSFERS},
        check=total_is_conserved,
    )


def unlocked() -> interleave.Scenario:
    """The bug: read both balances, then write both, with nothing held in between."""
    accounts = _accounts()

    def transfer(src: str, dst: str, amount: int) -> None:
        src_balance = accounts[src].get()
        dst_balance = accounts[dst].get()
        accounts[src].set(src_balance - amount)
        accounts[dst].set(dst_balance + amount)

    return _scenario(accounts, transfer)


def locked() -> interleave.Scenario:
    """The fix: one lock per account, the two taken in a fixed order (by account name)."""
    accounts = _accounts()
    locks = {name: interleave.Lock(name=f"{name}-lock") for name in accounts}

    def transfer(src: str, dst: str, amount: int) -> None:
        first, second = sorted((src, dst))
        with locks[first], locks[second]:
            src_balance = accounts[src].get()
            dst_balance = accounts[dst].get()
            accounts[src].set(src_balance - amount)
            accounts[dst].set(dst_balance + amount)

    return _scenario(accounts, transfer)


def atomic() -> interleave.Scenario:
    """Another fix: each balance changes in one atomic read-modify-write step."""
    accounts = _accounts()

    def transfer(src: str, dst: str, amount: int) -> None:
        accounts[src].update(lambda balance: balance - amount)
        accounts[dst].update(lambda balance: balance + amount)

    return _scenario(accounts, transfer)


#: What ``interleave demo`` explores, in this order.
DEMO = [unlocked, locked, atomic]


if __name__ == "__main__":
    for factory in DEMO:
        print(interleave.explore(factory).report())
        print()
