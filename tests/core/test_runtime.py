"""Runtime internals that are easy to get wrong: naming, unwinding, stable auto names."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

import interleave
from interleave._core._program import Program, ThreadSpec
from interleave._core._replay import ScheduleChooser
from interleave._core._runtime import Runtime
from interleave._core._schedule import Schedule


def _names(factory: Callable[[], object]) -> tuple[str, ...]:
    # A failing check keeps the trace of the (single) first execution in the finding.
    run = interleave.replay(factory, _default_id(factory))
    return run.trace.thread_names


def _default_id(factory: Callable[[], object]) -> str:
    # Only the length of an execution is wanted: the factories here need not interleave.
    result = interleave.explore(
        factory, max_schedules=1, suppress_health_check=list(interleave.HealthCheck)
    )
    runtime_steps = result.statistics.max_depth
    return Schedule(choices=(), steps=runtime_steps).id


def work() -> None:
    interleave.point()


def other() -> None:
    interleave.point()


# ---------------------------------------------------------------------------- thread names


def test_list_threads_are_numbered_per_function() -> None:
    assert _names(lambda: [work, work, other, work]) == ("work#1", "work#2", "other#1", "work#3")


def test_mapping_names_are_kept() -> None:
    factory = lambda: interleave.Scenario(threads={"reader": work, "writer": work})  # noqa: E731

    assert _names(factory) == ("reader", "writer")


def test_lambdas_and_unnamed_callables_are_called_thread() -> None:
    class Task:
        def __call__(self) -> None:
            interleave.point()

    factory = lambda: [  # noqa: E731
        lambda: interleave.point(),
        lambda: interleave.point(),
        Task(),
        functools.partial(interleave.point, "partial"),
    ]

    assert _names(factory) == ("thread#1", "thread#2", "thread#3", "thread#4")


def test_spawned_names_skip_names_taken_explicitly() -> None:
    def parent() -> None:
        interleave.spawn(work).join()
        interleave.spawn(work, name="helper").join()
        interleave.spawn(work, name="helper").join()

    factory = lambda: interleave.Scenario(threads={"work#1": parent})  # noqa: E731

    assert _names(factory) == ("work#1", "work#2", "helper", "helper#1")


def test_names_are_the_same_in_every_execution() -> None:
    seen: set[tuple[str, ...]] = set()

    def factory() -> interleave.Scenario:
        names: list[str] = []

        def parent() -> None:
            handle = interleave.spawn(work)
            names.append(handle.name)
            interleave.point()
            handle.join()

        def late() -> None:
            interleave.point()
            names.append(interleave.spawn(other).name)

        return interleave.Scenario(
            threads=[parent, late], teardown=lambda: seen.add(tuple(sorted(names)))
        )

    result = interleave.explore(factory, strategy="dfs")

    assert result.ok
    assert result.schedules_run > 1
    assert seen == {("other#1", "work#1")}


# ---------------------------------------------------------------------------- unwinding


def test_unwinding_runs_finally_blocks_of_deadlocked_threads_in_creation_order() -> None:
    unwound: list[list[str]] = []

    def factory() -> interleave.Scenario:
        forks = [interleave.Lock(name=f"fork-{i}") for i in range(3)]
        log: list[str] = []

        def philosopher(i: int) -> Callable[[], None]:
            def eat() -> None:
                try:
                    with forks[i], forks[(i + 1) % 3]:
                        pass
                finally:
                    log.append(f"phil-{i}")

            return eat

        return interleave.Scenario(
            # Created in the order 2, 0, 1: unwinding must follow creation, not the names.
            threads={f"phil-{i}": philosopher(i) for i in (2, 0, 1)},
            teardown=lambda: unwound.append(list(log)),
        )

    result = interleave.explore(factory)

    deadlocks = [f for f in result.findings if f.kind == "deadlock"]
    assert deadlocks
    assert ["phil-2", "phil-0", "phil-1"] in unwound
    for log in unwound:
        assert len(log) == 3  # every thread's finally ran, deadlocked or not


def test_unwinding_cannot_be_swallowed_by_except_exception() -> None:
    events: list[str] = []

    def factory() -> interleave.Scenario:
        never = interleave.Event(name="never")

        def stubborn() -> None:
            try:
                never.wait()
            except Exception:  # must not catch the unwinding
                events.append("swallowed")
            finally:
                events.append("finally")

        return interleave.Scenario(threads=[stubborn])

    result = interleave.explore(factory)

    assert [f.kind for f in result.findings] == ["deadlock"]
    assert events == ["finally"]


def test_a_finally_that_blocks_while_unwinding_does_not_hang() -> None:
    log: list[str] = []

    def factory() -> interleave.Scenario:
        lock = interleave.Lock(name="held")
        never = interleave.Event(name="never")

        def holder() -> None:
            lock.acquire()
            never.wait()

        def cleaner() -> None:
            try:
                never.wait()
            finally:
                log.append("cleanup starts")
                with lock:  # held by a deadlocked thread: cannot wait while unwinding
                    log.append("unreachable")

        return interleave.Scenario(threads=[holder, cleaner])

    result = interleave.explore(factory, max_schedules=20)

    assert {f.kind for f in result.findings} == {"deadlock"}
    assert "unreachable" not in log
    assert "cleanup starts" in log


def test_errors_raised_while_unwinding_are_not_findings() -> None:
    def factory() -> interleave.Scenario:
        never = interleave.Event(name="never")

        def noisy() -> None:
            try:
                never.wait()
            finally:
                raise RuntimeError("raised during cleanup")

        return interleave.Scenario(threads=[noisy])

    result = interleave.explore(factory)

    assert [f.kind for f in result.findings] == ["deadlock"]


def test_check_does_not_run_after_a_deadlock_but_teardown_does() -> None:
    calls: list[str] = []

    def factory() -> interleave.Scenario:
        never = interleave.Event()
        return interleave.Scenario(
            threads=[never.wait],
            check=lambda: calls.append("check") or True,
            teardown=lambda: calls.append("teardown"),
        )

    interleave.explore(factory)

    assert calls == ["teardown"]


# ---------------------------------------------------------------------------- auto names


def test_primitives_built_in_the_factory_get_the_same_auto_names_every_execution() -> None:
    per_execution: list[tuple[str, ...]] = []

    def factory() -> interleave.Scenario:
        objects = [
            interleave.Lock(),
            interleave.Lock(),
            interleave.RLock(),
            interleave.Event(),
            interleave.Semaphore(2),
            interleave.Condition(),
        ]
        per_execution.append(tuple(o.name for o in objects))
        first, second = objects[0], objects[1]

        def a() -> None:
            with first:
                interleave.point()

        def b() -> None:
            with second:
                interleave.point()

        return interleave.Scenario(threads=[a, b])

    result = interleave.explore(factory, strategy="dfs")

    assert result.ok
    assert len(per_execution) >= result.schedules_run > 1
    assert set(per_execution) == {per_execution[0]}
    names = per_execution[0]
    assert names[:4] == ("lock#1", "lock#2", "rlock#1", "event#1")
    assert names[4] == "semaphore#1"
    assert len(set(names)) == len(names)


def test_auto_names_restart_in_each_exploration() -> None:
    names: list[str] = []

    def factory() -> list[Callable[[], None]]:
        names.append(interleave.Lock().name)
        return [work]

    one_thread = [interleave.HealthCheck.single_thread]
    interleave.explore(factory, suppress_health_check=one_thread)
    interleave.explore(factory, suppress_health_check=one_thread)

    assert names == ["lock#1", "lock#1"]


# ---------------------------------------------------------------------------- the runtime API


def _program(*fns: Callable[[], None]) -> Callable[[], Program]:
    return lambda: Program(threads=tuple(ThreadSpec(None, fn) for fn in fns), name="p")


def test_runtime_with_an_empty_schedule_follows_the_default_policy() -> None:
    chooser = ScheduleChooser(Schedule(choices=(), steps=4))
    runtime = Runtime(_program(_two_points, _two_points), chooser)

    outcome = runtime.run()
    chooser.check_complete(runtime)

    assert outcome.trace.choices == (0, 0, 1, 1)
    assert outcome.trace.outcomes == ("finished", "finished")
    assert outcome.findings == ()
    assert not outcome.stuck


def _two_points() -> None:
    interleave.point("one")
    interleave.point("two")


def test_trace_records_the_choices_and_a_minimal_schedule() -> None:
    chooser = ScheduleChooser(Schedule(choices=(1, 0), steps=4))
    outcome = Runtime(_program(_two_points, _two_points), chooser).run()

    trace = outcome.trace
    assert trace.choices == (1, 0, 0, 1)
    # After the preemption to thread 0 the default policy continues: only (1, 0) is stored.
    assert trace.schedule == Schedule(choices=(1, 0), steps=4)
    assert [s.op.label for s in trace.steps] == ["one", "one", "two", "two"]
    assert trace.step(2).thread_name == "_two_points#1"
    assert len(trace) == 4


def test_primitives_are_plain_objects_outside_an_exploration() -> None:
    hits = interleave.Shared("hits", 1)
    hits.set(hits.get() + 1)
    lock = interleave.Lock()

    with lock:
        assert lock.locked()
    interleave.point("ignored outside")

    assert hits.get() == 2
    assert not lock.locked()


@pytest.mark.parametrize("outcome_kind", ["finished", "crashed", "blocked"])
def test_trace_outcomes(outcome_kind: str) -> None:
    def factory() -> interleave.Scenario:
        never = interleave.Event()

        def body() -> None:
            interleave.point()
            if outcome_kind == "crashed":
                raise ValueError("x")
            if outcome_kind == "blocked":
                never.wait()

        return interleave.Scenario(threads=[body], check=lambda: False)

    (finding,) = interleave.explore(factory).findings[:1]

    assert finding.trace is not None
    assert finding.trace.outcomes == (outcome_kind,)
