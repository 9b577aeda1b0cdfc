"""asyncio scenarios: the classic bugs of async code are found, their fixes proved, and every
finding replays from its schedule ID."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import interleave
from interleave import Deadlock, ExploreResult, Scenario, ScenarioError, Shared


def _explore(factory: Callable[[], object], **options: object) -> ExploreResult:
    result = interleave.explore(factory, max_schedules=20_000, **options)  # type: ignore[arg-type]
    assert result.exhausted, result.report()
    return result


def _replays(factory: Callable[[], object], result: ExploreResult) -> None:
    """Each finding comes back, the same kind, when its schedule ID is replayed."""
    assert result.findings
    for finding in result.findings:
        run = interleave.replay(factory, finding.schedule_id)
        assert run.schedule_id == finding.schedule_id
        assert finding.kind in {f.kind for f in run.findings}, (finding, run.findings)


# ------------------------------------------------------------------ check-then-act across await


def balance(*, locked: bool) -> Callable[[], Scenario]:
    def scenario() -> Scenario:
        account = Shared("balance", 100)
        paid_out: list[int] = []
        lock = asyncio.Lock()

        async def withdraw() -> None:
            async def act() -> None:
                seen = account.get()
                if seen >= 60:
                    await asyncio.sleep(0)  # e.g. an await on the payment service
                    account.set(seen - 60)
                    paid_out.append(60)

            if locked:
                async with lock:
                    await act()
            else:
                await act()

        return Scenario(
            threads={"alice": withdraw, "bob": withdraw},
            check=lambda: account.get() == 100 - sum(paid_out),
        )

    return scenario


def test_check_then_act_across_an_await_is_a_lost_update() -> None:
    racy = balance(locked=False)
    result = _explore(racy)
    assert {f.kind for f in result.findings} == {"lost-update", "invariant", "data-race"}
    lost = next(f for f in result.findings if f.kind == "lost-update")
    assert "balance" in lost.message
    _replays(racy, result)


def test_check_then_act_under_an_asyncio_lock_is_exhaustively_clean() -> None:
    result = _explore(balance(locked=True))
    assert result.ok, result.report()
    assert result.verdict == "proved"
    assert result.schedules_run == 2  # the two orders of taking the lock


# ------------------------------------------------------------------------------- ABBA deadlock


def abba() -> Scenario:
    first, second = asyncio.Lock(), asyncio.Lock()

    async def left() -> None:
        async with first:
            await asyncio.sleep(0)
            async with second:
                pass

    async def right() -> None:
        async with second:
            await asyncio.sleep(0)
            async with first:
                pass

    return Scenario(threads={"left": left, "right": right})


def test_abba_on_two_asyncio_locks_is_a_deadlock_with_its_cycle() -> None:
    result = _explore(abba)
    deadlocks = [f for f in result.findings if isinstance(f, Deadlock)]
    assert [f.kind for f in result.findings] == ["deadlock"], result.report()
    (deadlock,) = deadlocks
    assert deadlock.threads == ("left", "right")
    assert len(deadlock.cycle) == 4
    assert deadlock.cycle[0::2] == ("left", "right")
    assert all(part.startswith("lock ") for part in deadlock.cycle[1::2])
    _replays(abba, result)


# ------------------------------------------------------------------ producer/consumer on a Queue


def pipeline(*, sentinel: bool) -> Callable[[], Scenario]:
    def scenario() -> Scenario:
        queue: asyncio.Queue[int | None] = asyncio.Queue()
        got: list[int] = []

        async def producer() -> None:
            await queue.put(1)
            await queue.put(2)
            if sentinel:
                await queue.put(None)

        async def consumer() -> None:
            if sentinel:
                while (item := await queue.get()) is not None:
                    got.append(item)
            else:
                # The bug: "empty" is taken to mean "done".
                while not queue.empty():
                    got.append(await queue.get())

        return Scenario(
            threads={"producer": producer, "consumer": consumer}, check=lambda: got == [1, 2]
        )

    return scenario


def test_a_consumer_that_stops_at_an_empty_queue_loses_an_item() -> None:
    racy = pipeline(sentinel=False)
    result = _explore(racy)
    assert {f.kind for f in result.findings} == {"invariant"}, result.report()
    _replays(racy, result)


def test_a_consumer_that_waits_for_a_sentinel_gets_every_item() -> None:
    result = _explore(pipeline(sentinel=True))
    assert result.ok, result.report()


# -------------------------------------------------------------------- cancellation (opt-in)


def pool(*, cleanup: bool) -> Callable[[], Scenario]:
    def scenario() -> Scenario:
        borrowed = Shared("borrowed", 0)

        async def handler() -> None:
            borrowed.set(borrowed.get() + 1)  # take a connection
            if cleanup:
                try:
                    await asyncio.sleep(0)  # use it
                finally:
                    borrowed.set(borrowed.get() - 1)
            else:
                await asyncio.sleep(0)
                borrowed.set(borrowed.get() - 1)

        return Scenario(threads={"handler": handler}, check=lambda: borrowed.get() == 0)

    return scenario


def test_without_the_opt_in_a_cancellation_leak_is_not_explored() -> None:
    result = _explore(pool(cleanup=False), suppress_health_check=["single_thread"])
    assert result.ok and result.schedules_run == 1


def test_cancellation_opt_in_finds_cleanup_missing_on_cancel_and_replays_it() -> None:
    leaky = pool(cleanup=False)
    result = _explore(leaky, cancellation=True)
    assert [f.kind for f in result.findings] == ["invariant"], result.report()
    assert result.findings[0].schedule_id.startswith("3-")  # the option is in the ID
    _replays(leaky, result)


def test_cancellation_opt_in_proves_try_finally_cleanup() -> None:
    result = _explore(pool(cleanup=True), cancellation=True)
    assert result.ok, result.report()
    assert result.schedules_run > 1  # the cancellations were explored


def test_a_cancellation_does_not_end_a_deadlock() -> None:
    result = _explore(abba, cancellation=True)
    assert "deadlock" in {f.kind for f in result.findings}


# ---------------------------------------------------------------------------- what is refused


def test_mixing_threads_and_tasks_is_refused_with_the_fix() -> None:
    def mixed() -> Scenario:
        async def task() -> None:
            await asyncio.sleep(0)

        def thread() -> None:
            pass

        return Scenario(threads={"task": task, "thread": thread})

    with pytest.raises(ScenarioError, match=r"mixes async functions \(task\).*\(thread\)"):
        interleave.explore(mixed)
    assert issubclass(ScenarioError, interleave.InvalidArgument)


def test_a_task_starting_a_thread_is_refused_in_that_task() -> None:
    def scenario() -> Scenario:
        async def task() -> None:
            interleave.spawn(lambda: None)

        return Scenario(threads=[task, task])

    result = _explore(scenario)
    assert [f.kind for f in result.findings] == ["exception"]
    assert "ScenarioError" in result.findings[0].message
    assert "threads, not both" in result.findings[0].message


def test_a_task_reaching_a_held_threading_lock_would_block_its_loop() -> None:
    import threading

    def scenario() -> Scenario:
        lock = threading.Lock()
        lock.acquire()  # held by the scenario: no task can get it

        async def task() -> None:
            await asyncio.sleep(0)
            with lock:
                pass

        return Scenario(threads=[task, task])

    result = _explore(scenario)
    assert [f.kind for f in result.findings] == ["exception"]
    assert "EventLoopBlocked" in result.findings[0].message
    assert "would block the event loop" in result.findings[0].message
    assert issubclass(interleave.EventLoopBlocked, interleave.InterleaveError)
