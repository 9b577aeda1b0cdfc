"""``interleave.check_linearizable``: the bugs of issue 15 are found, their fixes are proved,
every finding replays from its ID, and the verdict is honest about what was covered."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
from lin_objects import (
    AtomicCalls,
    AtomicCounter,
    LockedCounter,
    LockedQueue,
    PlainLockedCounter,
    RacyCache,
    RacyQueue,
    StaleCounter,
    StdlibQueueModel,
    ThreadingLockedCache,
)

import interleave
from interleave import HealthCheck
from interleave.errors import FailedHealthCheck, InvalidArgument, InvalidScheduleId
from interleave.models import CacheModel, CounterModel, QueueModel

CACHE_OPS = [("get_or_set", ("k", 1)), ("get_or_set", ("k", 2)), ("get", ("k",))]
QUEUE_OPS = [("put", (1,)), ("put", (2,)), "get"]


def _not_linearizable(result: interleave.ExploreResult) -> interleave.NotLinearizable:
    assert not result.ok
    found = [f for f in result.findings if isinstance(f, interleave.NotLinearizable)]
    assert len(found) == 1, result.report()
    return found[0]


def _results(finding: interleave.NotLinearizable) -> list[tuple[str, str, tuple[Any, ...], Any]]:
    return [(c.thread, c.method, c.args, c.result) for c in finding.calls]


# ------------------------------------------------------------------ the bugs are found
def test_a_counter_whose_increment_returns_a_stale_value() -> None:
    result = interleave.check_linearizable(StaleCounter, CounterModel, ["increment", "get"])

    finding = _not_linearizable(result)
    assert result.failing_scenario == ((("increment", ()),), (("increment", ()),))
    assert _results(finding) == [("t1", "increment", (), 2), ("t2", "increment", (), 2)]
    assert finding.order == ()
    assert [does for _, does in finding.stuck] == ["returns 1", "returns 1"]
    assert result.verdict == "sampled"  # it stopped at the first failing scenario


def test_a_cache_whose_get_or_set_computes_twice_and_answers_two_callers_differently() -> None:
    result = interleave.check_linearizable(RacyCache, CacheModel, CACHE_OPS)

    finding = _not_linearizable(result)
    calls = _results(finding)
    assert sorted(c[3] for c in calls) == [1, 2]  # each caller got its own value
    assert {c[1] for c in calls} == {"get_or_set"}
    assert finding.key == "'k'"  # CacheModel partitions by key


def test_a_queue_that_returns_one_item_twice() -> None:
    result = interleave.check_linearizable(RacyQueue, QueueModel, QUEUE_OPS)

    finding = _not_linearizable(result)
    gets = [c.result for c in finding.calls if c.method == "get"]
    puts = [c.args[0] for c in finding.calls if c.method == "put"]
    assert len(gets) == 2 and gets[0] == gets[1] is not None
    assert puts == [gets[0]]  # one item put, and taken twice


# ------------------------------------------------------------------ the fixes are proved
@pytest.mark.parametrize(
    ("make", "model", "operations"),
    [
        (LockedCounter, CounterModel, ["increment", "get"]),
        (AtomicCounter, CounterModel, ["increment", "get"]),
        (ThreadingLockedCache, CacheModel, CACHE_OPS),
        (LockedQueue, QueueModel, QUEUE_OPS),
    ],
    ids=["interleave-lock", "atomic-add", "threading-lock", "queue-lock"],
)
def test_the_thread_safe_versions_are_exhaustively_linearizable(
    make: Any, model: Any, operations: Any
) -> None:
    result = interleave.check_linearizable(make, model, operations)

    assert result.ok, result.report()
    assert result.exhausted and result.verdict == "proved"
    assert result.generation == "every"
    assert result.scenarios_run == result.scenarios_total > 1
    assert result.histories_checked >= result.schedules_run > result.scenarios_run
    assert "every scenario" in result.report()


def test_a_stdlib_queue_under_the_threading_patch_is_linearizable() -> None:
    import queue

    operations = [("put_nowait", (1,)), ("put_nowait", (2,)), "get_nowait"]
    result = interleave.check_linearizable(queue.Queue, StdlibQueueModel, operations)

    assert result.ok and result.verdict == "proved", result.report()


def test_the_threading_locked_cache_is_found_again_without_its_lock() -> None:
    # The fixed version is proved because of its lock, not because nothing ran concurrently.
    class Unlocked(ThreadingLockedCache):
        def get_or_set(self, key: Any, value: Any) -> Any:
            return RacyCache.get_or_set(self, key, value)

    assert not interleave.check_linearizable(Unlocked, CacheModel, CACHE_OPS).ok


# ------------------------------------------------------------------ replays
@pytest.mark.parametrize(
    ("make", "model", "operations"),
    [
        (StaleCounter, CounterModel, ["increment", "get"]),
        (RacyCache, CacheModel, CACHE_OPS),
        (RacyQueue, QueueModel, QUEUE_OPS),
    ],
    ids=["counter", "cache", "queue"],
)
def test_each_failure_replays_from_its_id(make: Any, model: Any, operations: Any) -> None:
    result = interleave.check_linearizable(make, model, operations)
    finding = _not_linearizable(result)

    run = interleave.replay_linearizable(make, model, finding.schedule_id)

    assert run.schedule_id == finding.schedule_id
    replayed = [f for f in run.findings if isinstance(f, interleave.NotLinearizable)]
    assert len(replayed) == 1
    assert _results(replayed[0]) == _results(finding)
    assert replayed[0].message == finding.message
    assert run.trace.choices == finding.trace.choices  # type: ignore[union-attr]
    assert "not-linearizable" in run.report()


def test_the_printed_replay_line_works_when_pasted() -> None:
    result = interleave.check_linearizable(RacyQueue, QueueModel, QUEUE_OPS)
    report = result.report()

    line = re.search(r"python:  (interleave\.replay_linearizable\(.*\))", report)
    assert line is not None, report
    assert line.group(1).startswith("interleave.replay_linearizable(RacyQueue, QueueModel, 'L1-")
    namespace = {"interleave": interleave, "RacyQueue": RacyQueue, "QueueModel": QueueModel}
    run = eval(line.group(1), namespace)

    assert [f.kind for f in run.findings] == ["not-linearizable"]
    assert "interleave replay " not in report  # the command line does not take these IDs


def test_the_report_shows_the_calls_their_results_and_why_no_order_explains_them() -> None:
    report = interleave.check_linearizable(StaleCounter, CounterModel, ["increment"]).report()

    assert "Finding 1 of 1: not-linearizable" in report
    assert re.search(r"t1 +increment\(\) +-> 2", report)
    assert re.search(r"t2 +increment\(\) +-> 2", report)
    assert "no call can come first under CounterModel" in report
    assert "  t1 increment() -> 2\n    but CounterModel returns 1 there" in report
    assert "<- no order explains this result" in report
    assert "call increment()" in report  # the invocation marks are steps of the diagram


def test_the_explanation_gives_the_longest_order_and_the_real_time_order() -> None:
    result = interleave.check_linearizable(RacyQueue, QueueModel, QUEUE_OPS)
    report = result.report()

    assert "the longest order QueueModel explains:" in report
    assert "after it, no call fits:" in report
    finding = _not_linearizable(result)
    assert finding.order  # put, then one get: the second get cannot have the same item


def test_ids_are_the_same_on_every_run() -> None:
    first = interleave.check_linearizable(RacyQueue, QueueModel, QUEUE_OPS)
    second = interleave.check_linearizable(RacyQueue, QueueModel, QUEUE_OPS)

    assert [f.schedule_id for f in first.findings] == [f.schedule_id for f in second.findings]
    assert first.schedules_run == second.schedules_run


def test_drawn_scenarios_are_the_same_on_every_run_with_one_seed() -> None:
    from hypothesis import strategies as st

    operations = [("put", (st.integers(0, 9),)), "get"]
    runs = [
        interleave.check_linearizable(RacyQueue, QueueModel, operations, max_scenarios=30)
        for _ in range(2)
    ]

    assert runs[0].failing_scenario == runs[1].failing_scenario is not None
    assert [f.schedule_id for f in runs[0].findings] == [f.schedule_id for f in runs[1].findings]


def test_replay_refuses_a_plain_schedule_id_and_a_damaged_one() -> None:
    finding = _not_linearizable(
        interleave.check_linearizable(StaleCounter, CounterModel, ["increment"])
    )
    sid = finding.schedule_id
    inner = sid.partition(".")[2]

    with pytest.raises(InvalidScheduleId, match="not a linearizability ID"):
        interleave.replay_linearizable(StaleCounter, CounterModel, inner)
    damaged = sid[:5] + ("A" if sid[5] != "A" else "B") + sid[6:]
    with pytest.raises(InvalidScheduleId, match="damaged"):
        interleave.replay_linearizable(StaleCounter, CounterModel, damaged)
    with pytest.raises(InvalidArgument, match="does not have"):
        interleave.replay_linearizable(StaleCounter, QueueModel, sid)


# ------------------------------------------------------------------ honest verdicts
def test_more_scenarios_than_max_scenarios_is_a_sample() -> None:
    result = interleave.check_linearizable(LockedQueue, QueueModel, QUEUE_OPS, max_scenarios=10)

    assert result.ok and not result.exhausted
    assert result.verdict == "sampled"
    assert result.generation == "sample"
    assert (result.scenarios_run, result.scenarios_total) == (10, 45)
    assert "This is not a proof: raise max_scenarios to 45" in result.report()


def test_a_scenario_cut_by_max_schedules_is_not_a_proof() -> None:
    result = interleave.check_linearizable(LockedQueue, QueueModel, QUEUE_OPS, max_schedules=2)

    assert result.ok and result.verdict == "sampled"
    assert result.stopped_because == "max_schedules"
    assert "raise max_schedules" in result.report()


def test_strategies_draw_a_sample_and_shrink_a_failure_to_fewer_calls() -> None:
    from hypothesis import strategies as st

    operations = [("put", (st.integers(0, 3),)), "get"]

    clean = interleave.check_linearizable(LockedQueue, QueueModel, operations, max_scenarios=15)
    assert clean.ok and clean.verdict == "sampled" and clean.generation == "hypothesis"
    assert "list the argument values to try instead" in clean.report()

    found = interleave.check_linearizable(
        RacyQueue, QueueModel, operations, calls_per_thread=3, max_scenarios=50
    )
    finding = _not_linearizable(found)
    assert found.failing_scenario is not None
    assert sum(len(thread) for thread in found.failing_scenario) <= 3  # shrunk from up to 6
    run = interleave.replay_linearizable(RacyQueue, QueueModel, finding.schedule_id)
    assert [f.kind for f in run.findings] == ["not-linearizable"]


def test_a_timeout_is_reported() -> None:
    result = interleave.check_linearizable(
        LockedQueue, QueueModel, QUEUE_OPS, threads=3, timeout=0.01
    )

    assert result.stopped_because == "timeout" and result.verdict == "sampled"


# ------------------------------------------------------------------ health checks
def test_calls_that_take_no_step_warn_that_nothing_was_seen() -> None:
    with pytest.warns(interleave.HealthCheckWarning, match="no call took a step of its own"):
        result = interleave.check_linearizable(AtomicCalls, CounterModel, ["increment", "get"])
    assert result.ok


def test_state_interleave_cannot_see_warns_instead_of_reporting() -> None:
    # The counter is correct; its count is a plain attribute, invisible without tracing.
    with pytest.warns(interleave.HealthCheckWarning, match="shares state interleave cannot see"):
        result = interleave.check_linearizable(
            PlainLockedCounter, CounterModel, ["increment", "get"]
        )
    assert result.ok
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traced = interleave.check_linearizable(
            PlainLockedCounter, CounterModel, ["increment", "get"], trace_attributes=True
        )
    assert traced.ok and traced.verdict == "proved"


def test_health_checks_can_be_silenced_or_made_to_fail() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        interleave.check_linearizable(
            AtomicCalls,
            CounterModel,
            ["increment"],
            suppress_health_check=[HealthCheck.single_step],
        )
    with pytest.raises(FailedHealthCheck) as info:
        interleave.check_linearizable(
            AtomicCalls, CounterModel, ["increment"], fail_health_check=["single_step"]
        )
    assert info.value.checks == (HealthCheck.single_step,)
    assert info.value.result.ok


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operations": "increment"}, "must be a list"),
        ({"operations": []}, "is empty"),
        ({"operations": ["nope"]}, "has no method 'nope'"),
        ({"operations": [("increment", 1)]}, "must be a tuple"),
        ({"operations": [("increment", (object(),))]}, "neither a literal value"),
        ({"operations": [42]}, "neither a method name"),
        ({"threads": 0}, "threads=0 must be at least 1"),
        ({"calls_per_thread": "2"}, "must be an int"),
        ({"max_scenarios": 0}, "must be at least 1"),
        ({"seed": 1.5}, "seed=1.5 must be an int"),
        ({"timeout": -1}, "timeout=-1"),
        ({"model": CounterModel()}, "not an instance"),
        ({"make": 3}, "make=3 must be a callable"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "make": StaleCounter,
        "model": CounterModel,
        "operations": ["increment"],
        **kwargs,
    }
    make, model, operations = (arguments.pop(k) for k in ("make", "model", "operations"))

    with pytest.raises(InvalidArgument, match=re.escape(message)):
        interleave.check_linearizable(make, model, operations, **arguments)


def test_make_must_build_an_object_with_the_methods() -> None:
    with pytest.raises(interleave.ScenarioError, match="list, which has no method 'get'"):
        interleave.check_linearizable(list, CounterModel, ["get"])


def test_a_raised_exception_is_a_result_compared_by_type() -> None:
    import queue

    class WrongEmpty(StdlibQueueModel):
        empty = LookupError

    result = interleave.check_linearizable(
        queue.Queue,
        WrongEmpty,
        ["get_nowait"],
        threads=1,
        calls_per_thread=1,
        suppress_health_check=["single_thread"],
    )

    finding = _not_linearizable(result)
    assert finding.calls[0].raised and isinstance(finding.calls[0].result, queue.Empty)
    assert (
        "raised Empty" in result.report()
        and "but WrongEmpty raises LookupError there" in result.report()
    )


def test_a_model_that_raises_outside_its_calls_is_reported_with_its_traceback() -> None:
    class BrokenKeys(CacheModel):
        def partition_key(self, method: str, args: tuple[Any, ...]) -> Any:
            raise RuntimeError("no key for you")

    result = interleave.check_linearizable(RacyCache, BrokenKeys, [("get", ("k",))])

    assert [f.kind for f in result.findings] == ["invariant"]
    assert "RuntimeError: no key for you" in result.report()
    run = interleave.replay_linearizable(RacyCache, BrokenKeys, result.findings[0].schedule_id)
    assert [f.kind for f in run.findings] == ["invariant"]
