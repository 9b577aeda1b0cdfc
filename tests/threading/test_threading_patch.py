"""The threading patch itself: what is scheduled, what stays real, and that nothing leaks."""

from __future__ import annotations

import _thread
import queue
import threading
import time

import pytest

import interleave
from interleave._core import _watchdog
from interleave.instrument import threading as patch
from interleave.instrument.threading import _originals


def _current() -> dict[str, object]:
    return {
        "Lock": threading.Lock,
        "RLock": threading.RLock,
        "Condition": threading.Condition,
        "Semaphore": threading.Semaphore,
        "BoundedSemaphore": threading.BoundedSemaphore,
        "Event": threading.Event,
        "local": threading.local,
        "get_ident": threading.get_ident,
        "current_thread": threading.current_thread,
        "Thread.start": threading.Thread.start,
        "Thread.join": threading.Thread.join,
        "Thread.__init__": threading.Thread.__init__,
        "sleep": time.sleep,
        "SimpleQueue": queue.SimpleQueue,
        "Queue.get": queue.Queue.get,
    }


#: What threading, time and queue hold before any exploration (this module is imported first).
REAL = _current()

#: Many tests here run one thread to see what the patch hands it: nothing to interleave.
ONE_THREAD = [interleave.HealthCheck.single_thread]
#: Threads that share nothing interleave sees (identity, thread-local state): one schedule.
ONE_SCHEDULE = [interleave.HealthCheck.single_schedule]


def _originals_back() -> None:
    now = _current()
    for name, real in REAL.items():
        assert now[name] is real, f"{name} was not restored"
    # The C lock factory: _thread.allocate_lock up to 3.12, the _thread.lock type from 3.13.
    assert threading.Lock in (_thread.allocate_lock, getattr(_thread, "lock", None))
    assert not patch.is_patched()


# ------------------------------------------------------------------ restore and leaks
def test_everything_is_restored_and_no_os_thread_is_left() -> None:
    before = set(threading.enumerate())
    seen: dict[str, object] = {}

    def scenario() -> interleave.Scenario:
        seen["factory Lock"] = threading.Lock

        def parent() -> None:
            seen["thread Lock"] = threading.Lock
            kids = [threading.Thread(target=time.sleep, args=(5,)) for _ in range(3)]
            for t in kids:
                t.start()
            for t in kids:
                t.join()

        return interleave.Scenario(threads=[parent])

    result = interleave.explore(scenario, suppress_health_check=ONE_SCHEDULE)
    assert result.ok and result.exhausted
    # It was patched inside, and it is the original afterwards.
    assert seen["thread Lock"] is not REAL["Lock"]
    assert seen["factory Lock"] is not REAL["Lock"]
    _originals_back()
    # The scenario's Thread objects never became OS threads, and none is left running.
    assert set(threading.enumerate()) == before


def test_restored_when_the_scenario_raises() -> None:
    def scenario() -> interleave.Scenario:
        raise RuntimeError("factory failed")

    with pytest.raises(RuntimeError, match="factory failed"):
        interleave.explore(scenario)
    _originals_back()


def test_restored_after_keyboard_interrupt_in_a_thread() -> None:
    def scenario() -> interleave.Scenario:
        def worker() -> None:
            threading.Lock().acquire()
            raise KeyboardInterrupt

        return interleave.Scenario(threads=[worker])

    with pytest.raises(KeyboardInterrupt):
        interleave.explore(scenario)
    _originals_back()


def test_patch_can_be_switched_off() -> None:
    made: list[object] = []

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: made.append(threading.Lock())])

    interleave.explore(scenario, patch_threading=False, suppress_health_check=ONE_THREAD)
    assert type(made[0]) is type(REAL["Lock"]())  # type: ignore[operator]


def test_other_os_threads_get_real_objects_during_an_execution() -> None:
    got: list[object] = []

    def from_os_thread() -> None:
        got.append(threading.Lock())
        got.append(threading.Event())
        got.append(threading.get_ident())

    def scenario() -> interleave.Scenario:
        def worker() -> None:
            # A real OS thread, started with the low-level API the patch leaves alone.
            _thread.start_new_thread(from_os_thread, ())
            while len(got) < 3:
                _originals.REAL_SLEEP(0.001)

        return interleave.Scenario(threads=[worker])

    assert interleave.explore(scenario, suppress_health_check=ONE_THREAD).ok
    assert type(got[0]) is type(REAL["Lock"]())  # type: ignore[operator]
    assert type(got[1]) is REAL["Event"]
    assert isinstance(got[2], int) and got[2] < patch.IDENT_BASE


# ------------------------------------------------------------------ what is scheduled
def test_primitives_made_inside_are_scheduled() -> None:
    made: dict[str, object] = {}

    def scenario() -> interleave.Scenario:
        made["factory"] = threading.Lock()

        def worker() -> None:
            made["Lock"] = threading.Lock()
            made["RLock"] = threading.RLock()
            made["Condition"] = threading.Condition()
            made["Semaphore"] = threading.Semaphore(2)
            made["BoundedSemaphore"] = threading.BoundedSemaphore(2)
            made["Event"] = threading.Event()
            made["isinstance"] = isinstance(made["Lock"], threading.Lock)  # type: ignore[arg-type]

        return interleave.Scenario(threads=[worker])

    assert interleave.explore(scenario, suppress_health_check=ONE_THREAD).ok
    assert isinstance(made["factory"], interleave.Lock)
    assert isinstance(made["Lock"], interleave.Lock)
    assert isinstance(made["RLock"], interleave.RLock)
    assert isinstance(made["Condition"], interleave.Condition)
    assert isinstance(made["Semaphore"], interleave.Semaphore)
    assert isinstance(made["BoundedSemaphore"], interleave.BoundedSemaphore)
    assert isinstance(made["Event"], interleave.Event)
    assert made["isinstance"] is True


def test_thread_identity_is_stable_per_simulated_thread() -> None:
    seen: list[tuple[str, str, int, int, bool, bool]] = []

    def scenario() -> interleave.Scenario:
        def child() -> None:
            me = threading.current_thread()
            seen.append(
                (
                    "child",
                    me.name,
                    me.ident or 0,
                    threading.get_ident(),
                    me.daemon,
                    me is threading.current_thread(),
                )
            )

        def parent() -> None:
            me = threading.current_thread()
            seen.append(("parent", me.name, me.ident or 0, threading.get_ident(), me.daemon, True))
            t = threading.Thread(target=child, daemon=True)
            assert not t.is_alive()
            t.start()
            t.join()
            assert not t.is_alive()
            assert t.ident == patch.IDENT_BASE + 1

        return interleave.Scenario(threads={"parent": parent})

    interleave.explore(scenario, suppress_health_check=ONE_SCHEDULE)
    assert seen[0] == ("parent", "parent", patch.IDENT_BASE, patch.IDENT_BASE, False, True)
    assert seen[1] == (
        "child",
        "Thread-1@parent (child)",  # numbered per creating thread: the same in every order
        patch.IDENT_BASE + 1,
        patch.IDENT_BASE + 1,
        True,
        True,
    )
    assert len(set(seen)) == 2  # the same in every execution


def test_thread_subclass_with_run_and_its_errors() -> None:
    class Worker(threading.Thread):
        def __init__(self, box: list[int]) -> None:
            super().__init__(name="worker")
            self.box = box

        def run(self) -> None:
            self.box.append(1)
            raise ValueError("boom in run")

    def scenario() -> interleave.Scenario:
        box: list[int] = []

        def main() -> None:
            w = Worker(box)
            w.start()
            w.join()
            with pytest.raises(RuntimeError, match="started once"):
                w.start()

        return interleave.Scenario(threads=[main], check=lambda: box == [1])

    result = interleave.explore(scenario)
    assert [f.kind for f in result.findings] == ["exception"]
    assert "worker" in result.findings[0].threads
    assert "boom in run" in result.findings[0].message


def test_threading_local_is_per_simulated_thread() -> None:
    values: list[tuple[str, int]] = []

    def scenario() -> interleave.Scenario:
        class Ctx(threading.local):
            def __init__(self) -> None:
                self.n = 0

        ctx = Ctx()
        plain = threading.local()

        def worker() -> None:
            name = threading.current_thread().name
            assert not hasattr(plain, "who")
            plain.who = name
            for _ in range(2):
                ctx.n += 1
                time.sleep(0.1)
            assert plain.who == name
            values.append((name, ctx.n))

        return interleave.Scenario(threads=[worker, worker])

    assert interleave.explore(scenario, suppress_health_check=ONE_SCHEDULE).ok
    assert set(values) == {("worker#1", 2), ("worker#2", 2)}


def test_sleep_is_a_yield_point_without_real_sleeping() -> None:
    orders: list[tuple[str, ...]] = []

    def scenario() -> interleave.Scenario:
        order: list[str] = []

        def slow() -> None:
            time.sleep(3600)  # would hang the test if it really slept
            order.append("slow")

        def fast() -> None:
            time.sleep(0)
            order.append("fast")

        return interleave.Scenario(
            threads={"slow": slow, "fast": fast}, check=lambda: orders.append(tuple(order)) or True
        )

    result = interleave.explore(scenario, strategy="dfs")
    assert result.ok and result.exhausted
    assert set(orders) == {("slow", "fast"), ("fast", "slow")}


def test_timeouts_are_scheduling_choices() -> None:
    outcomes: set[tuple[bool, bool, bool]] = set()

    def scenario() -> interleave.Scenario:
        lock = threading.Lock()
        event = threading.Event()
        got: list[bool] = []

        def holder() -> None:
            with lock:
                event.set()

        def waiter() -> None:
            got.append(event.wait(timeout=5))
            acquired = lock.acquire(timeout=5)
            got.append(acquired)
            if acquired:
                lock.release()
            got.append(threading.Semaphore(0).acquire(timeout=1))

        return interleave.Scenario(
            threads=[holder, waiter], check=lambda: outcomes.add(tuple(got)) or True
        )

    assert interleave.explore(scenario, strategy="dfs").ok
    assert (True, True, False) in outcomes
    assert (False, True, False) in outcomes  # the event wait timed out
    assert any(not acquired for _, acquired, _ in outcomes)  # the lock acquire timed out


# ------------------------------------------------------------------ queues
@pytest.mark.parametrize(
    ("kind", "expected"),
    [(queue.Queue, [1, 3, 2]), (queue.LifoQueue, [2, 3, 1]), (queue.PriorityQueue, [1, 2, 3])],
)
def test_queue_family_orders(kind: type[queue.Queue[int]], expected: list[int]) -> None:
    got: list[list[int]] = []

    def scenario() -> interleave.Scenario:
        q = kind()

        def main() -> None:
            for item in (1, 3, 2):
                q.put(item)
            got.append([q.get() for _ in range(3)])

        return interleave.Scenario(threads=[main])

    assert interleave.explore(scenario, suppress_health_check=ONE_THREAD).ok
    assert got == [expected]
    assert kind.get is REAL["Queue.get"]


def test_queue_timeouts_raise_empty_and_full() -> None:
    seen: set[str] = set()

    def scenario() -> interleave.Scenario:
        q: queue.Queue[int] = queue.Queue(maxsize=1)

        def main() -> None:
            q.put(1)
            try:
                q.put(2, timeout=1)
                seen.add("put")
            except queue.Full:
                seen.add("full")

        def taker() -> None:
            try:
                q.get(timeout=0.5)
                seen.add("got")
            except queue.Empty:
                seen.add("empty")

        return interleave.Scenario(threads=[main, taker])

    assert interleave.explore(scenario, strategy="dfs").ok
    assert seen == {"put", "full", "got", "empty"}


def test_simple_queue_is_scheduled() -> None:
    got: list[object] = []

    def scenario() -> interleave.Scenario:
        q = queue.SimpleQueue()
        got.append(q)

        def producer() -> None:
            q.put("x")

        def consumer() -> None:
            assert q.get(timeout=1) == "x"

        return interleave.Scenario(threads=[consumer, producer])

    result = interleave.explore(scenario, strategy="dfs")
    # The consumer's get may time out before the producer runs: an Empty exception.
    assert [f.kind for f in result.findings] == ["exception"]
    assert "Empty" in result.findings[0].message
    assert type(got[0]).__name__ == "SimpleQueue" and type(got[0]) is not REAL["SimpleQueue"]


# ------------------------------------------------------------------ barrier
def test_barrier_wait_with_timeout_can_break() -> None:
    def scenario() -> interleave.Scenario:
        barrier = threading.Barrier(2)

        def party() -> None:
            barrier.wait(timeout=1)

        return interleave.Scenario(threads=[party, party])

    result = interleave.explore(scenario)
    assert {f.kind for f in result.findings} == {"exception"}
    assert "BrokenBarrierError" in result.findings[0].message


# ------------------------------------------------------------------ watchdog
def test_watchdog_ends_a_blocked_execution_with_a_clear_error() -> None:
    from programs import module_locks

    def scenario() -> interleave.Scenario:
        work = module_locks.HIDDEN_LOCK_WORKER
        return interleave.Scenario(threads={"first": work, "second": work})  # type: ignore[dict-item]

    alarm = alarm_state()
    with _watchdog.watchdog_limit(0.3), pytest.raises(interleave.BlockedOutsideScheduler) as info:
        interleave.explore(scenario, strategy="dfs")
    message = str(info.value)
    assert "thread 'second' blocked outside interleave's control" in message
    assert "watchdog=0.3 s" in message
    assert "module_locks.py" in message and "with lock:" in message
    _originals_back()
    assert alarm_state() == alarm


def test_explore_watchdog_keyword_sets_the_limit() -> None:
    from programs import module_locks

    def scenario() -> interleave.Scenario:
        work = module_locks.HIDDEN_LOCK_WORKER
        return interleave.Scenario(threads={"first": work, "second": work})  # type: ignore[dict-item]

    alarm = alarm_state()
    with pytest.raises(interleave.BlockedOutsideScheduler) as info:
        interleave.explore(scenario, strategy="dfs", watchdog=0.3)
    assert "watchdog=0.3 s" in str(info.value)
    _originals_back()
    assert alarm_state() == alarm


@pytest.mark.parametrize("bad", [-1, "x", True])
def test_explore_watchdog_keyword_is_validated(bad: object) -> None:
    with pytest.raises(interleave.InvalidArgument, match="0 turns the watchdog off"):
        interleave.explore(lambda: [lambda: None], watchdog=bad)  # type: ignore[arg-type]


def alarm_state() -> tuple[object, bool]:
    """The SIGALRM handler and whether its timer is armed (pytest-timeout's, or none)."""
    import signal

    return signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)[0] > 0


def test_watchdog_limit_is_validated() -> None:
    with pytest.raises(interleave.InvalidArgument, match="watchdog=0 must be greater than 0"):
        _watchdog.watchdog_limit(0).__enter__()
    with pytest.raises(interleave.InvalidArgument, match="watchdog='x' must be a number"):
        _watchdog.watchdog_limit("x").__enter__()  # type: ignore[arg-type]


# ------------------------------------------------------------------ more of the API
def test_thread_started_by_the_scenario_factory_is_scheduled() -> None:
    class Service:
        """Starts its worker thread in __init__, as services often do."""

        def __init__(self) -> None:
            self.ready = threading.Event()
            self.worker = threading.Thread(target=self.ready.set, name="service-worker")
            self.worker.start()

    def scenario() -> interleave.Scenario:
        service = Service()

        def client() -> None:
            assert service.ready.wait(timeout=1), "service not ready"
            service.worker.join()

        return interleave.Scenario(threads={"client": client})

    result = interleave.explore(scenario)
    # The client's wait may time out before the worker ran: that is a finding.
    assert [f.kind for f in result.findings] == ["exception"]
    assert "service not ready" in result.findings[0].message
    assert result.findings[0].trace is not None
    assert "service-worker" in result.findings[0].trace.thread_names


def test_timer_can_fire_or_be_cancelled() -> None:
    fired: set[bool] = set()

    def scenario() -> interleave.Scenario:
        calls: list[int] = []

        def main() -> None:
            timer = threading.Timer(30, calls.append, args=(1,))
            timer.start()
            timer.cancel()
            timer.join()

        return interleave.Scenario(threads=[main], check=lambda: fired.add(bool(calls)) or True)

    result = interleave.explore(scenario, strategy="dfs")
    assert result.exhausted
    # Timer.run reads finished.is_set() and later sets it while cancel() sets it too: Event
    # set/clear are atomic updates, so that is no lost update, and nothing else may come out.
    assert result.ok, result.report()
    assert fired == {True, False}  # the interval may elapse before cancel(), or not


def test_random_exploration_of_threading_code_is_deterministic() -> None:
    from programs import bank

    def scenario() -> interleave.Scenario:
        account = bank.Account(100)
        return interleave.Scenario(
            threads=[lambda: bank.withdraw_twice(account, 80)],
            check=lambda: account.balance >= 0,
        )

    runs = [
        interleave.explore(scenario, strategy="random", seed=7, max_schedules=30) for _ in range(2)
    ]
    assert [f.schedule_id for f in runs[0].findings] == [f.schedule_id for f in runs[1].findings]
    assert runs[0].findings


def test_exploration_scope_keeps_the_patch_and_restores_it_at_the_end() -> None:
    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: threading.Lock().acquire()])

    alarm = alarm_state()
    with patch.exploration_scope():
        assert patch.is_patched()
        assert threading.Lock is not REAL["Lock"]
        assert interleave.explore(scenario, suppress_health_check=ONE_THREAD).ok
        assert patch.is_patched()  # still on between executions
        # Other code calling the patched names outside an execution gets real objects.
        assert type(threading.Lock()) is type(REAL["Lock"]())  # type: ignore[operator]
    _originals_back()
    assert alarm_state() == alarm


def test_explorations_in_two_os_threads_at_once() -> None:
    from programs import bank

    def scenario() -> interleave.Scenario:
        account = bank.Account(100)
        return interleave.Scenario(
            threads=[lambda: bank.withdraw_twice(account, 80)],
            check=lambda: account.balance >= 0,
        )

    results: list[interleave.ExploreResult] = []
    # Real OS threads (started outside any exploration), each with its own watchdog.
    runners = [
        threading.Thread(target=lambda: results.append(interleave.explore(scenario)))
        for _ in range(2)
    ]
    for t in runners:
        t.start()
    for t in runners:
        t.join()
    assert [sorted(f.kind for f in r.findings) for r in results] == [["invariant"]] * 2
    assert results[0].schedules_run == results[1].schedules_run
    _originals_back()


def test_a_daemon_worker_blocked_forever_is_not_a_deadlock() -> None:
    def scenario() -> interleave.Scenario:
        q: queue.Queue[int] = queue.Queue()
        out: list[int] = []

        def worker() -> None:
            while True:
                out.append(q.get())
                q.task_done()

        def main() -> None:
            threading.Thread(target=worker, daemon=True).start()
            q.put(1)
            q.join()

        return interleave.Scenario(threads=[main], check=lambda: out == [1])

    result = interleave.explore(scenario)
    assert result.ok, result.report()


def test_joining_a_thread_in_the_factory_says_why_it_cannot_work() -> None:
    def scenario() -> interleave.Scenario:
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
        return interleave.Scenario(threads=[lambda: None])

    with pytest.raises(RuntimeError, match="the scenario factory cannot join 'Thread-1"):
        interleave.explore(scenario)
    _originals_back()
