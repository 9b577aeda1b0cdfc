"""SCTBench-style programs: the classic small concurrency bugs, written with interleave.

Each follows a program of the SCTBench suite (Thomson, Donaldson and Betts, "Concurrency
testing using schedule bounding: an empirical study", PPoPP 2014; most come from the CS and
Inspect benchmark sets) with the same bug, using interleave's primitives. ``PROGRAMS`` maps a
name to ``(factory, the finding kind that shows the bug)``; ``tests/engine/test_dpor.py``
checks that the default strategy finds each, and ``bench_dpor.py`` prints the executions it
takes.
"""

from __future__ import annotations

from collections.abc import Callable

import interleave

Factory = Callable[[], interleave.Scenario]


def account() -> interleave.Scenario:
    """CS/account_bad: deposit and withdraw under a lock; the checker's formula is wrong."""
    m = interleave.Lock(name="m")
    x, y, z = 1, 2, 4
    balance = interleave.Shared("balance", x)
    deposited, withdrawn = (
        interleave.Shared("deposit_done", 0),
        interleave.Shared("withdraw_done", 0),
    )
    failed: list[str] = []

    def deposit() -> None:
        with m:
            balance.set(balance.get() + y)
            deposited.set(1)

    def withdraw() -> None:
        with m:
            balance.set(balance.get() - z)
            withdrawn.set(1)

    def check_result() -> None:
        with m:
            if deposited.get() and withdrawn.get() and balance.get() != (x - y) - z:
                failed.append("balance")  # the bug: the right total is x + y - z

    return interleave.Scenario(
        threads={"deposit": deposit, "withdraw": withdraw, "check": check_result},
        check=lambda: not failed,
    )


def lazy01() -> interleave.Scenario:
    """CS/lazy01: two adders under a lock; a third asserts data < 3, wrong once both ran."""
    mutex = interleave.Lock(name="mutex")
    data = interleave.Shared("data", 0)
    failed: list[int] = []

    def add(n: int) -> Callable[[], None]:
        def adder() -> None:
            with mutex:
                data.set(data.get() + n)

        return adder

    def checker() -> None:
        with mutex:
            if data.get() >= 3:
                failed.append(data.get())

    return interleave.Scenario(
        threads={"one": add(1), "two": add(2), "three": checker}, check=lambda: not failed
    )


def deadlock01() -> interleave.Scenario:
    """CS/deadlock01: two locks taken in opposite orders."""
    a, b = interleave.Lock(name="a"), interleave.Lock(name="b")
    counter = interleave.Shared("counter", 1)

    def one() -> None:
        with a, b:
            counter.set(counter.get() * 2)

    def two() -> None:
        with b, a:
            counter.set(counter.get() + 1)

    return interleave.Scenario(threads={"one": one, "two": two})


def carter01() -> interleave.Scenario:
    """CS/carter01: readers count themselves under m and share a room lock l taken by the first
    reader and freed by the last; a writer takes l, then m: a lock-order deadlock."""
    m, room = interleave.Lock(name="m"), interleave.Lock(name="l")
    readers = interleave.Shared("readers", 0)
    log = interleave.Shared("log", 0)

    def reader() -> None:
        with m:
            readers.set(readers.get() + 1)
            if readers.get() == 1:
                room.acquire()
        log.get()
        with m:
            readers.set(readers.get() - 1)
            if readers.get() == 0:
                room.release()

    def writer() -> None:
        with room, m:
            log.set(1)

    return interleave.Scenario(threads=[reader, writer])


def twostage() -> interleave.Scenario:
    """CS/twostage: data1 and data2 are written in two locked stages; a reader that sees the
    first stage done reads data2 before the second stage."""
    m1, m2 = interleave.Lock(name="m1"), interleave.Lock(name="m2")
    data1, data2 = interleave.Shared("data1", 0), interleave.Shared("data2", 0)
    failed: list[int] = []

    def writer() -> None:
        with m1:
            data1.set(1)
        with m2:
            data2.set(data1.get() + 1)

    def reader() -> None:
        with m1:
            seen = data1.get()
        if seen == 1:
            with m2:
                if data2.get() != 2:
                    failed.append(data2.get())

    return interleave.Scenario(threads=[writer, reader], check=lambda: not failed)


def wronglock() -> interleave.Scenario:
    """CS/wronglock: two threads guard the same data with different locks."""
    lock1, lock2 = interleave.Lock(name="lock1"), interleave.Lock(name="lock2")
    data = interleave.Shared("data", 0)
    failed: list[int] = []

    def a() -> None:
        with lock1:
            data.set(data.get() + 1)

    def b() -> None:
        with lock2:
            before = data.get()
            data.set(before + 1)
            if data.get() != before + 1:
                failed.append(before)

    return interleave.Scenario(threads=[a, b], check=lambda: not failed)


def stack() -> interleave.Scenario:
    """CS/stack: a pusher and a popper; the popper trusts a flag the pusher set once, and pops
    from an empty stack."""
    m = interleave.Lock(name="m")
    top = interleave.Shared("top", 0)
    flag = interleave.Shared("flag", False)
    underflow: list[int] = []

    def pusher() -> None:
        for _ in range(2):
            with m:
                top.set(top.get() + 1)
                flag.set(True)

    def popper() -> None:
        for _ in range(2):
            with m:
                if flag.get():
                    if top.get() == 0:
                        underflow.append(1)
                    else:
                        top.set(top.get() - 1)

    return interleave.Scenario(threads=[pusher, popper], check=lambda: not underflow)


def bluetooth_driver() -> interleave.Scenario:
    """The Bluetooth driver (Qadeer and Wu, KISS): a worker checks stoppingFlag, the stopper
    sets it and stops the device, and the worker then uses the stopped device."""
    lock = interleave.Lock(name="lock")
    pending = interleave.Shared("pendingIo", 1)
    stopping_flag = interleave.Shared("stoppingFlag", False)
    stopping_event = interleave.Event(name="stoppingEvent")
    stopped = interleave.Shared("stopped", False)
    failed: list[str] = []

    def io_increment() -> bool:
        if stopping_flag.get():
            return False
        with lock:
            pending.set(pending.get() + 1)
        return True

    def io_decrement() -> None:
        with lock:
            pending.set(pending.get() - 1)
            left = pending.get()
        if left == 0:
            stopping_event.set()

    def add() -> None:
        if io_increment():
            if stopped.get():
                failed.append("used a stopped device")
            io_decrement()

    def stop() -> None:
        stopping_flag.set(True)
        io_decrement()
        stopping_event.wait()
        stopped.set(True)

    return interleave.Scenario(threads={"add": add, "stop": stop}, check=lambda: not failed)


def token_ring() -> interleave.Scenario:
    """Inspect/token_ring: each thread copies its neighbour's value; the last asserts that all
    agree, which only holds when the copies ran in ring order."""
    x = [interleave.Shared(f"x{i}", 0) for i in range(4)]
    failed: list[tuple[int, ...]] = []

    def first() -> None:
        x[1].set((x[3].get() + 1) % 3)

    def copy(i: int) -> Callable[[], None]:
        def step() -> None:
            x[i].set(x[i - 1].get())

        return step

    def checker() -> None:
        values = (x[1].get(), x[2].get(), x[3].get())
        if len(set(values)) != 1:
            failed.append(values)

    return interleave.Scenario(
        threads={"t1": first, "t2": copy(2), "t3": copy(3), "check": checker},
        check=lambda: not failed,
    )


def sync01() -> interleave.Scenario:
    """CS/sync01: a producer and a consumer on a condition; the producer waits for "empty"
    before anything was produced and nobody signals it: they block each other."""
    m = interleave.Lock(name="m")
    empty, full = interleave.Condition(m, name="empty"), interleave.Condition(m, name="full")
    num = interleave.Shared("num", 1)

    def producer() -> None:
        with m:
            while num.get() > 0:
                empty.wait()
            num.set(num.get() + 1)
            full.notify()

    def consumer() -> None:
        with m:
            while num.get() == 0:
                full.wait()
            num.set(num.get() - 1)
            full.notify()  # the bug: it should signal "empty"
        with m:
            while num.get() == 0:
                full.wait()
            num.set(num.get() - 1)

    return interleave.Scenario(threads=[producer, consumer])


def arithmetic_prog() -> interleave.Scenario:
    """CS/arithmetic_prog_bad: a producer counts to N through a one-place buffer; the consumer
    sums what it takes; the final assertion uses the wrong formula."""
    n = 3
    m = interleave.Lock(name="m")
    c = interleave.Condition(m, name="c")
    num, total = interleave.Shared("num", 0), interleave.Shared("total", 0)

    def producer() -> None:
        for _ in range(n):
            with m:
                while num.get() > 0:
                    c.wait()
                num.set(num.get() + 1)
                c.notify()

    def consumer() -> None:
        for j in range(n):
            with m:
                while num.get() == 0:
                    c.wait()
                total.set(total.get() + j)
                num.set(num.get() - 1)
                c.notify()

    # The bug: the consumer adds 0 + 1 + ... + (n - 1), not n(n + 1)/2.
    return interleave.Scenario(
        threads=[producer, consumer], check=lambda: total.get() == n * (n + 1) // 2
    )


#: name -> (factory, kind of the finding that shows the bug)
PROGRAMS: dict[str, tuple[Factory, str]] = {
    "account": (account, "invariant"),
    "lazy01": (lazy01, "invariant"),
    "deadlock01": (deadlock01, "deadlock"),
    "carter01": (carter01, "deadlock"),
    "twostage": (twostage, "invariant"),
    "wronglock": (wronglock, "invariant"),
    "stack": (stack, "invariant"),
    "bluetooth_driver": (bluetooth_driver, "invariant"),
    "token_ring": (token_ring, "invariant"),
    "sync01": (sync01, "deadlock"),
    "arithmetic_prog": (arithmetic_prog, "invariant"),
}
