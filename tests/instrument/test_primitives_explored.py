"""Inside explore() every operation of a primitive is a yield point and blocking is modelled.

Schedule counts are exact (DFS enumerates every interleaving of the yield points). Results seen
across executions are collected in lists that live outside the scenario factory.
"""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import pytest

import interleave
from interleave import ExploreResult, Finding

#: Every exhaustive strategy must see every outcome; schedule counts are DFS's.
STRATEGIES = ["dfs", "dpor"]

#: Strategies whose outcomes must include DPOR's handling of lock hand-offs and thread ends.
HANDOFF_STRATEGIES = STRATEGIES
THREAD_END_STRATEGIES = STRATEGIES


def _explore(factory: Callable[[], object], **kwargs: object) -> ExploreResult:
    kwargs.setdefault("strategy", "dfs")
    result = interleave.explore(factory, **kwargs)  # type: ignore[arg-type]
    assert result.exhausted, result.report()
    return result


def _kinds(result: ExploreResult) -> set[str]:
    return {f.kind for f in result.findings}


def _only(result: ExploreResult, kind: str) -> Finding:
    found = [f for f in result.findings if f.kind == kind]
    assert len(found) == 1, result.report()
    return found[0]


def _labels(factory: Callable[[], object]) -> list[tuple[str, str, str | None]]:
    """(thread, op kind, label) of every step of the first execution (its check fails)."""
    result = interleave.explore(factory, max_schedules=1, strategy="dfs")
    trace = _only(result, "invariant").trace
    assert trace is not None
    return [(s.thread_name, s.op.kind, s.op.label) for s in trace.steps]


# ---------------------------------------------------------------------------- yield points


def test_every_cache_operation_is_one_step() -> None:
    def scenario() -> interleave.Scenario:
        cache: interleave.Cache[str, int] = interleave.Cache("c")

        def worker() -> None:
            cache.get("k")
            cache.set("k", 1)
            assert "k" in cache
            assert len(cache) == 1
            cache.delete("k")
            cache.clear()

        return interleave.Scenario(threads=[worker], check=lambda: False)

    assert _labels(scenario) == [
        ("worker#1", "read", "get"),
        ("worker#1", "write", "set"),
        ("worker#1", "read", "in"),
        ("worker#1", "read", "len"),
        ("worker#1", "write", "delete"),
        ("worker#1", "write", "clear"),
    ]


def test_every_value_and_lock_operation_is_one_step() -> None:
    def scenario() -> interleave.Scenario:
        box = interleave.Shared("box", 0)
        counter = interleave.Counter("n")
        lock = interleave.Lock(name="L")
        event = interleave.Event(name="E")

        def worker() -> None:
            box.set(box.get() + 1)
            box.update(lambda v: v + 1)
            counter.add()
            with lock:
                interleave.point("mid")
            assert lock.acquire(blocking=False)
            assert lock.locked()
            lock.release()
            event.set()
            assert event.is_set()
            assert event.wait()
            event.clear()

        return interleave.Scenario(threads=[worker], check=lambda: False)

    assert [(kind, label) for _t, kind, label in _labels(scenario)] == [
        ("read", "get"),
        ("write", "set"),
        ("update", "update"),
        ("update", "add"),
        ("acquire", "acquire"),
        ("yield", "mid"),
        ("release", "release"),
        ("acquire", "try-acquire"),
        ("read", "locked"),
        ("release", "release"),
        ("update", "set"),
        ("read", "is_set"),
        ("wait", "wait"),
        ("update", "clear"),
    ]


@pytest.mark.parametrize("same_key", [False, True])
def test_two_single_cache_sets_give_two_schedules(same_key: bool) -> None:
    def scenario() -> interleave.Scenario:
        cache: interleave.Cache[str, int] = interleave.Cache("c")
        return interleave.Scenario(
            threads=[lambda: cache.set("a", 1), lambda: cache.set("a" if same_key else "b", 2)]
        )

    result = _explore(scenario)
    assert result.schedules_run == comb(2, 1)
    # Two unordered sets of one key race (a data race, not a lost update: nothing was read).
    assert _kinds(result) == ({"data-race"} if same_key else set())


@pytest.mark.parametrize(("same_key", "lost"), [(False, False), (True, True)])
def test_cache_get_then_set_is_a_lost_update_only_on_the_same_key(
    same_key: bool, lost: bool
) -> None:
    def scenario() -> interleave.Scenario:
        cache: interleave.Cache[str, int] = interleave.Cache("c")

        def bump(key: str) -> Callable[[], None]:
            return lambda: cache.set(key, cache.get(key, 0) + 1)

        return interleave.Scenario(threads=[bump("a"), bump("a" if same_key else "b")])

    result = _explore(scenario)
    assert result.schedules_run == comb(4, 2)
    assert _kinds(result) == ({"lost-update", "data-race"} if lost else set())


# ---------------------------------------------------------------------------- locks


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_thread_waiting_for_a_held_lock_is_not_runnable(strategy: str) -> None:
    inside: list[int] = []

    def scenario() -> interleave.Scenario:
        lock = interleave.Lock(name="L")
        busy = interleave.Counter("busy")

        def worker() -> None:
            with lock:
                inside.append(busy.add())
                busy.add(-1)

        return interleave.Scenario(threads=[worker, worker])

    result = _explore(scenario, strategy=strategy)
    # Without blocking, 4 steps each would interleave in C(8,4) ways; with it the critical
    # sections cannot overlap and only the order of the two sections is left.
    assert result.schedules_run == 2 or strategy != "dfs"
    assert result.ok
    assert set(inside) == {1}


@pytest.mark.parametrize("strategy", HANDOFF_STRATEGIES)
@pytest.mark.parametrize("cls", [interleave.Lock, interleave.RLock])
def test_acquire_with_timeout_on_a_held_lock_explores_both_outcomes(
    cls: type, strategy: str
) -> None:
    outcomes: list[bool] = []

    def scenario() -> interleave.Scenario:
        lock = cls(name="L")

        def holder() -> None:
            with lock:
                interleave.point("holding")

        def waiter() -> None:
            got = lock.acquire(timeout=5)
            outcomes.append(got)
            if got:
                lock.release()

        return interleave.Scenario(threads=[holder, waiter])

    result = _explore(scenario, strategy=strategy)
    assert result.ok
    assert set(outcomes) == {True, False}


@pytest.mark.parametrize("strategy", HANDOFF_STRATEGIES)
def test_non_blocking_acquire_of_a_held_lock_returns_false(strategy: str) -> None:
    outcomes: list[bool] = []

    def scenario() -> interleave.Scenario:
        lock = interleave.Lock(name="L")

        def holder() -> None:
            with lock:
                interleave.point("holding")

        def trier() -> None:
            got = lock.acquire(blocking=False)
            outcomes.append(got)
            if got:
                lock.release()

        return interleave.Scenario(threads=[holder, trier])

    assert _explore(scenario, strategy=strategy).ok
    assert set(outcomes) == {True, False}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_rlock_reentry_by_its_owner_does_not_deadlock(strategy: str) -> None:
    def scenario() -> interleave.Scenario:
        lock = interleave.RLock(name="R")
        box = interleave.Shared("box", 0)

        def worker() -> None:
            with lock:
                with lock:
                    box.set(box.get() + 1)
                assert lock.locked()

        return interleave.Scenario(threads=[worker, worker], check=lambda: box.get() == 2)

    result = _explore(scenario, strategy=strategy)
    assert result.ok, result.report()
    # Both orders of the two threads' RLock sections, under dpor too (a re-entry is no step
    # another thread can see, but the outer acquires conflict).
    assert result.schedules_run == 2


def test_plain_lock_reacquired_by_its_owner_is_a_self_cycle_deadlock() -> None:
    def scenario() -> interleave.Scenario:
        lock = interleave.Lock(name="L")

        def worker() -> None:
            with lock, lock:
                pass

        return interleave.Scenario(threads=[worker])

    result = _explore(scenario)
    deadlock = _only(result, "deadlock")
    assert isinstance(deadlock, interleave.Deadlock)
    assert deadlock.cycle == ("worker#1", "lock 'L'")
    assert deadlock.threads == ("worker#1",)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (interleave.Lock, "RuntimeError: release unlocked lock"),
        (interleave.RLock, "RuntimeError: cannot release un-acquired lock"),
    ],
)
def test_releasing_an_unheld_lock_is_an_exception_finding(cls: type, message: str) -> None:
    def scenario() -> interleave.Scenario:
        lock = cls(name="L")
        return interleave.Scenario(threads=[lock.release])

    finding = _only(_explore(scenario), "exception")
    assert isinstance(finding, interleave.ThreadCrashed)
    assert finding.exception == message


def test_rlock_released_by_a_thread_that_does_not_own_it_raises() -> None:
    def scenario() -> interleave.Scenario:
        lock = interleave.RLock(name="R")
        taken = interleave.Event(name="taken")

        def owner() -> None:
            lock.acquire()
            taken.set()

        def thief() -> None:
            taken.wait()
            lock.release()

        return interleave.Scenario(threads=[owner, thief])

    finding = _only(_explore(scenario), "exception")
    assert finding.threads == ("thief#1",)
    assert "cannot release un-acquired lock" in finding.message


# ---------------------------------------------------------------------------- semaphores


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_semaphore_as_a_pool_of_one_is_clean(strategy: str) -> None:
    def scenario() -> interleave.Scenario:
        pool = interleave.Semaphore(1, name="pool")
        box = interleave.Shared("box", 0)

        def worker() -> None:
            with pool:
                box.set(box.get() + 1)

        return interleave.Scenario(threads=[worker, worker], check=lambda: box.get() == 2)

    result = _explore(scenario, strategy=strategy)
    assert result.ok, result.report()
    assert result.schedules_run == 2 or strategy != "dfs"


@pytest.mark.parametrize("strategy", HANDOFF_STRATEGIES)
def test_semaphore_of_two_lets_two_threads_in_at_once(strategy: str) -> None:
    peak: list[int] = []

    def scenario() -> interleave.Scenario:
        pool = interleave.Semaphore(2, name="pool")
        inside = interleave.Counter("inside")

        def worker() -> None:
            with pool:
                peak.append(inside.add())
                inside.add(-1)

        return interleave.Scenario(threads=[worker, worker])

    assert _explore(scenario, strategy=strategy).ok
    assert max(peak) == 2


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_semaphore_acquire_with_timeout_explores_both_outcomes(strategy: str) -> None:
    outcomes: list[bool] = []

    def scenario() -> interleave.Scenario:
        sem = interleave.Semaphore(0, name="S")

        def giver() -> None:
            sem.release()

        def taker() -> None:
            outcomes.append(sem.acquire(timeout=1))

        return interleave.Scenario(threads=[giver, taker])

    assert _explore(scenario, strategy=strategy).ok
    assert set(outcomes) == {True, False}


def test_semaphore_non_blocking_with_timeout_raises_like_threading_inside() -> None:
    def scenario() -> interleave.Scenario:
        sem = interleave.Semaphore(1, name="S")
        return interleave.Scenario(threads=[lambda: sem.acquire(False, -1)])

    finding = _only(_explore(scenario), "exception")
    assert "can't specify timeout for non-blocking acquire" in finding.message


@pytest.mark.parametrize("patch_threading", [False, True])
def test_bounded_semaphore_over_release_is_an_exception_finding(patch_threading: bool) -> None:
    def scenario() -> interleave.Scenario:
        sem = interleave.BoundedSemaphore(1, name="B")

        def worker() -> None:
            with sem:
                pass
            sem.release()

        return interleave.Scenario(threads=[worker])

    finding = _only(_explore(scenario, patch_threading=patch_threading), "exception")
    assert isinstance(finding, interleave.ThreadCrashed)
    assert finding.exception == "ValueError: Semaphore released too many times"


def test_semaphore_state_starts_fresh_in_every_execution() -> None:
    # One Semaphore object shared by every execution: permits taken in one execution must not
    # leak into the next.
    sem = interleave.Semaphore(1, name="S")
    got: list[bool] = []

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: got.append(sem.acquire(blocking=False))])

    one_thread = [interleave.HealthCheck.single_thread]
    assert _explore(scenario, max_schedules=3, suppress_health_check=one_thread).ok
    interleave.explore(scenario, strategy="dfs", suppress_health_check=one_thread)
    assert got == [True, True]


# ---------------------------------------------------------------------------- condition


def _queue_scenario(*, use_while: bool) -> Callable[[], interleave.Scenario]:
    def scenario() -> interleave.Scenario:
        cond = interleave.Condition(interleave.Lock(name="L"), name="C")
        items = interleave.Shared("items", 0)

        def consumer() -> None:
            with cond:
                if use_while:
                    while items.get() == 0:
                        cond.wait()
                elif items.get() == 0:
                    cond.wait()
                value = items.get()
                if value <= 0:
                    raise IndexError("pop from empty queue")
                items.set(value - 1)

        def producer() -> None:
            for _ in range(2):
                with cond:
                    items.set(items.get() + 1)
                    cond.notify_all()

        def stealer() -> None:
            with cond:
                while items.get() == 0:
                    cond.wait()
                items.set(items.get() - 1)

        return interleave.Scenario(
            threads={"consumer": consumer, "producer": producer, "stealer": stealer},
            check=lambda: items.get() == 0,
        )

    return scenario


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_condition_if_instead_of_while_is_found(strategy: str) -> None:
    result = _explore(_queue_scenario(use_while=False), strategy=strategy)
    finding = _only(result, "exception")
    assert finding.threads == ("consumer",)
    assert "IndexError: pop from empty queue" in finding.message


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_condition_with_while_is_clean(strategy: str) -> None:
    result = _explore(_queue_scenario(use_while=True), strategy=strategy)
    assert result.ok, result.report()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_condition_notify_wakes_the_longest_waiting_thread_first(strategy: str) -> None:
    def scenario() -> interleave.Scenario:
        lock = interleave.Lock(name="L")
        cond = interleave.Condition(lock, name="C")
        progress = interleave.Condition(lock, name="P")
        waiting: list[str] = []
        woken: list[str] = []

        def waiter(me: str) -> Callable[[], None]:
            def body() -> None:
                with cond:
                    waiting.append(me)
                    progress.notify()
                    cond.wait()
                    woken.append(me)
                    progress.notify()

            return body

        def notifier() -> None:
            with cond:
                progress.wait_for(lambda: len(waiting) == 2)
                cond.notify()
                progress.wait_for(lambda: len(woken) == 1)
                cond.notify()

        return interleave.Scenario(
            threads={"a": waiter("a"), "b": waiter("b"), "notifier": notifier},
            check=lambda: woken == waiting,
        )

    result = _explore(scenario, strategy=strategy)
    assert result.ok, result.report()
    assert result.schedules_run > 1


def test_condition_notify_all_wakes_every_waiter_and_notify_n_wakes_n() -> None:
    woke: list[int] = []

    def scenario(n: int | None) -> Callable[[], interleave.Scenario]:
        def build() -> interleave.Scenario:
            lock = interleave.Lock(name="L")
            cond = interleave.Condition(lock, name="C")
            progress = interleave.Condition(lock, name="P")
            # Plain lists: they are only touched under the lock.
            waiting: list[int] = []
            awake: list[int] = []

            def waiter() -> None:
                with cond:
                    waiting.append(1)
                    progress.notify()
                    cond.wait()
                    awake.append(1)

            def notifier() -> None:
                with cond:
                    progress.wait_for(lambda: len(waiting) == 2)
                    if n is None:
                        cond.notify_all()
                    else:
                        cond.notify(n)

            def done() -> bool:
                woke.append(len(awake))
                return True

            return interleave.Scenario(threads=[waiter, waiter, notifier], check=done)

        return build

    assert _explore(scenario(None)).ok
    assert set(woke) == {2}
    woke.clear()
    assert _explore(scenario(2)).ok
    assert set(woke) == {2}
    deadlock = _only(_explore(scenario(1)), "deadlock")
    # One waiter is left waiting for a notify that never comes: stuck without a lock cycle.
    assert isinstance(deadlock, interleave.Deadlock)
    assert deadlock.cycle == ()
    assert [w.waits_for for w in deadlock.waits] == ["a notify on condition 'C'"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_condition_wait_with_timeout_explores_both_outcomes(strategy: str) -> None:
    outcomes: list[bool] = []

    def scenario() -> interleave.Scenario:
        cond = interleave.Condition(name="C")

        def waiter() -> None:
            with cond:
                outcomes.append(cond.wait(timeout=1))

        def notifier() -> None:
            with cond:
                cond.notify()

        return interleave.Scenario(threads=[waiter, notifier])

    assert _explore(scenario, strategy=strategy).ok
    assert set(outcomes) == {True, False}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_condition_wait_for_with_timeout_returns_the_predicate(strategy: str) -> None:
    outcomes: list[bool] = []

    def scenario() -> interleave.Scenario:
        cond = interleave.Condition(name="C")
        flag = interleave.Shared("flag", False)

        def waiter() -> None:
            with cond:
                outcomes.append(cond.wait_for(flag.get, timeout=1))

        def setter() -> None:
            with cond:
                flag.set(True)
                cond.notify()

        return interleave.Scenario(threads=[waiter, setter])

    assert _explore(scenario, strategy=strategy).ok
    assert set(outcomes) == {True, False}


def test_condition_wait_on_an_rlock_restores_its_depth() -> None:
    def scenario() -> interleave.Scenario:
        lock = interleave.RLock(name="R")
        cond = interleave.Condition(lock, name="C")
        ready = interleave.Shared("ready", False)

        def waiter() -> None:
            with lock, cond:
                cond.wait_for(ready.get)
            lock.release()  # a third release: the depth was 2, not 3

        def setter() -> None:
            with cond:
                ready.set(True)
                cond.notify()

        return interleave.Scenario(threads={"waiter": waiter, "setter": setter})

    finding = _only(_explore(scenario), "exception")
    assert finding.threads == ("waiter",)
    assert "cannot release un-acquired lock" in finding.message


def test_condition_wait_without_the_lock_is_an_exception_finding() -> None:
    def scenario() -> interleave.Scenario:
        cond = interleave.Condition(name="C")
        return interleave.Scenario(threads=[cond.wait])

    finding = _only(_explore(scenario), "exception")
    assert "RuntimeError: cannot wait on un-acquired lock" in finding.message


# ---------------------------------------------------------------------------- event


def test_event_set_wakes_the_waiter() -> None:
    def scenario() -> interleave.Scenario:
        event = interleave.Event(name="E")
        box = interleave.Shared("box", 0)

        def waiter() -> None:
            assert event.wait() is True
            assert box.get() == 1

        def setter() -> None:
            box.set(1)
            event.set()

        return interleave.Scenario(threads=[waiter, setter])

    # The waiter can only run after set(): one schedule, which the health check points out.
    with pytest.warns(interleave.HealthCheckWarning, match="followed the same schedule"):
        result = _explore(scenario)
    assert result.ok, result.report()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_event_wait_with_timeout_explores_both_outcomes(strategy: str) -> None:
    outcomes: list[bool] = []

    def scenario() -> interleave.Scenario:
        event = interleave.Event(name="E")
        return interleave.Scenario(
            threads=[lambda: outcomes.append(event.wait(timeout=1)), event.set]
        )

    assert _explore(scenario, strategy=strategy).ok
    assert set(outcomes) == {True, False}


def test_event_cleared_before_the_wait_blocks_forever() -> None:
    def scenario() -> interleave.Scenario:
        event = interleave.Event(name="E")

        def flip() -> None:
            event.set()
            event.clear()

        return interleave.Scenario(threads=[event.wait, flip])

    deadlock = _only(_explore(scenario), "deadlock")
    assert isinstance(deadlock, interleave.Deadlock)
    assert deadlock.threads == ("wait#1",)


# ---------------------------------------------------------------------------- spawn


@pytest.mark.parametrize("strategy", THREAD_END_STRATEGIES)
def test_spawn_join_and_is_alive(strategy: str) -> None:
    alive_before: list[bool] = []

    def scenario() -> interleave.Scenario:
        box = interleave.Shared("box", 0)

        def child(n: int) -> None:
            box.set(n)

        def parent() -> None:
            handle = interleave.spawn(child, 7)
            assert handle.name == "child#1"
            alive_before.append(handle.is_alive())
            handle.join()
            assert handle.is_alive() is False
            assert box.get() == 7

        return interleave.Scenario(threads=[parent])

    result = _explore(scenario, strategy=strategy)
    assert result.ok, result.report()
    assert set(alive_before) == {True, False}
    # is_alive() runs before the child's write, between it and the child's end step, or
    # after the end (three orders; only the last one sees it finished).
    assert result.schedules_run == 3 or strategy != "dfs"


def test_join_on_a_thread_that_never_finishes_is_a_deadlock() -> None:
    def scenario() -> interleave.Scenario:
        never = interleave.Event(name="never")

        def parent() -> None:
            interleave.spawn(never.wait, name="stuck").join()

        return interleave.Scenario(threads={"parent": parent})

    deadlock = _only(_explore(scenario), "deadlock")
    assert isinstance(deadlock, interleave.Deadlock)
    assert deadlock.cycle == ()
    assert {(w.thread, w.waits_for) for w in deadlock.waits} == {
        ("parent", "thread 'stuck' to finish"),
        ("stuck", "event 'never'"),
    }


@pytest.mark.parametrize("strategy", THREAD_END_STRATEGIES)
def test_join_with_timeout_may_return_before_the_thread_finished(strategy: str) -> None:
    alive_after: list[bool] = []

    def scenario() -> interleave.Scenario:
        def parent() -> None:
            handle = interleave.spawn(interleave.point, "child-step")
            handle.join(timeout=1)
            alive_after.append(handle.is_alive())

        return interleave.Scenario(threads=[parent])

    assert _explore(scenario, strategy=strategy).ok
    assert set(alive_after) == {True, False}


def test_joining_the_current_thread_raises() -> None:
    def scenario() -> interleave.Scenario:
        handles: list[interleave.ThreadHandle] = []

        def child() -> None:
            interleave.point("start")
            handles[0].join()

        def parent() -> None:
            handles.append(interleave.spawn(child))

        return interleave.Scenario(threads=[parent])

    finding = _only(_explore(scenario), "exception")
    assert "RuntimeError: cannot join current thread" in finding.message


def test_semaphore_permits_released_while_the_scenario_is_built_are_kept() -> None:
    # The factory runs outside the scheduler, so it works on the real semaphore; the
    # exploration must start from that state, as Event does with its flag.
    def scenario() -> interleave.Scenario:
        items = interleave.Semaphore(0, name="items")
        items.release(2)

        def consumer() -> None:
            assert items.acquire(blocking=False)

        return interleave.Scenario(threads=[consumer, consumer])

    result = _explore(scenario)
    assert result.ok, result.report()


def test_a_lock_left_acquired_by_the_factory_is_held_until_a_thread_releases_it() -> None:
    # Lock used as a gate: the factory closes it, one thread opens it, the other waits.
    def scenario() -> interleave.Scenario:
        gate = interleave.Lock(name="gate")
        gate.acquire()
        opened = interleave.Shared("opened", False)

        def opener() -> None:
            opened.set(True)
            gate.release()

        def passer() -> None:
            with gate:
                assert opened.get(), "went through a closed gate"

        return interleave.Scenario(threads=[opener, passer])

    # The gate admits one order only: a single schedule is the point of this scenario.
    result = _explore(scenario, suppress_health_check=[interleave.HealthCheck.single_schedule])
    assert result.ok, result.report()


def test_a_lock_left_acquired_by_the_factory_and_never_released_is_stuck() -> None:
    def scenario() -> interleave.Scenario:
        gate = interleave.RLock(name="gate")
        gate.acquire()

        def passer() -> None:
            with gate:
                pass

        return interleave.Scenario(threads={"passer": passer})

    deadlock = _only(_explore(scenario), "deadlock")
    assert isinstance(deadlock, interleave.Deadlock)
    assert deadlock.cycle == ()
    [wait] = deadlock.waits
    assert [h.thread for h in wait.holders] == ["scenario setup"]
    assert "held by scenario setup" in deadlock.message


def test_auto_names_do_not_depend_on_patching_threading() -> None:
    names: dict[bool, tuple[str, ...]] = {}

    def scenario() -> interleave.Scenario:
        sem, event, lock = interleave.Semaphore(), interleave.Event(), interleave.Lock()
        names[patched] = (sem.name, event.name, lock.name)
        return interleave.Scenario(threads=[event.set])

    for patched in (False, True):
        interleave.explore(
            scenario,
            strategy="dfs",
            patch_threading=patched,
            suppress_health_check=[interleave.HealthCheck.single_thread],
        )
    assert names[True] == names[False] == ("semaphore#1", "event#1", "lock#1")


def test_check_and_teardown_see_the_executions_state_of_events_and_locks() -> None:
    seen: list[tuple[bool, bool, bool]] = []

    def scenario() -> interleave.Scenario:
        ready = interleave.Event(name="ready")
        kept = interleave.Lock(name="kept")
        rkept = interleave.RLock(name="rkept")

        def worker() -> None:
            ready.set()
            kept.acquire()  # kept on purpose
            rkept.acquire()

        def teardown() -> None:
            seen.append((ready.is_set(), kept.locked(), rkept.locked()))

        return interleave.Scenario(
            threads=[worker],
            check=lambda: ready.is_set() and kept.locked() and rkept.locked(),
            teardown=teardown,
        )

    result = _explore(scenario, suppress_health_check=[interleave.HealthCheck.single_thread])
    assert result.ok, result.report()
    assert seen == [(True, True, True)]
