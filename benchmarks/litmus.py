"""Classic DPOR benchmark programs, written with interleave's primitives.

Used by ``bench_dpor.py`` and pinned (exact trace counts) in ``tests/engine``:

* ``increments(n, k)``: n threads, each doing k unlocked ``v = x.get(); x.set(v + 1)``.
* ``async_increments(n, k)``: the same with n asyncio tasks, each increment ``v = x.get();
  await asyncio.sleep(0); x.set(v + 1)`` (the same trace counts as the threads).
* ``readers(n)``: one writer stores x; n readers load x once: 2**n traces.
* ``lastzero(n)``: a[0..n] = 0; a reader scans i = n down while a[i] != 0; writer j in 1..n does
  a[j] = a[j-1] + 1: (n + 3) * 2**n / 4 traces.
* ``indexer(n)``: thread t inserts w = 11m + t (m = 1..4) into a 128-slot hash table at
  h = 7w mod 128 with linear probing, each probe an atomic compare-and-set: 8**(n - 11)
  traces for n >= 11.
* ``filesystem(n)``: Flanagan and Godefroid's file-system benchmark (POPL 2005): n threads
  allocate a block for their inode under per-inode and per-block locks: 2**(n - 13) traces
  for 13 <= n <= 26 (threads i and i + 13 start probing at the same block).
* ``locked_indexer(n)``: ``indexer`` with each compare-and-set done under a per-slot lock:
  8**(n - 11) traces, as with the atomic one.
* ``philosophers(n, ordered)``: dining philosophers with a lock per fork, every philosopher
  taking the left fork first (deadlocks) or the lower-numbered fork first (clean).
* ``ordering_bug``: a depth-2 bug for PCT (a reader must run inside a window of a writer).
"""

from __future__ import annotations

import asyncio
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


def async_increments(n: int, k: int, *, locked: bool = False) -> Factory:
    """n asyncio tasks x k increments of one Shared across an await (optionally under an
    asyncio.Lock)."""

    def scenario() -> interleave.Scenario:
        x = interleave.Shared("x", 0)
        lock = asyncio.Lock()

        async def increment() -> None:
            value = x.get()
            await asyncio.sleep(0)
            x.set(value + 1)

        async def worker() -> None:
            for _ in range(k):
                if locked:
                    async with lock:
                        await increment()
                else:
                    await increment()

        return interleave.Scenario(
            threads=[worker] * n,
            check=lambda: x.get() == n * k,
            name=f"async_increments({n},{k})",
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


def filesystem(n: int) -> Factory:
    """The file-system benchmark: 32 inodes, 26 blocks, a lock for each."""
    inodes, blocks = 32, 26

    def scenario() -> interleave.Scenario:
        inode = [interleave.Shared(f"inode[{i}]", 0) for i in range(inodes)]
        busy = [interleave.Shared(f"busy[{b}]", False) for b in range(blocks)]
        locki = [interleave.Lock(name=f"locki[{i}]") for i in range(inodes)]
        lockb = [interleave.Lock(name=f"lockb[{b}]") for b in range(blocks)]

        def thread(tid: int) -> Callable[[], None]:
            def allocate() -> None:
                i = tid % inodes
                with locki[i]:
                    if inode[i].get() == 0:
                        b = (i * 2) % blocks
                        while True:
                            with lockb[b]:
                                if not busy[b].get():
                                    busy[b].set(True)
                                    inode[i].set(b + 1)
                                    break
                            b = (b + 1) % blocks

            return allocate

        threads = {f"t{t}": thread(t) for t in range(n)}
        return interleave.Scenario(threads=threads, name=f"filesystem({n})")

    return scenario


def locked_indexer(n: int) -> Factory:
    """``indexer(n)`` with a lock per slot around each compare-and-set (8**(n - 11) traces)."""
    size = 128

    def scenario() -> interleave.Scenario:
        table = [interleave.Shared(f"slot[{i}]", 0) for i in range(size)]
        locks = [interleave.Lock(name=f"slot-lock[{i}]") for i in range(size)]

        def thread(t: int) -> Callable[[], None]:
            def insert() -> None:
                for m in range(1, 5):
                    w = 11 * m + t
                    h = (7 * w) % size
                    while True:
                        with locks[h]:
                            if table[h].get() == 0:
                                table[h].set(w)
                                break
                        h = (h + 1) % size

            return insert

        threads = {f"t{t}": thread(t) for t in range(n)}
        return interleave.Scenario(threads=threads, name=f"locked_indexer({n})")

    return scenario


def philosophers(n: int, *, ordered: bool = False) -> Factory:
    """n dining philosophers, a lock per fork; naive (left first) or ordered (lower first)."""

    def scenario() -> interleave.Scenario:
        forks = [interleave.Lock(name=f"fork{i}") for i in range(n)]
        meals = interleave.Counter("meals")

        def philosopher(seat: int) -> Callable[[], None]:
            left, right = seat, (seat + 1) % n
            first, second = (min(left, right), max(left, right)) if ordered else (left, right)

            def dine() -> None:
                with forks[first], forks[second]:
                    meals.add()

            return dine

        kind = "ordered" if ordered else "naive"
        return interleave.Scenario(
            threads={f"philosopher{i}": philosopher(i) for i in range(n)},
            check=lambda: meals.get() == n,
            name=f"philosophers({n}, {kind})",
        )

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


# Module-level factories: worker processes import a factory by its name (bench_parallel.py).
increments_2x3 = increments(2, 3)
increments_3x2 = increments(3, 2)
increments_3x3 = increments(3, 3)
lastzero_8 = lastzero(8)
philosophers_4 = philosophers(4)
readers_10 = readers(10)
indexer_14 = indexer(14)
filesystem_23 = filesystem(23)
