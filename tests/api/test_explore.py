"""explore(): the result object, its report, strategies and nondeterminism detection."""

from __future__ import annotations

import dataclasses

import pytest

import interleave
from interleave.errors import FindingsError, NondeterministicScenario


def lost_update() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def safe_counter() -> interleave.Scenario:
    hits = interleave.Counter("hits")

    def worker() -> None:
        hits.add()

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def abba() -> interleave.Scenario:
    a, b = interleave.Lock(name="A"), interleave.Lock(name="B")

    def first() -> None:
        with a, b:
            pass

    def second() -> None:
        with b, a:
            pass

    return interleave.Scenario(threads={"first": first, "second": second})


# ---------------------------------------------------------------------------- the result


def test_clean_exhaustive_result() -> None:
    result = interleave.explore(safe_counter, strategy="dfs")

    assert result.ok
    assert result.findings == ()
    assert result.occurrences == ()
    assert result.exhausted
    assert result.stopped_because == "exhausted"
    assert result.stopped_text == "every schedule was explored"
    assert result.schedules_run == 2
    assert result.scenario == "safe_counter"
    assert result.strategy == "dfs"
    assert result.max_schedules == 10_000
    assert result.elapsed >= 0
    assert result.raise_on_failure() is result
    assert repr(result) == (
        "<ExploreResult 'safe_counter' ok=True findings=[none] schedules_run=2 exhausted=True>"
    )


def test_findings_are_distinct_and_counted() -> None:
    result = interleave.explore(lost_update, strategy="dfs")

    # The data race the lost update goes with comes last.
    assert [f.kind for f in result.findings] == ["lost-update", "invariant", "data-race"]
    assert len(result.occurrences) == len(result.findings)
    assert all(1 <= n <= result.schedules_run for n in result.occurrences)
    assert len({(f.kind, f.signature) for f in result.findings}) == len(result.findings)
    for finding in result.findings:
        assert finding.schedule_id.startswith("2-")
        assert finding.trace is not None
        assert finding.trace.schedule_id == finding.schedule_id
        assert str(finding).startswith(f"{finding.kind}: ")


def test_raise_on_failure_raises_findings_error_with_the_report() -> None:
    result = interleave.explore(lost_update)

    with pytest.raises(FindingsError) as info:
        result.raise_on_failure()

    assert isinstance(info.value, AssertionError)
    assert str(info.value) == result.report()


def test_report_has_summary_diagram_and_replay_lines() -> None:
    result = interleave.explore(lost_update, strategy="dfs")
    report = result.report()
    finding = result.findings[0]

    assert report.startswith("interleave: lost_update: 3 distinct finding(s)")
    assert "schedules run  6" in report
    assert "exhausted: every schedule was explored" in report
    assert "findings       1 lost-update, 1 invariant, 1 data-race" in report
    assert "Finding 1 of 3: lost-update" in report
    assert "worker#1" in report and "worker#2" in report
    assert "<- LOST UPDATE: overwrites it" in report
    assert f"interleave.replay(lost_update, '{finding.schedule_id}')" in report
    assert f"--interleave-replay={finding.schedule_id}" in report
    assert f":lost_update {finding.schedule_id}" in report  # the shell line
    # Both findings come from the same execution: the diagram is drawn once.
    assert "(same execution as finding 1" in report


def test_deadlock_report_shows_the_cycle() -> None:
    report = interleave.explore(abba).report()

    assert "lock-wait cycle:" in report
    assert "first --waits for--> lock 'B' --held by--> second" in report


def test_factory_may_return_a_plain_list_of_threads() -> None:
    def scenario() -> list[object]:
        hits = interleave.Shared("hits", 0)

        def worker() -> None:
            hits.set(hits.get() + 1)

        return [worker, worker]

    result = interleave.explore(scenario)

    assert [f.kind for f in result.findings] == ["lost-update", "data-race"]
    assert result.scenario.endswith("scenario")


def test_a_scenario_is_a_frozen_dataclass_with_positional_fields() -> None:
    def worker() -> None:
        pass

    def check() -> bool:
        return True

    made = interleave.Scenario([worker, worker], check, None, "both")
    assert (made.threads, made.check, made.teardown, made.name) == (
        [worker, worker],
        check,
        None,
        "both",
    )
    renamed = dataclasses.replace(made, name="renamed", threads={"a": worker})
    assert renamed.name == "renamed" and renamed.check is check
    assert [spec.name for spec in renamed._specs] == ["a"]
    assert made == interleave.Scenario(threads=[worker, worker], check=check, name="both")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "other"  # type: ignore[misc]
    with pytest.raises(interleave.ScenarioError, match="teardown= must be a callable"):
        interleave.Scenario([worker], teardown=3)  # type: ignore[arg-type]
    with pytest.raises(interleave.ScenarioError, match="name=3 must be a string"):
        interleave.Scenario([worker], name=3)  # type: ignore[arg-type]


def test_scenario_name_defaults_to_the_factory_name() -> None:
    assert interleave.explore(lost_update).scenario == "lost_update"


def test_scenario_name_is_shown_in_the_report() -> None:
    def factory() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: None], check=lambda: False, name="my-case")

    result = interleave.explore(factory)

    assert result.scenario == "my-case"
    assert result.report().startswith("interleave: my-case:")


# ---------------------------------------------------------------------------- strategies


def test_random_strategy_runs_the_budget_and_is_never_exhausted() -> None:
    result = interleave.explore(safe_counter, strategy="random", seed=3, max_schedules=25)

    assert result.schedules_run == 25
    assert not result.exhausted
    assert result.stopped_because == "max_schedules"
    assert result.strategy == "random (seed=3)"


def test_random_strategy_finds_the_lost_update() -> None:
    result = interleave.explore(lost_update, strategy="random", seed=0, max_schedules=100)

    assert {f.kind for f in result.findings} == {"lost-update", "invariant", "data-race"}


def test_random_strategy_default_seed_is_zero() -> None:
    unseeded = interleave.explore(lost_update, strategy="random", max_schedules=20)
    seeded = interleave.explore(lost_update, strategy="random", seed=0, max_schedules=20)

    assert unseeded.strategy == "random (seed=0)"
    assert [f.schedule_id for f in unseeded.findings] == [f.schedule_id for f in seeded.findings]


def test_dfs_finds_the_abba_deadlock_and_exhausts() -> None:
    result = interleave.explore(abba, strategy="dfs")

    assert [f.kind for f in result.findings] == ["deadlock"]
    assert result.exhausted


# ---------------------------------------------------------------------------- nondeterminism


def test_scenario_that_depends_on_leftover_state_is_reported_as_nondeterministic() -> None:
    executions: list[int] = []

    def leaky() -> interleave.Scenario:
        executions.append(1)
        extra = len(executions) > 1  # state kept between executions

        def worker() -> None:
            interleave.point()

        return interleave.Scenario(threads=[worker, worker, worker] if extra else [worker, worker])

    with pytest.raises(NondeterministicScenario) as info:
        interleave.explore(leaky, strategy="dfs")

    message = str(info.value)
    assert "not deterministic" in message
    assert "at step 0" in message
    assert "['worker#1', 'worker#2']" in message
    assert "['worker#1', 'worker#2', 'worker#3']" in message
    assert "fresh state" in message


def test_check_sees_the_simulated_state_of_events_and_locks() -> None:
    def scenario() -> interleave.Scenario:
        ready = interleave.Event(name="ready")
        lock = interleave.Lock(name="kept")

        def worker() -> None:
            ready.set()
            lock.acquire()  # kept on purpose

        return interleave.Scenario(threads=[worker], check=lambda: ready.is_set() and lock.locked())

    result = interleave.explore(
        scenario, suppress_health_check=[interleave.HealthCheck.single_thread]
    )

    assert result.ok, result.report()


# ---------------------------------------------------------------------------- teardown
def failing_teardown() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)
    connections = ["db"]

    def worker() -> None:
        hits.set(hits.get() + 1)

    def close() -> None:
        if hits.get() != 2:  # only after the lost update: the teardown of a broken state
            raise OSError(f"cannot close {connections[0]!r}: {hits.get()} hit(s)")

    return interleave.Scenario(threads=[worker, worker], teardown=close)


def test_a_raising_teardown_is_a_finding_and_the_exploration_goes_on() -> None:
    result = interleave.explore(failing_teardown, strategy="dfs")

    assert result.exhausted  # not aborted by the first failing teardown
    assert result.schedules_run == 6
    kinds = sorted(f.kind for f in result.findings)
    assert kinds == ["data-race", "lost-update", "teardown"]
    [failed] = [f for f in result.findings if isinstance(f, interleave.TeardownFailed)]
    assert failed.message == "teardown() raised OSError: cannot close 'db': 1 hit(s)"
    assert failed.exception == "OSError: cannot close 'db': 1 hit(s)"
    assert "in close" in failed.traceback and "raise OSError" in failed.traceback
    report = result.report()
    assert "teardown (in 4 of 6 schedules)" in report
    assert "teardown() traceback:" in report
    # The finding replays, with its traceback.
    run = interleave.replay(failing_teardown, failed.schedule_id)
    assert "teardown" in [f.kind for f in run.findings]
    assert "teardown() traceback:" in run.report()


def test_a_teardown_error_is_counted_in_the_summary() -> None:
    result = interleave.explore(failing_teardown, strategy="dfs")
    table = interleave.summary_report([result])
    assert "teardown errors" in table.splitlines()[0]


# ---------------------------------------------------------------------------- timeout
def spins_in_its_second_execution() -> interleave.Scenario:
    """The first (sequential) execution fails its check at once; in the second, ``waiter``
    runs first and spins until ``max_steps`` on a flag only ``setter`` sets."""
    flag = interleave.Shared("flag", False)

    def setter() -> None:
        flag.set(True)

    def waiter() -> None:
        while not flag.get():
            pass

    return interleave.Scenario(threads=[setter, waiter], check=lambda: False)


def test_timeout_is_honoured_inside_a_long_execution() -> None:
    # Without a look at the clock inside the execution, the spinning one runs to its step
    # limit (a million steps, tens of seconds) and the exploration stops with "step-limit".
    result = interleave.explore(
        spins_in_its_second_execution, strategy="dfs", timeout=0.5, max_steps=1_000_000
    )

    assert result.stopped_because == "timeout"
    assert not result.exhausted
    # The findings of the first execution are kept (the spin on the flag is a data race);
    # the cut execution is dropped.
    assert [f.kind for f in result.findings] == ["invariant", "data-race"]
    assert result.schedules_run == 1
    assert "NOT exhausted: " in result.report()
    run = interleave.replay(spins_in_its_second_execution, result.findings[0].schedule_id)
    assert [f.kind for f in run.findings] == ["invariant", "data-race"]
