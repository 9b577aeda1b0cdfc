"""Outcomes, preemption counts, tracebacks and hooks recorded by the runtime."""

from __future__ import annotations

import interleave
from interleave._core._observer import Observer
from interleave._core._ops import Operation
from interleave._core._program import Program, ThreadSpec
from interleave._core._replay import ScheduleChooser
from interleave._core._runtime import Runtime
from interleave._core._schedule import Schedule
from interleave._core._threads import SimThread
from interleave._core._views import ExecutionView


def philosophers() -> interleave.Scenario:
    forks = [interleave.Lock(name=f"fork{i}") for i in range(3)]

    def philosopher(i: int) -> object:
        def eat() -> None:
            with forks[i], forks[(i + 1) % 3]:
                pass

        return eat

    return interleave.Scenario(threads={f"p{i}": philosopher(i) for i in range(3)})


def test_preemptions_are_counted_exactly_even_when_threads_never_run_again() -> None:
    deadlock = interleave.explore(philosophers).findings[0]
    assert deadlock.trace is not None
    # The simplest deadlock: p0 takes fork0 and is preempted (it could take fork1), p2 takes
    # fork2, then p1 runs because p2 is blocked on fork0 (a forced switch, no preemption).
    # No thread runs again afterwards, so an estimate from the choices alone would say 0.
    assert deadlock.trace.choices == (0, 2, 1)
    assert deadlock.trace.preemptions() == 1


def test_a_thread_that_finished_before_a_deadlock_is_reported_finished() -> None:
    def scenario() -> interleave.Scenario:
        never = interleave.Event(name="never")
        done = interleave.Shared("done", 0)

        def quick() -> None:
            done.set(1)

        def stuck() -> None:
            never.wait()

        return interleave.Scenario(threads={"quick": quick, "stuck": stuck})

    finding = interleave.explore(scenario, strategy="dfs").findings[0]
    assert finding.kind == "deadlock" and finding.trace is not None
    assert dict(zip(finding.trace.thread_names, finding.trace.outcomes, strict=True)) == {
        "quick": "finished",
        "stuck": "blocked",
    }


def test_an_error_raised_while_unwinding_is_not_a_crash() -> None:
    def scenario() -> interleave.Scenario:
        lock = interleave.Lock(name="l")
        cond = interleave.Condition(lock, name="c")

        def waiter() -> None:
            with cond:
                cond.wait()  # nobody notifies: unwinding cuts the re-acquire short

        return interleave.Scenario(threads={"waiter": waiter})

    finding = interleave.explore(scenario).findings[0]
    assert finding.kind == "deadlock" and finding.trace is not None
    assert finding.trace.outcomes == ("blocked",)


def test_a_step_limited_run_does_not_call_unwound_threads_finished() -> None:
    def scenario() -> interleave.Scenario:
        flag = interleave.Shared("flag", 0)

        def spinner() -> None:
            while flag.get() == 0:
                pass

        def idle() -> None:
            interleave.point()

        return interleave.Scenario(threads={"spinner": spinner, "idle": idle})

    finding = interleave.explore(scenario, strategy="dfs", max_steps=5).findings[0]
    assert finding.kind == "step-limit" and finding.trace is not None
    assert finding.trace.outcomes == ("unfinished", "unfinished")


def test_crash_tracebacks_start_in_user_code() -> None:
    def scenario() -> interleave.Scenario:
        def boom() -> None:
            interleave.point()
            raise ValueError("bad input")

        return interleave.Scenario(threads=[boom])

    crash = interleave.explore(scenario).findings[0]
    assert isinstance(crash, interleave.ThreadCrashed)
    first_frame = crash.traceback.splitlines()[1]
    assert "test_runtime_outcomes.py" in first_frame, crash.traceback
    assert "_runtime.py" not in crash.traceback


def test_a_check_that_returns_none_says_how_to_fix_it() -> None:
    def scenario() -> interleave.Scenario:
        def check() -> None:
            assert True

        return interleave.Scenario(threads=[interleave.point], check=check)

    finding = interleave.explore(scenario).findings[0]
    assert finding.kind == "invariant"
    assert "must end with `return True`" in finding.message


def test_add_observer_during_a_run_sees_later_steps_and_reports_findings() -> None:
    seen: list[int] = []

    class Late(Observer):
        def on_step(self, index: int, thread: SimThread, op: Operation) -> None:
            seen.append(index)

        def on_finish(self, execution: ExecutionView) -> list[interleave.Finding]:
            return [interleave.InvariantViolation(message="late", signature=("late",))]

    def build() -> Program:
        def first() -> None:
            interleave.point("a")
            runtime = interleave._core._context.active()
            assert runtime is not None
            runtime.add_observer(Late())
            interleave.point("b")
            interleave.point("c")

        return Program(threads=(ThreadSpec(None, first),))

    runtime = Runtime(build, ScheduleChooser(Schedule(choices=(), steps=3)))
    outcome = runtime.run()
    assert seen == [1, 2]
    assert [f.message for f in outcome.findings] == ["late"]
