"""Classic DPOR benchmark programs, written with interleave's primitives.

Used by ``bench_dpor.py`` and pinned (exact trace counts) in ``tests/engine``:

* ``increments(n, k)``: n threads, each doing k unlocked ``v = x.get(); x.set(v + 1)``.
* ``readers(n)``: one writer stores x; n readers load x once: 2**n traces.
* ``lastzero(n)``: a[0..n] = 0; a reader scans i = n down while a[i] != 0; writer j in 1..n does
  a[j] = a[j-1] + 1: (n + 3) * 2**n / 4 traces.
* ``indexer(n)``: thread t inserts w = 11m + t (m = 1..4) into a 128-slot hash table at
  h = 7w mod 128 with linear probing, each probe an atomic compare-and-set: 8**(n - 11)
  traces for n >= 11.
* ``ordering_bug``: a depth-2 bug for PCT (a reader must run inside a window of a writer).
"""

from __future__ import annotations

from collections.abc import Callable

import interleave

Factory = Callable[[], interleave.Scenario]


def increments(n: int, k: int, *, locked: bool = False) -> Factory:
    """n threads x k read-then-write increments of one Shared (optionally under a Lock)."""

    def scenario() -> interleave.Scenario:
        x = interleave.Shared("x", 0)
        lock = interleave.Lock(name="x-lock")

        def worker() -> None:
            for _ in range(k):
                if locked:
                    with lock:
                        x.set(x.get() + 1)
                else:
                    x.set(x.get() + 1)

        return interleave.Scenario(
            threads=[worker] * n, check=lambda: x.get() == n * k, name=f"increments({n},{k})"
        )

    return scenario


def readers(n: int) -> Factory:
    """One writer stores x; n readers load it once (2**n traces)."""

    def scenario() -> interleave.Scenario:
        x = interleave.Shared("x", 0)

        def writer() -> None:
            x.set(1)

        def reader() -> None:
            x.get()

        return interleave.Scenario(threads=[writer] + [reader] * n, name=f"readers({n})")

    return scenario


def lastzero(n: int) -> Factory:
    """The lastzero benchmark ((n + 3) * 2**n / 4 traces)."""

    def scenario() -> interleave.Scenario:
        a = [interleave.Shared(f"a[{i}]", 0) for i in range(n + 1)]

        def reader() -> None:
            i = n
            while a[i].get() != 0:
                i -= 1

        def writer(j: int) -> Callable[[], None]:
            def write() -> None:
                a[j].set(a[j - 1].get() + 1)

            write.__name__ = f"writer{j}"
            return write

        threads = {"reader": reader} | {f"writer{j}": writer(j) for j in range(1, n + 1)}
        return interleave.Scenario(threads=threads, name=f"lastzero({n})")

    return scenario


def indexer(n: int) -> Factory:
    """The indexer benchmark (8**(n - 11) traces for n >= 11)."""
    size = 128

    def scenario() -> interleave.Scenario:
        table = [interleave.Shared(f"slot[{i}]", 0) for i in range(size)]

        def thread(t: int) -> Callable[[], None]:
            def insert() -> None:
                for m in range(1, 5):
                    w = 11 * m + t
                    h = (7 * w) % size
                    while True:
                        stored = table[h].update(lambda v, w=w: w if v == 0 else v)
                        if stored == w:
                            break
                        h = (h + 1) % size

            return insert

        threads = {f"t{t}": thread(t) for t in range(n)}
        return interleave.Scenario(threads=threads, name=f"indexer({n})")

    return scenario


def ordering_bug() -> interleave.Scenario:
    """A depth-2 bug: the reader must run inside a window in the middle of the writer.

    A uniformly random walk almost never stops the writer exactly there; PCT with depth 2
    does in about a fifth of its executions.
    """
    flag = interleave.Shared("flag", 0)
    seen: list[int] = []

    def writer() -> None:
        for _ in range(10):
            interleave.point()
        flag.set(1)
        for _ in range(10):
            interleave.point()
        flag.set(0)

    def reader() -> None:
        seen.append(flag.get())

    return interleave.Scenario(threads=[writer, reader], check=lambda: seen != [1])
