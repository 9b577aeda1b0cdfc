"""Errors and failure kinds of the public API, with the messages users read."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from textbook import lost_update

import interleave
from interleave.errors import (
    InterleaveError,
    InvalidArgument,
    InvalidScheduleId,
    ScenarioError,
)


def clean() -> interleave.Scenario:
    def worker() -> None:
        interleave.point("only")

    return interleave.Scenario(threads=[worker])


def wide() -> interleave.Scenario:
    # 3 threads x 6 points: 17,153,136 schedules, far more than any test runs.
    def worker() -> None:
        for _ in range(6):
            interleave.point()

    return interleave.Scenario(threads=[worker, worker, worker])


# ---------------------------------------------------------------------------- schedule IDs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("AQIDBA", "expected '<format>-<payload>'"),
        ("4-AAA", "newer ID format 4"),
        ("1-A$A", "base64url"),
    ],
)
def test_replay_rejects_invalid_ids_with_the_reason(text: str, expected: str) -> None:
    with pytest.raises(InvalidScheduleId) as info:
        interleave.replay(clean, text)

    assert expected in str(info.value)
    assert isinstance(info.value, InterleaveError)


# ---------------------------------------------------------------------------- factories


def returns_int() -> int:
    return 42


def returns_none() -> None:
    return None


@pytest.mark.parametrize(
    ("factory", "shown"),
    [(returns_int, "returned int (42)"), (returns_none, "returned NoneType (None)")],
)
def test_factory_returning_something_else_is_a_scenario_error_naming_it(
    factory: Callable[[], object], shown: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        interleave.explore(factory)

    message = str(info.value)
    assert f"{factory.__name__}()" in message
    assert shown in message
    assert "interleave.Scenario(threads=[...])" in message


def test_replay_also_names_a_bad_factory() -> None:
    with pytest.raises(ScenarioError, match=r"returns_int\(\) returned int"):
        interleave.replay(returns_int, "1-AAA")


def test_passing_a_scenario_instead_of_its_factory_says_how_to_fix_it() -> None:
    with pytest.raises(ScenarioError) as info:
        interleave.explore(clean())  # type: ignore[arg-type]

    message = str(info.value)
    assert "needs the scenario *factory*" in message
    assert "not explore(lost_update())" in message


def test_passing_a_non_callable_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match=r"callable factory .* not list"):
        interleave.explore([clean])  # type: ignore[arg-type]


def test_a_type_alias_or_a_class_is_not_a_factory() -> None:
    # Both are callable, but calling them makes no Scenario: the error names what was passed.
    factory = Callable[[], interleave.Scenario]
    with pytest.raises(ScenarioError, match=r"not a type alias \(collections.abc.Callable"):
        interleave.explore(factory)

    class Settings:
        pass

    with pytest.raises(ScenarioError, match=r"not a class \(calling it makes a Settings\)"):
        interleave.explore(Settings)  # type: ignore[arg-type]


def test_thread_that_is_not_callable_is_reported_with_its_position() -> None:
    with pytest.raises(ScenarioError, match="thread 1 must be a callable, not int"):
        interleave.Scenario(threads=[clean, 3])  # type: ignore[list-item]


def test_scenario_without_threads_is_an_error() -> None:
    with pytest.raises(ScenarioError, match="at least one thread"):
        interleave.explore(lambda: interleave.Scenario(threads=[]))


def test_scenario_error_is_also_a_value_and_type_error() -> None:
    with pytest.raises(TypeError):
        interleave.explore(returns_int)
    with pytest.raises(ValueError):
        interleave.explore(returns_int)


# ---------------------------------------------------------------------------- keyword values


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"max_schedules": 0}, "max_schedules=0 must be at least 1"),
        ({"max_schedules": -5}, "max_schedules=-5 must be at least 1"),
        ({"max_schedules": "10"}, "max_schedules='10' must be an int (got str)"),
        ({"max_schedules": 2.5}, "max_schedules=2.5 must be an int (got float)"),
        ({"max_schedules": True}, "max_schedules=True must be an int (got bool)"),
        ({"strategy": "nope"}, "strategy='nope' is not one of "),
        ({"timeout": 0}, "timeout=0 must be greater than 0 seconds"),
        ({"timeout": -1.0}, "timeout=-1.0 must be greater than 0 seconds"),
        ({"timeout": math.nan}, "timeout=nan must be greater than 0 seconds"),
        ({"timeout": "1"}, "timeout='1' must be a number of seconds or None"),
        ({"seed": 1}, "seed=1 only applies to strategy='random'"),
        ({"seed": "x", "strategy": "random"}, "seed='x' must be an int or None"),
        ({"max_steps": -1}, "max_steps=-1 must be at least 1"),
        ({"max_steps": 0}, "max_steps=0 must be at least 1"),
        ({"stop_on_first": 1}, "stop_on_first=1 must be True or False"),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else "",
)
def test_bad_keyword_values_are_rejected_up_front(kwargs: dict[str, object], expected: str) -> None:
    built: list[int] = []

    def counting() -> interleave.Scenario:
        built.append(1)
        return clean()

    with pytest.raises(InvalidArgument) as info:
        interleave.explore(counting, **kwargs)  # type: ignore[arg-type]

    assert expected in str(info.value)
    if kwargs.get("strategy") == "nope":
        assert "'dfs'" in str(info.value) and "'random'" in str(info.value)
    assert built == []  # validated before any execution ran


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        interleave.explore(clean, 10)  # type: ignore[misc]


def test_replay_rejects_a_bad_max_steps() -> None:
    # "1-AAE" is a valid ID: one step, no recorded choices (the default policy).
    assert interleave.replay(clean, "1-AAE").ok
    with pytest.raises(InvalidArgument, match="max_steps=0 must be at least 1"):
        interleave.replay(clean, "1-AAE", max_steps=0)


# ---------------------------------------------------------------------------- finding kinds


def spinner() -> interleave.Scenario:
    flag = interleave.Shared("flag", False)

    def waiter() -> None:
        while not flag.get():
            pass

    return interleave.Scenario(threads={"spinner": waiter})


def test_spin_loop_ends_as_a_step_limit_finding_naming_the_thread() -> None:
    result = interleave.explore(spinner, max_steps=200)

    (finding,) = result.findings
    assert finding.kind == "step-limit"
    assert isinstance(finding, interleave.StepLimit)
    assert finding.thread == "spinner"
    assert finding.threads == ("spinner",)
    assert finding.max_steps == 200
    assert "'spinner' took more than max_steps=200 steps" in finding.message
    assert "spin loop" in finding.message
    assert finding.trace is not None
    assert len(finding.trace) == 201


def test_spin_loop_against_a_setter_is_reported_and_replays() -> None:
    def scenario() -> interleave.Scenario:
        flag = interleave.Shared("flag", False)

        def waiter() -> None:
            while not flag.get():
                pass

        def setter() -> None:
            interleave.point("before set")
            flag.set(True)

        return interleave.Scenario(threads={"spinner": waiter, "setter": setter})

    result = interleave.explore(scenario, max_steps=50, stop_on_first=True)

    (finding,) = result.findings
    assert finding.kind == "step-limit"
    assert finding.threads == ("spinner",)
    run = interleave.replay(scenario, finding.schedule_id, max_steps=50)
    assert [f.kind for f in run.findings] == ["step-limit"]


def crasher() -> interleave.Scenario:
    def boom() -> None:
        interleave.point("before")
        raise KeyError("missing-key")

    return interleave.Scenario(threads=[boom])


def test_thread_that_raises_is_an_exception_finding_with_traceback() -> None:
    result = interleave.explore(crasher)

    (finding,) = result.findings
    assert finding.kind == "exception"
    assert isinstance(finding, interleave.ThreadCrashed)
    assert finding.thread == "boom#1"
    assert finding.exception == "KeyError: 'missing-key'"
    assert "thread 'boom#1' raised KeyError" in finding.message
    assert "Traceback (most recent call last)" in finding.traceback
    assert 'raise KeyError("missing-key")' in finding.traceback
    assert finding.trace is not None
    assert finding.trace.outcomes == ("crashed",)
    assert "traceback:" in result.report()


def test_check_raising_is_an_invariant_finding() -> None:
    def scenario() -> interleave.Scenario:
        def worker() -> None:
            interleave.point()

        def check() -> bool:
            raise ZeroDivisionError("bad ratio")

        return interleave.Scenario(threads=[worker], check=check)

    (finding,) = interleave.explore(scenario).findings

    assert finding.kind == "invariant"
    assert isinstance(finding, interleave.InvariantViolation)
    assert finding.message == "check() raised ZeroDivisionError: bad ratio"
    assert "ZeroDivisionError: bad ratio" in finding.detail


@pytest.mark.parametrize("returned", [False, None, 0])
def test_check_returning_falsy_is_an_invariant_finding(returned: object) -> None:
    def scenario() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: None], check=lambda: returned)

    (finding,) = interleave.explore(scenario).findings

    assert finding.kind == "invariant"
    assert f"check() returned {returned!r}" in finding.message


# ---------------------------------------------------------------------------- stop rules


def test_stop_on_first_stops_at_the_first_finding() -> None:
    full = interleave.explore(lost_update, strategy="dfs")
    first = interleave.explore(lost_update, stop_on_first=True, strategy="dfs")

    assert first.stopped_because == "first-finding"
    assert not first.exhausted
    assert first.schedules_run < full.schedules_run
    assert first.findings
    assert "stopped at the first finding" in first.report()


def test_max_schedules_budget_is_not_exhausted_and_the_report_says_so() -> None:
    result = interleave.explore(wide, max_schedules=5, strategy="dfs")

    assert result.schedules_run == 5
    assert not result.exhausted
    assert result.stopped_because == "max_schedules"
    assert result.ok
    report = result.report()
    assert "NOT exhausted" in report
    assert "This is not a proof" in report


def test_exhausted_report_says_exhausted() -> None:
    # One thread: the single-thread health check is not what this test is about.
    report = interleave.explore(
        clean, strategy="dfs", suppress_health_check=[interleave.HealthCheck.single_thread]
    ).report()

    assert "exhausted: every schedule was explored" in report
    assert "NOT exhausted" not in report


def test_tiny_timeout_on_a_big_space_stops_because_of_timeout() -> None:
    result = interleave.explore(wide, timeout=1e-9, strategy="dfs")

    assert result.stopped_because == "timeout"
    assert not result.exhausted
    assert "NOT exhausted" in result.report()


def test_async_and_sync_threads_in_one_scenario_are_rejected() -> None:
    # async def threads run as asyncio tasks (docs/asyncio.md); with threads, not yet.
    async def task() -> None:
        interleave.point()

    def thread() -> None:
        interleave.point()

    with pytest.raises(ScenarioError, match="mixes async functions"):
        interleave.explore(lambda: [task, thread])
