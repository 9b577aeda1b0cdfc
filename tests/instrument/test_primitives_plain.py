"""Outside an exploration every primitive is a plain working object used by real OS threads.

Waiting in these tests is always for something another thread will certainly do (a join, an
event that is set); nothing asserts on elapsed time.
"""

from __future__ import annotations

import sys
import threading

import pytest

import interleave
from interleave.errors import InvalidArgument

N_THREADS = 4
N_ADDS = 1000


def _run_threads(target: object, n: int = N_THREADS) -> None:
    threads = [threading.Thread(target=target) for _ in range(n)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ---------------------------------------------------------------------------- values


def test_counter_add_under_lock_from_real_threads_gives_exact_total() -> None:
    counter = interleave.Counter("total")
    lock = interleave.Lock(name="total-lock")

    def work() -> None:
        for _ in range(N_ADDS):
            with lock:
                counter.set(counter.get() + 1)
            counter.add()

    _run_threads(work)
    assert counter.get() == 2 * N_THREADS * N_ADDS


def test_counter_add_returns_new_value_and_accepts_n() -> None:
    counter = interleave.Counter("c", 5)
    assert counter.add() == 6
    assert counter.add(4) == 10
    counter.set(-1)
    assert counter.get() == -1


def test_counter_start_must_be_int() -> None:
    with pytest.raises(InvalidArgument, match=r"start='1' must be an int"):
        interleave.Counter("c", "1")  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", [interleave.Shared, interleave.Counter, interleave.Cache])
def test_shared_values_need_a_name(cls: type) -> None:
    with pytest.raises(InvalidArgument, match="needs a name"):
        cls("") if cls is interleave.Cache else cls("", 0)


def test_shared_get_set_update() -> None:
    box = interleave.Shared("box", [1])
    assert box.get() == [1]
    box.set([2])
    assert box.update(lambda v: [*v, 3]) == [2, 3]
    assert box.get() == [2, 3]
    assert repr(box) == "Shared('box', [2, 3])"


def test_cache_get_set_delete_clear_in_len() -> None:
    cache: interleave.Cache[str, int] = interleave.Cache("users")
    assert cache.get("a") is None
    assert cache.get("a", 7) == 7
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1
    assert "a" in cache
    assert "z" not in cache
    assert len(cache) == 2
    assert cache.delete("a") is True
    assert cache.delete("a") is False
    assert "a" not in cache
    cache.clear()
    assert len(cache) == 0
    assert cache.get("b") is None


def test_point_outside_an_exploration_is_a_no_op_but_checks_access() -> None:
    interleave.point("here")
    interleave.point("here", resource="x", access="read")
    with pytest.raises(InvalidArgument, match="access='rw'"):
        interleave.point("here", resource="x", access="rw")


# ---------------------------------------------------------------------------- locks


@pytest.mark.parametrize("cls", [interleave.Lock, interleave.RLock])
def test_lock_try_and_timeout_on_a_lock_held_by_another_thread(cls: type) -> None:
    lock = cls()
    taken, done = threading.Event(), threading.Event()
    results: list[bool] = []

    def holder() -> None:
        with lock:
            taken.set()
            done.wait()

    t = threading.Thread(target=holder)
    t.start()
    taken.wait()
    results.append(lock.acquire(blocking=False))
    results.append(lock.acquire(timeout=0.01))
    assert lock.locked() is True
    done.set()
    t.join()
    assert results == [False, False]
    assert lock.acquire(blocking=False) is True
    lock.release()
    assert lock.locked() is False


def test_lock_is_not_reentrant_and_release_unlocked_raises() -> None:
    lock = interleave.Lock()
    assert lock.acquire() is True
    assert lock.acquire(blocking=False) is False
    lock.release()
    with pytest.raises(RuntimeError, match="release unlocked lock"):
        lock.release()


def test_rlock_is_reentrant() -> None:
    lock = interleave.RLock()
    with lock, lock:
        assert lock.acquire(blocking=False) is True
        lock.release()
    with pytest.raises(RuntimeError, match="cannot release un-acquired lock"):
        lock.release()


def test_rlock_locked_is_true_when_held_by_the_calling_thread() -> None:
    # threading.RLock has no locked() before 3.14; a probe with acquire(False) succeeds for
    # the owner itself, so it must not be the only test.
    lock = interleave.RLock()
    assert lock.locked() is False
    with lock:
        assert lock.locked() is True
    assert lock.locked() is False


@pytest.mark.parametrize(
    "make",
    [interleave.Lock, interleave.RLock, interleave.Semaphore, interleave.BoundedSemaphore],
)
def test_acquire_argument_errors_mirror_threading(make: type) -> None:
    obj = make()
    with pytest.raises(ValueError, match="can't specify"):
        obj.acquire(blocking=False, timeout=1)


@pytest.mark.parametrize("cls", [interleave.Lock, interleave.RLock])
def test_lock_negative_timeout_is_rejected_like_threading(cls: type) -> None:
    with pytest.raises(ValueError, match="timeout value must be a non-negative number"):
        cls().acquire(timeout=-2)


def test_lock_name_must_be_a_non_empty_string() -> None:
    with pytest.raises(InvalidArgument, match="name='' must be a non-empty string"):
        interleave.Lock(name="")


def test_lock_excludes_real_threads() -> None:
    lock = interleave.Lock()
    inside = interleave.Counter("inside")
    overlaps: list[int] = []

    def work() -> None:
        for _ in range(200):
            with lock:
                if inside.add() != 1:
                    overlaps.append(1)
                inside.add(-1)

    _run_threads(work)
    assert overlaps == []


# ---------------------------------------------------------------------------- semaphores


def test_semaphore_counts_permits() -> None:
    sem = interleave.Semaphore(2)
    assert sem.acquire() is True
    assert sem.acquire() is True
    assert sem.acquire(blocking=False) is False
    assert sem.acquire(timeout=0.01) is False
    sem.release(2)
    assert sem.acquire(blocking=False) is True
    sem.release()


def test_semaphore_argument_errors_mirror_threading() -> None:
    with pytest.raises(ValueError, match="initial value must be >= 0"):
        interleave.Semaphore(-1)
    with pytest.raises(ValueError, match="n must be one or more"):
        interleave.Semaphore().release(0)


def test_semaphore_negative_timeout_times_out_like_threading() -> None:
    real = threading.Semaphore(0)
    ours = interleave.Semaphore(0)
    assert real.acquire(timeout=-0.5) is False
    assert ours.acquire(timeout=-0.5) is False


def test_semaphore_release_wakes_a_real_thread() -> None:
    sem = interleave.Semaphore(0)
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(sem.acquire()))
    t.start()
    sem.release()
    t.join()
    assert got == [True]


def test_bounded_semaphore_over_release_raises_value_error() -> None:
    sem = interleave.BoundedSemaphore(1)
    with sem:
        pass
    with pytest.raises(ValueError, match="Semaphore released too many times"):
        sem.release()
    plain = interleave.Semaphore(1)
    plain.release()  # an unbounded semaphore may grow
    assert plain.acquire(blocking=False) and plain.acquire(blocking=False)


# ---------------------------------------------------------------------------- condition, event


def test_condition_wait_notify_between_real_threads() -> None:
    cond = interleave.Condition(interleave.Lock())
    items: list[int] = []
    got: list[int] = []

    def consumer() -> None:
        with cond:
            while not items:
                cond.wait()
            got.append(items.pop())

    t = threading.Thread(target=consumer)
    t.start()
    with cond:
        items.append(42)
        cond.notify()
    t.join()
    assert got == [42]


def test_condition_wait_for_between_real_threads_and_timeout() -> None:
    cond = interleave.Condition()
    state = {"ready": False}

    def producer() -> None:
        with cond:
            state["ready"] = True
            cond.notify_all()

    with cond:
        assert cond.wait_for(lambda: False, timeout=0.01) is False
        assert cond.wait(timeout=0.01) is False
        t = threading.Thread(target=producer)
        t.start()
        assert cond.wait_for(lambda: state["ready"]) is True
    t.join()


def test_condition_wait_and_notify_need_the_lock() -> None:
    cond = interleave.Condition()
    with pytest.raises(RuntimeError, match="cannot wait on un-acquired lock"):
        cond.wait()
    with pytest.raises(RuntimeError, match="cannot notify on un-acquired lock"):
        cond.notify()


def test_condition_rejects_a_foreign_lock() -> None:
    with pytest.raises(TypeError, match=r"needs an interleave\.Lock or interleave\.RLock"):
        interleave.Condition(threading.Lock())  # type: ignore[arg-type]


def test_event_wakes_a_real_thread() -> None:
    event = interleave.Event()
    woke: list[bool] = []
    t = threading.Thread(target=lambda: woke.append(event.wait()))
    t.start()
    assert event.is_set() is False
    event.set()
    t.join()
    assert woke == [True]
    event.clear()
    assert event.is_set() is False
    assert event.wait(timeout=0.01) is False


# ---------------------------------------------------------------------------- spawn


def test_spawn_outside_an_exploration_starts_a_real_thread() -> None:
    release = threading.Event()
    seen: list[str] = []

    def child(tag: str) -> None:
        release.wait()
        seen.append(f"{tag} on {threading.current_thread().name}")

    handle = interleave.spawn(child, "x", name="kid")
    assert handle.name == "kid"
    assert handle.is_alive() is True
    release.set()
    handle.join()
    assert handle.is_alive() is False
    assert seen == ["x on kid"]


def test_spawn_needs_a_callable() -> None:
    with pytest.raises(InvalidArgument, match="spawn\\(\\) needs a callable, not int"):
        interleave.spawn(3)  # type: ignore[arg-type]


def test_primitives_keep_the_real_threading_classes_when_threading_is_patched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # patch_threading swaps threading.Lock & co. for interleave's shims during an execution;
    # the shims must still build on the real primitives (not on themselves).
    def check_caller(name: str) -> None:
        caller = sys._getframe(2).f_globals.get("__name__", "")
        if caller.startswith("interleave"):
            raise AssertionError(f"interleave used the patched threading.{name}")

    def patch(name: str) -> None:
        original = getattr(threading, name)
        # Python 3.13's threading.Lock is the C type itself, which cannot be subclassed.
        if isinstance(original, type) and original.__flags__ & (1 << 10):  # Py_TPFLAGS_BASETYPE
            # A subclass, so threading's own ``Semaphore.__init__(self, …)`` calls still work.
            def new(cls: type, *args: object, **kwargs: object) -> object:
                check_caller(name)
                return object.__new__(cls)

            patched: object = type(name, (original,), {"__new__": new})
        else:

            def patched_function(*args: object, **kwargs: object) -> object:
                check_caller(name)
                return original(*args, **kwargs)

            patched = patched_function
        monkeypatch.setattr(threading, name, patched)

    for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Thread"):
        patch(name)
    lock, rlock = interleave.Lock(), interleave.RLock()
    with lock, rlock, interleave.Condition(lock=interleave.Lock()):
        pass
    with interleave.Semaphore(), interleave.BoundedSemaphore():
        pass
    event = interleave.Event()
    interleave.spawn(event.set).join()
    assert event.is_set()
