"""The watchdog, through the public API: always on, whatever the patches and the OS thread.

Every scenario here blocks (or computes) outside interleave's control; the watchdog must end
the exploration with ``BlockedOutsideScheduler`` instead of hanging. The ``timeout`` marks are
a safety net only (pytest-timeout, signal method: the watchdog must leave ``SIGALRM`` alone
for them to work at all).
"""

from __future__ import annotations

import _thread
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

import pytest

import interleave
from interleave._core import _watchdog

pytestmark = pytest.mark.timeout(60)

LIMIT = 0.2


def _held_lock() -> _thread.LockType:
    """A real lock nobody will ever release: acquiring it blocks for ever."""
    lock = _thread.allocate_lock()
    lock.acquire()
    return lock


def _spin() -> None:
    """Python code that never reaches a yield point and never ends."""
    n = 0
    while n >= 0:
        n += 1


def _explore_blocked(
    where: str, block: Callable[[], object], **options: object
) -> interleave.BlockedOutsideScheduler:
    """Explore a scenario that runs ``block`` in ``where`` (thread/factory/check/teardown)."""

    def scenario() -> interleave.Scenario:
        if where == "factory":
            block()
        return interleave.Scenario(
            threads={"worker": block if where == "thread" else (lambda: None)},
            check=(lambda: block() or True) if where == "check" else None,
            teardown=block if where == "teardown" else None,
        )

    with pytest.raises(interleave.BlockedOutsideScheduler) as info:
        interleave.explore(scenario, watchdog=LIMIT, **options)  # type: ignore[arg-type]
    return info.value


def _handlers() -> dict[int, object]:
    return {int(s): signal.getsignal(s) for s in signal.valid_signals() if s < signal.NSIG}


@pytest.fixture(autouse=True)
def signals_untouched() -> Iterator[None]:
    """Every test: signal handlers as they were, and pytest-timeout's alarm still armed."""
    before = _handlers()
    yield
    assert _handlers() == before
    assert signal.getitimer(signal.ITIMER_REAL)[0] > 0, "pytest-timeout's alarm was cancelled"


def _nothing_left_behind() -> None:
    assert not _watchdog.is_running(), "the watchdog's monitor thread outlived the exploration"


# ------------------------------------------------------------------ always on
@pytest.mark.parametrize("patch_threading", [True, False], ids=["patched", "unpatched"])
@pytest.mark.parametrize("where", ["thread", "factory", "check", "teardown"])
def test_a_blocked_call_is_stopped_wherever_it_is(where: str, patch_threading: bool) -> None:
    lock = _held_lock()
    error = _explore_blocked(where, lambda: lock.acquire(), patch_threading=patch_threading)
    who = {
        "thread": "thread 'worker'",
        "factory": "the scenario factory",
        "check": "check()",
        "teardown": "teardown()",
    }[where]
    message = str(error)
    assert message.startswith(f"{who} blocked outside interleave's control"), message
    assert f"watchdog={LIMIT:g} s" in message
    assert "test_watchdog.py" in message  # the user's stack, not interleave's
    _nothing_left_behind()


@pytest.mark.parametrize("patch_threading", [True, False], ids=["patched", "unpatched"])
def test_a_python_loop_that_never_yields_is_stopped(patch_threading: bool) -> None:
    error = _explore_blocked("thread", _spin, patch_threading=patch_threading)
    assert "in _spin" in str(error)
    _nothing_left_behind()


def test_sleeping_in_a_thread_without_the_threading_patch_is_stopped() -> None:
    started = time.monotonic()
    _explore_blocked("thread", lambda: time.sleep(3600), patch_threading=False)
    assert time.monotonic() - started < 3600  # (it returned: no timed claim beyond that)


def test_replay_is_guarded_too() -> None:
    lock = _held_lock()
    blocking: list[bool] = []

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(
            threads=[lambda: blocking and lock.acquire()], check=lambda: False
        )

    [finding] = interleave.explore(scenario).findings
    blocking.append(True)
    with pytest.raises(interleave.BlockedOutsideScheduler):
        interleave.replay(scenario, finding.schedule_id, watchdog=LIMIT, patch_threading=False)
    _nothing_left_behind()


def test_watchdog_zero_turns_it_off() -> None:
    calls: list[str] = []

    def scenario() -> interleave.Scenario:
        def slow() -> None:
            time.sleep(0.3)  # longer than a 0.1 s watchdog, but the watchdog is off
            calls.append("done")

        return interleave.Scenario(threads=[slow])

    with _watchdog.watchdog_limit(0.1):
        result = interleave.explore(
            scenario, watchdog=0, patch_threading=False, suppress_health_check=["single_thread"]
        )
    assert result.ok and calls == ["done"]


def test_the_limit_is_per_exploration_and_nothing_is_left_for_the_next() -> None:
    lock = _held_lock()
    _explore_blocked("thread", lock.acquire)
    # The next exploration runs normally: no stale interrupt, no leftover patch or handler.
    hits = interleave.explore(_counter_scenario)
    assert hits.exhausted and not hits.ok
    _nothing_left_behind()


def _counter_scenario() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


# ------------------------------------------------------------------ code that swallows it
def test_a_thread_that_swallows_the_error_and_blocks_again_ends_the_exploration() -> None:
    lock = _held_lock()
    swallowed: list[int] = []

    def stubborn() -> None:
        while True:
            try:
                lock.acquire()
            except:  # noqa: E722 - the point: it swallows the watchdog's error too
                swallowed.append(1)

    error = _explore_blocked("thread", stubborn, patch_threading=False)
    assert "thread 'worker#1'" in str(error) or "thread 'worker'" in str(error)
    assert swallowed  # it was interrupted, swallowed it, and was then abandoned
    _nothing_left_behind()
    # The abandoned thread never runs again: the next exploration is unaffected.
    assert interleave.explore(_counter_scenario).exhausted


def test_a_thread_that_swallows_the_error_once_still_fails_the_exploration() -> None:
    lock = _held_lock()
    swallowed: list[int] = []

    def swallow_once() -> None:
        try:
            lock.acquire()
        except:  # noqa: E722
            swallowed.append(1)  # carries on as if nothing happened: the run proves nothing

    _explore_blocked("thread", swallow_once, patch_threading=False)
    assert swallowed == [1]


def test_check_that_swallows_the_error_is_explained_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # check() runs on the scheduler itself: it cannot be abandoned like a thread. It keeps
    # getting the error, the watchdog says why on stderr, and the exploration still fails.
    lock = _held_lock()
    swallowed: list[int] = []

    def stubborn_check() -> bool:
        while len(swallowed) < 5:
            try:
                lock.acquire()
            except:  # noqa: E722
                swallowed.append(1)
        return True

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: None], check=stubborn_check)

    with pytest.raises(interleave.BlockedOutsideScheduler, match=r"^check\(\) blocked"):
        interleave.explore(scenario, watchdog=LIMIT, patch_threading=False)
    err = capsys.readouterr().err
    assert "the watchdog cannot interrupt check()" in err
    assert "catches the watchdog's error" in err
    _nothing_left_behind()


# ------------------------------------------------------------------ off the main thread
def _in_a_thread(fn: Callable[[], object]) -> BaseException | None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    runner.join()
    return errors[0] if errors else None


def test_off_the_main_thread_a_python_loop_is_stopped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = _in_a_thread(lambda: _explore_blocked("thread", _spin, patch_threading=False))
    assert error is None, error
    assert "cannot interrupt" not in capsys.readouterr().err  # it could, at once
    _nothing_left_behind()


def test_off_the_main_thread_a_blocked_call_is_reported_and_ends_the_exploration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lock = _held_lock()
    # A blocking call cannot be interrupted off the main thread: the watchdog says so at once
    # (on stderr), and ends the exploration when the call returns.
    error = _in_a_thread(
        lambda: _explore_blocked("thread", lambda: lock.acquire(timeout=1), patch_threading=False)
    )
    assert error is None, error
    err = capsys.readouterr().err
    assert "the watchdog cannot interrupt thread 'worker'" in err
    assert "not the main thread" in err
    assert "lock.acquire(timeout=1)" in err
    _nothing_left_behind()


# ------------------------------------------------------------------ SIGALRM stays theirs
def test_an_alarm_set_before_the_exploration_still_fires_during_it() -> None:
    rang: list[FrameType | None] = []

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        rang.append(frame)

    def scenario() -> interleave.Scenario:
        def waiter() -> None:
            deadline = time.monotonic() + 30
            while not rang and time.monotonic() < deadline:
                time.sleep(0.01)

        return interleave.Scenario(threads=[waiter])

    previous = signal.signal(signal.SIGALRM, on_alarm)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, 0.5)  # pytest-timeout's, put back
    try:
        # watchdog=60: the limit is far, so only the user's alarm can end the wait.
        result = interleave.explore(
            scenario, watchdog=60, patch_threading=False, suppress_health_check=["single_thread"]
        )
        assert rang, "the alarm armed before explore() never fired"
        assert signal.getsignal(signal.SIGALRM) is on_alarm
        assert result.ok
    finally:
        signal.signal(signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, *previous_timer)


def test_a_pending_alarm_survives_an_exploration() -> None:
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, 600)
    try:
        interleave.explore(_counter_scenario)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining <= 600
    finally:
        signal.signal(signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, *previous_timer)
