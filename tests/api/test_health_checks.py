"""Health checks: a clean exploration that proved less than it seems warns (or fails).

Each check fires on the scenario that shows its cause and stays quiet on the fixed one;
``suppress_health_check`` and ``fail_health_check`` select them; pytest and the command line
show them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import interleave
from interleave import HealthCheck, HealthCheckWarning
from interleave._cli import main
from interleave._core._program import Program, ThreadSpec
from interleave._core._replay import ScheduleChooser
from interleave._core._runtime import Runtime
from interleave._core._schedule import Schedule
from interleave._health import HealthMonitor
from interleave.instrument._project import bind_project, scenario_project
from interleave.instrument._watch import trace_attributes, unwatch, watch


@pytest.fixture
def caught() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning of the test, recorded instead of raised."""
    with warnings.catch_warnings(record=True) as found:
        warnings.simplefilter("always")
        yield found


def _checks(found: list[warnings.WarningMessage]) -> list[HealthCheck]:
    return [w.message.check for w in found if isinstance(w.message, HealthCheckWarning)]


# ---------------------------------------------------------------------------- scenarios
def solo() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)
    return interleave.Scenario(threads=[lambda: hits.set(hits.get() + 1)])


def invisible() -> interleave.Scenario:
    hits = {"n": 0}

    def worker() -> None:
        hits["n"] += 1  # a plain dict: no yield point

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits["n"] == 2)


def independent() -> interleave.Scenario:
    a, b = interleave.Shared("a", 0), interleave.Shared("b", 0)

    def left() -> None:
        a.set(a.get() + 1)

    def right() -> None:
        b.set(b.get() + 1)

    return interleave.Scenario(threads=[left, right])


def gated() -> interleave.Scenario:
    """The waiter can only run once the setter is done: one possible schedule."""
    ready = interleave.Event(name="ready")
    box = interleave.Shared("box", 0)

    def setter() -> None:
        box.set(1)
        ready.set()

    def waiter() -> None:
        ready.wait()
        box.get()

    return interleave.Scenario(threads=[setter, waiter])


def locked() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)
    lock = interleave.Lock(name="L")

    def worker() -> None:
        with lock:
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def hit(self) -> None:
        self.count += 1


def counted() -> interleave.Scenario:
    counter = Counter()
    return interleave.Scenario(threads=[counter.hit, counter.hit], check=lambda: counter.count == 2)


# ---------------------------------------------------------------------------- each check
def test_a_single_thread_warns_with_the_cause_the_fix_and_the_callers_line(
    caught: list[warnings.WarningMessage],
) -> None:
    result = interleave.explore(solo)
    assert result.ok
    (warning,) = caught
    assert warning.category is HealthCheckWarning
    assert warning.message.check is HealthCheck.single_thread  # type: ignore[union-attr]
    text = str(warning.message)
    assert "ran a single thread" in text and "two or more threads" in text
    assert "suppress_health_check=[HealthCheck.single_thread]" in text
    assert warning.filename == __file__  # the user's call, not interleave's code


def test_threads_without_steps_warn_single_step(caught: list[warnings.WarningMessage]) -> None:
    assert interleave.explore(invisible).ok
    assert _checks(caught) == [HealthCheck.single_step]
    assert "took no step at all" in str(caught[0].message)


@pytest.mark.parametrize("strategy", ["dpor", "random"])
def test_a_single_schedule_warns(caught: list[warnings.WarningMessage], strategy: str) -> None:
    factory = independent if strategy == "dpor" else gated
    result = interleave.explore(factory, strategy=strategy, max_schedules=20)
    assert result.ok
    assert _checks(caught) == [HealthCheck.single_schedule]
    assert "followed the same schedule" in str(caught[0].message)


def test_a_search_cut_by_its_budget_after_one_schedule_does_not_warn(
    caught: list[warnings.WarningMessage],
) -> None:
    # The result says "NOT exhausted" already: one schedule is the budget, not the scenario.
    for factory, strategy in ((locked, "dpor"), (gated, "random")):
        result = interleave.explore(factory, strategy=strategy, max_schedules=1)
        assert not result.exhausted and result.schedules_run == 1
    assert caught == []


def test_a_scenario_that_interleaves_does_not_warn(caught: list[warnings.WarningMessage]) -> None:
    # patch_sqlite is on by default and no connection is opened: that is fine.
    assert interleave.explore(locked).ok
    assert interleave.explore(locked, strategy="random", max_schedules=30).ok
    assert caught == []


def test_trace_attributes_that_traced_nothing_warns_once(
    caught: list[warnings.WarningMessage],
) -> None:
    result = interleave.explore(invisible, trace_attributes=True)
    assert result.ok
    # The cause only: no single-step warning on top of it.
    assert _checks(caught) == [HealthCheck.nothing_traced]
    text = str(caught[0].message)
    assert "trace_attributes=True traced no attribute access" in text
    assert "project=" in text


def test_trace_attributes_that_traced_something_does_not_warn(
    caught: list[warnings.WarningMessage],
) -> None:
    def fixed() -> interleave.Scenario:
        counter = Counter()
        lock = interleave.Lock(name="L")

        def hit() -> None:
            with lock:
                counter.hit()

        return interleave.Scenario(threads=[hit, hit], check=lambda: counter.count == 2)

    assert not interleave.explore(counted, trace_attributes=True).ok
    assert interleave.explore(fixed, trace_attributes=True).ok
    assert caught == []


def test_a_watched_class_only_the_factory_touched_warns(
    caught: list[warnings.WarningMessage],
) -> None:
    class Config:
        def __init__(self) -> None:
            self.size = 2

    watch(Config)
    try:

        def scenario() -> interleave.Scenario:
            config = Config()
            size = config.size  # read here, in the factory: never a step
            return interleave.Scenario(threads=[lambda: interleave.point(str(size))] * 2)

        assert interleave.explore(scenario).ok
    finally:
        unwatch(Config)
    assert _checks(caught) == [HealthCheck.watched_class_untraced]
    text = str(caught[0].message)
    assert "Config" in text and "no thread read or wrote their attributes" in text


def test_a_watched_class_the_scenario_does_not_use_is_not_reported(
    caught: list[warnings.WarningMessage],
) -> None:
    class Elsewhere:
        def __init__(self) -> None:
            self.x = 0

    watch(Elsewhere)
    try:
        assert interleave.explore(locked).ok
    finally:
        unwatch(Elsewhere)
    assert caught == []


def test_explorations_with_findings_are_not_checked(
    caught: list[warnings.WarningMessage],
) -> None:
    def broken() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: None], check=lambda: False)

    assert not interleave.explore(broken).ok
    assert caught == []


def test_a_single_thread_is_reported_beside_tracing_that_saw_nothing(
    caught: list[warnings.WarningMessage],
) -> None:
    interleave.explore(solo, trace_attributes=True)
    assert _checks(caught) == [HealthCheck.nothing_traced, HealthCheck.single_thread]


# ---------------------------------------------------------------------------- the options
def test_suppressed_checks_do_not_run(caught: list[warnings.WarningMessage]) -> None:
    interleave.explore(solo, suppress_health_check=[HealthCheck.single_thread])
    interleave.explore(solo, suppress_health_check="single-thread")
    interleave.explore(invisible, trace_attributes=True, suppress_health_check=["all"])
    assert caught == []


def test_failed_checks_raise_with_the_result() -> None:
    with pytest.raises(interleave.FailedHealthCheck) as info:
        interleave.explore(solo, fail_health_check=[HealthCheck.single_thread])
    assert info.value.checks == (HealthCheck.single_thread,)
    assert isinstance(info.value.result, interleave.ExploreResult)
    assert info.value.result.ok
    assert "ran a single thread" in str(info.value)
    assert isinstance(info.value, interleave.InterleaveError)


def test_a_suppressed_check_wins_over_failing_it(caught: list[warnings.WarningMessage]) -> None:
    interleave.explore(solo, fail_health_check="all", suppress_health_check=["single_thread"])
    assert caught == []


def test_other_checks_still_warn_when_one_fails(caught: list[warnings.WarningMessage]) -> None:
    with pytest.raises(interleave.FailedHealthCheck):
        interleave.explore(
            solo, trace_attributes=True, fail_health_check=[HealthCheck.single_thread]
        )
    assert _checks(caught) == [HealthCheck.nothing_traced]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("suppress_health_check", ["single_thred"], "'single_thred' is not a health check"),
        ("fail_health_check", [3], "3 is not a health check"),
        ("fail_health_check", 3, "must be a list of HealthCheck members"),
    ],
)
def test_bad_health_check_options_are_rejected_up_front(
    option: str, value: object, message: str
) -> None:
    ran: list[int] = []

    def scenario() -> interleave.Scenario:
        ran.append(1)
        return solo()

    with pytest.raises(interleave.InvalidArgument, match=message) as info:
        interleave.explore(scenario, **{option: value})  # type: ignore[arg-type]
    assert "single_schedule" in str(info.value) or "HealthCheck" in str(info.value)
    assert ran == []


def test_warnings_become_errors_under_an_error_filter() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", HealthCheckWarning)
        with pytest.raises(HealthCheckWarning, match="single thread"):
            interleave.explore(solo)


# ---------------------------------------------------------------------------- the tally
def test_the_monitor_counts_traced_accesses_from_the_instrumentation() -> None:
    """Every step of ``counted`` is a traced attribute access (a read and a write per thread)."""

    def build() -> Program:
        scenario = counted()
        return Program(threads=tuple(ThreadSpec(None, t) for t in scenario.threads))

    monitor = HealthMonitor()
    project = scenario_project(counted)
    runtime = Runtime(
        build,
        ScheduleChooser(Schedule(choices=(), steps=4)),
        contexts=[bind_project(project), monitor, trace_attributes],
    )
    outcome = runtime.run()
    assert len(outcome.trace) == 4
    assert monitor.executions == 1
    assert monitor.traced == {Counter: 4}
    assert monitor.untraced == {}


# ---------------------------------------------------------------------------- pytest, CLI
PYTEST_MODULE = """
import interleave
import pytest


def solo():
    hits = interleave.Shared("hits", 0)
    return interleave.Scenario(threads=[lambda: hits.set(hits.get() + 1)])


def test_plain(interleavings):
    interleavings.explore(solo)


@pytest.mark.interleave(suppress_health_check=[interleave.HealthCheck.single_thread])
def test_suppressed_by_the_marker(interleavings):
    interleavings.explore(solo)
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_solo=PYTEST_MODULE)
    return pytester


def test_pytest_shows_the_warning_at_the_tests_line(inner: pytest.Pytester) -> None:
    # (The outer session turns warnings into errors; the inner one shows them, as by default.)
    inner.makeini("[pytest]\nfilterwarnings = default\naddopts = -p no:hypothesispytest\n")
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*warnings summary*",
            "test_solo.py::test_plain",
            "*test_solo.py:11: HealthCheckWarning: every execution of solo ran a single thread*",
        ]
    )


def test_pytest_error_filters_fail_the_test_and_the_marker_opts_out(
    inner: pytest.Pytester,
) -> None:
    inner.makeini("[pytest]\nfilterwarnings = error\naddopts = -p no:hypothesispytest\n")
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_solo.py::test_plain - *HealthCheckWarning*"])


def test_pytest_options_and_ini_keys_select_checks(inner: pytest.Pytester) -> None:
    inner.makeini("[pytest]\nfilterwarnings = default\naddopts = -p no:hypothesispytest\n")
    failing = inner.runpytest_inprocess(
        "-p", "no:cacheprovider", "--interleave-fail-health-check=all"
    )
    # The marker's suppression wins over the session's "fail all".
    failing.assert_outcomes(passed=1, failed=1)
    failing.stdout.fnmatch_lines(
        [
            "interleave: solo: failed health check(s) HealthCheck.single_thread*",
            "FAILED test_solo.py::test_plain - Failed: interleave: solo: failed health*",
        ]
    )
    inner.makeini(
        "[pytest]\nfilterwarnings = error\naddopts = -p no:hypothesispytest\n"
        "interleave_suppress_health_check = single_thread\n"
    )
    quiet = inner.runpytest_inprocess("-p", "no:cacheprovider")
    quiet.assert_outcomes(passed=2)


def _write_solo(tmp_path: Path) -> str:
    path = tmp_path / "solo_cli.py"
    path.write_text(PYTEST_MODULE.split("def test_plain")[0], encoding="utf-8")
    return f"{path}:solo"


def test_cli_prints_the_warning_and_fails_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _write_solo(tmp_path)
    assert main(["explore", target]) == 0
    out, err = capsys.readouterr()
    assert "no findings" in out
    assert err.startswith("interleave: warning: every execution of solo ran a single thread")
    assert main(["explore", target, "--fail-health-check", "all"]) == 1
    out, err = capsys.readouterr()
    assert "no findings" in out  # the report is still printed
    assert "interleave: error: solo: failed health check(s) HealthCheck.single_thread" in err
    assert main(["explore", target, "--suppress-health-check", "single_thread,single_step"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["report", target, "--fail-health-check", "single_thread"]) == 1
    assert "failed health check" in capsys.readouterr().err


def test_cli_rejects_an_unknown_health_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explore", _write_solo(tmp_path), "--suppress-health-check", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("interleave: error: --suppress-health-check:")
    assert "'nope' is not a health check" in err


def test_a_few_identical_random_samples_are_not_enough_to_warn(
    caught: list[warnings.WarningMessage],
) -> None:
    assert interleave.explore(gated, strategy="random", max_schedules=9).ok
    assert caught == []
