"""Unmodified threaded programs (``tests/threading/programs``) under ``interleave.explore``.

Each bug is found, and each fix is clean over the whole (exhausted) schedule space.
"""

from __future__ import annotations

import _thread
import sys
import threading
from pathlib import Path

import pytest
from programs import abba, bank, barrier, condition_if, module_locks, pipeline

import interleave
from interleave.instrument import threading as patch_threading
from interleave.instrument._swap import ModuleSwap


def _kinds(result: interleave.ExploreResult) -> set[str]:
    return {f.kind for f in result.findings}


def _clean(result: interleave.ExploreResult) -> None:
    assert result.ok, result.report()
    assert result.exhausted


# ------------------------------------------------------------------ bank account
def _bank(account_type: type[bank.Account]) -> interleave.Scenario:
    account = account_type(100)

    def tellers() -> None:
        bank.withdraw_twice(account, 80)

    return interleave.Scenario(threads=[tellers], check=lambda: account.balance >= 0)


def test_bank_account_overdraft_is_found_and_replays() -> None:
    result = interleave.explore(lambda: _bank(bank.Account))
    assert _kinds(result) == {"invariant"}
    finding = result.findings[0]
    run = interleave.replay(lambda: _bank(bank.Account), finding.schedule_id)
    assert [f.kind for f in run.findings] == ["invariant"]
    # The report names the Thread objects and the lines of bank.py.
    text = result.report()
    assert "Thread-1@tellers#1 (teller)" in text
    assert "bank.py:" in text


def test_bank_account_fix_is_clean() -> None:
    _clean(interleave.explore(lambda: _bank(bank.SafeAccount)))


# ------------------------------------------------------------------ ABBA deadlock
def _abba(ordered: bool) -> interleave.Scenario:
    ledger = abba.Ledger()
    return interleave.Scenario(
        threads=[lambda: abba.run_transfers(ledger, ordered)],
        check=lambda: sum(ledger.balances.values()) == 200,
    )


def test_abba_deadlock_is_found_with_its_cycle() -> None:
    result = interleave.explore(lambda: _abba(False))
    assert _kinds(result) == {"deadlock"}
    deadlock = result.findings[0]
    assert isinstance(deadlock, interleave.Deadlock)
    assert set(deadlock.cycle) >= {"a-to-b", "b-to-a"}
    assert "abba.py:" in deadlock.message


def test_abba_fix_is_clean() -> None:
    _clean(interleave.explore(lambda: _abba(True)))


# ------------------------------------------------------------------ queue: missed task_done
def _pipeline(fixed: bool) -> interleave.Scenario:
    got: list[list[object]] = []
    return interleave.Scenario(
        threads={"producer": lambda: got.append(pipeline.produce([1], fixed=fixed))},
        check=lambda: got == [[1]],
    )


def test_missed_task_done_hangs_queue_join() -> None:
    result = interleave.explore(lambda: _pipeline(False))
    assert _kinds(result) == {"deadlock"}
    message = result.findings[0].message
    assert "all_tasks_done" in message
    assert "producer" in message


def test_task_done_fix_is_clean() -> None:
    _clean(interleave.explore(lambda: _pipeline(True)))


# ------------------------------------------------------------------ Condition with if
def _buffer(fixed: bool) -> interleave.Scenario:
    buf = condition_if.Buffer()
    got: list[int] = []

    def consumer() -> None:
        got.append(buf.get_fixed() if fixed else buf.get())

    def producer() -> None:
        buf.put(1)
        buf.put(2)

    return interleave.Scenario(
        threads={"consumer-1": consumer, "consumer-2": consumer, "producer": producer},
        check=lambda: sorted(got) == [1, 2],
    )


def test_condition_if_instead_of_while_is_found() -> None:
    result = interleave.explore(lambda: _buffer(False))
    assert "exception" in _kinds(result)
    crash = next(f for f in result.findings if isinstance(f, interleave.ThreadCrashed))
    assert "IndexError" in crash.exception
    assert "condition_if.py" in crash.traceback


def test_condition_while_fix_is_clean() -> None:
    _clean(interleave.explore(lambda: _buffer(True)))


# ------------------------------------------------------------------ Barrier misuse
def _barrier(fixed: bool) -> interleave.Scenario:
    totals: list[int] = []
    return interleave.Scenario(
        threads={"main": lambda: totals.append(barrier.run_phases([[1, 2], [], [3]], fixed=fixed))},
        check=lambda: totals == [6],
    )


def test_barrier_skipped_by_one_worker_deadlocks() -> None:
    result = interleave.explore(lambda: _barrier(False))
    assert _kinds(result) == {"deadlock"}
    assert "barrier#1" in result.findings[0].message


def test_barrier_fix_is_clean() -> None:
    _clean(interleave.explore(lambda: _barrier(True)))


# ------------------------------------------------------------------ module-level locks
def _module_abba() -> interleave.Scenario:
    return interleave.Scenario(threads=[module_locks.a_then_b, module_locks.b_then_a])


def test_module_level_locks_are_scheduled_and_their_deadlock_found() -> None:
    result = interleave.explore(_module_abba)
    assert _kinds(result) == {"deadlock"}
    message = result.findings[0].message
    assert "programs.module_locks.LOCK_A" in message
    assert "programs.module_locks.LOCK_B" in message
    # The real module globals are back afterwards.
    assert type(module_locks.LOCK_A).__name__ == "lock"
    assert not module_locks.LOCK_A.locked()


def test_class_attribute_lock_is_scheduled() -> None:
    def scenario() -> interleave.Scenario:
        registry = module_locks.Registry()
        return interleave.Scenario(
            threads=[lambda: registry.add_once("x"), lambda: registry.add_once("x")],
            check=lambda: registry.names == ["x"],
        )

    result = interleave.explore(scenario)
    assert _kinds(result) == {"invariant"}
    assert "programs.module_locks.Registry.lock" in result.report()
    assert type(module_locks.Registry.lock).__name__ == "RLock"


def test_lock_factory_imported_by_name_is_scheduled() -> None:
    made: list[object] = []

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: made.append(module_locks.new_lock())])

    one_thread = [interleave.HealthCheck.single_thread]
    assert interleave.explore(scenario, suppress_health_check=one_thread).ok
    assert isinstance(made[0], interleave.Lock)
    assert module_locks.make_lock is __import__("threading").Lock


def _module_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> None:
    """Write module ``name`` in ``tmp_path``, importable (and not imported yet) for the test."""
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)


def test_a_module_imported_during_the_exploration_has_its_names_swapped_from_then_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The patches look at a project module again only when something was imported since
    # their last look (instrument/_project.py, modules_with_work): one the scenario imports
    # in its first execution must still have the real lock factory it bound (``_thread``'s,
    # which the module-wide swap leaves alone) swapped in the executions after it.
    _module_file(
        tmp_path,
        monkeypatch,
        "late_locks",
        "from _thread import allocate_lock as make_lock\n\n\n"
        "def new_lock():\n    return make_lock()\n",
    )
    made: list[object] = []

    def scenario() -> interleave.Scenario:
        import late_locks

        counter = interleave.Shared("n", 0, racy=True)

        def locker() -> None:
            lock = late_locks.new_lock()
            made.append(lock)
            with lock:
                counter.set(1)

        def writer() -> None:
            counter.set(2)
            counter.set(3)

        return interleave.Scenario(threads=[locker, writer])

    result = interleave.explore(scenario, strategy="dfs", project=[str(tmp_path)])
    assert result.ok and result.exhausted and len(made) >= 2, result.report()
    assert all(isinstance(lock, interleave.Lock) for lock in made[1:]), made
    assert sys.modules["late_locks"].make_lock is _thread.allocate_lock  # put back


def test_a_module_imported_while_patched_gets_the_real_names_back_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Imported in an execution, ``from threading import Lock`` binds the patch's stand-in
    # (threading.Lock is swapped for the whole exploration): the real one is put back when
    # the exploration ends, as in every module imported before it.
    _module_file(
        tmp_path,
        monkeypatch,
        "late_threading",
        "from threading import Lock, Event\nimport threading\nMAKE = threading.Lock\n",
    )
    seen: list[object] = []

    def scenario() -> interleave.Scenario:
        import late_threading

        seen.append(late_threading.Lock)
        counter = interleave.Shared("n", 0, racy=True)
        return interleave.Scenario(threads=[lambda: counter.set(1), lambda: counter.set(2)])

    assert interleave.explore(scenario, project=[str(tmp_path)]).ok
    assert seen[0] is not threading.Lock  # (the stand-in, while patched)
    module = sys.modules["late_threading"]
    assert module.Lock is threading.Lock
    assert module.Event is threading.Event
    assert module.MAKE is threading.Lock


def test_a_from_threading_name_stays_swapped_while_any_execution_needs_the_swap() -> None:
    # ``from threading import Lock as make_lock`` in module_locks is swapped once and stays
    # swapped as long as the module-wide swap does (here: an outer scope that outlives the
    # exploration, as a second exploration in another OS thread would), then put back.
    made: list[object] = []

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: made.append(module_locks.new_lock())])

    one_thread = [interleave.HealthCheck.single_thread]
    real = threading.Lock
    with patch_threading.exploration_scope():
        assert interleave.explore(scenario, suppress_health_check=one_thread).ok
        assert module_locks.make_lock is not real  # still swapped
        assert module_locks.make_lock is threading.Lock  # (the patched factory)
    assert isinstance(made[0], interleave.Lock)
    assert module_locks.make_lock is real
    assert threading.Lock is real
    assert not patch_threading.is_patched()


def test_module_swap_bind_puts_back_only_what_it_bound() -> None:
    namespace: dict[str, object] = {"kept": "real", "rebound": "real"}
    swap = ModuleSwap([])
    with pytest.raises(RuntimeError, match="install"):
        swap.bind(namespace, "kept", "real", "patched")
    swap.install()
    swap.install()
    swap.bind(namespace, "kept", "real", "patched")
    swap.bind(namespace, "rebound", "real", "patched")
    swap.bind(namespace, "kept", "real", "patched")  # already bound: nothing more to undo
    namespace["rebound"] = "the program's own"
    swap.uninstall()
    assert namespace == {"kept": "patched", "rebound": "the program's own"}  # a user is left
    swap.uninstall()
    assert namespace == {"kept": "real", "rebound": "the program's own"}


def test_a_module_first_scanned_while_its_names_are_swapped_is_swapped_later_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Explorations in two OS threads share the swap: one may look at a module first while
    # the other has its ``from threading import Lock`` bound to the stand-in. What it notes
    # of the module must still say "swap Lock" once that exploration is over.
    _module_file(
        tmp_path,
        monkeypatch,
        "shared_locks",
        "from threading import Lock\n\n\ndef new_lock():\n    return Lock()\n",
    )
    import shared_locks

    from interleave.instrument.threading import _execution

    made: list[object] = []

    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: made.append(shared_locks.new_lock())])

    one_thread = [interleave.HealthCheck.single_thread]
    real = threading.Lock
    with patch_threading.exploration_scope():
        # As another exploration's execution would have done:
        _execution.SWAP.bind(vars(shared_locks), "Lock", real, threading.Lock)
        assert interleave.explore(
            scenario, suppress_health_check=one_thread, project=[str(tmp_path)]
        ).ok
    assert shared_locks.Lock is real
    made.clear()
    assert interleave.explore(
        scenario, suppress_health_check=one_thread, project=[str(tmp_path)]
    ).ok
    assert made and all(isinstance(lock, interleave.Lock) for lock in made), made
    assert shared_locks.Lock is real
