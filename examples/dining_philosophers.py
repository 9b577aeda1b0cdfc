"""Dining philosophers: a lock-order deadlock, and the fix.

Three philosophers sit around a table with one fork (an ``interleave.Lock``) between each pair
of neighbours. To eat, a philosopher needs both forks next to them.

``naive`` (the bug)
    Every philosopher picks up the left fork, then the right one. When all three hold their
    left fork, each waits for a fork its neighbour holds: a ``deadlock`` finding, reported
    with the lock-wait cycle (philosopher0 -> fork1 -> philosopher1 -> fork2 -> ...).

``ordered`` (the fix)
    Every philosopher picks up the lower-numbered fork first. The last philosopher therefore
    reaches for fork0 before fork2, which breaks the cycle. Exhaustively clean.

Run it from the command line::

    interleave explore examples/dining_philosophers.py:naive
    interleave explore examples/dining_philosophers.py:ordered
    python examples/dining_philosophers.py    # the report of every variant

or from Python::

    import interleave
    from dining_philosophers import naive

    result = interleave.explore(naive)
    assert [f.kind for f in result.findings] == ["deadlock"]

``DEMO`` lists the factories ``interleave demo`` explores, in order.
"""

from __future__ import annotations

from collections.abc import Callable

import interleave

#: Philosophers (and forks) around the table.
N = 3


def _table(pick: Callable[[int, int], tuple[int, int]]) -> interleave.Scenario:
    """``pick(left, right)`` says which fork a philosopher takes first."""
    forks = [interleave.Lock(name=f"fork{i}") for i in range(N)]
    meals = interleave.Counter("meals")

    def philosopher(seat: int) -> Callable[[], None]:
        def dine() -> None:
            first, second = pick(seat, (seat + 1) % N)
            with forks[first]:  # noqa: SIM117 - one line per fork, so reports tell them apart
                with forks[second]:
                    meals.add()

        return dine

    return interleave.Scenario(
        threads={f"philosopher{seat}": philosopher(seat) for seat in range(N)},
        check=lambda: meals.get() == N,
    )


def naive() -> interleave.Scenario:
    """The bug: everyone takes the left fork first, so all can hold one and wait forever."""
    return _table(lambda left, right: (left, right))


def ordered() -> interleave.Scenario:
    """The fix: everyone takes the lower-numbered fork first, so no wait cycle can form."""
    return _table(lambda left, right: (min(left, right), max(left, right)))


#: What ``interleave demo`` explores, in this order.
DEMO = [naive, ordered]


if __name__ == "__main__":
    for factory in DEMO:
        print(interleave.explore(factory).report())
        print()
