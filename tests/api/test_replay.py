"""Replay: every finding's schedule ID reproduces it; explorations are deterministic; a changed
scenario is caught with a clear ScheduleDivergence."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from attribute_scenarios import attribute_race
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from textbook import lost_update

import interleave
from interleave._api import STRATEGIES
from interleave._core._schedule import Schedule, encode
from interleave.errors import InvalidArgument, ScheduleDivergence

# ---------------------------------------------------------------------------- the catalogue


def dining_philosophers() -> interleave.Scenario:
    forks = [interleave.Lock(name=f"fork-{i}") for i in range(3)]

    def philosopher(i: int) -> Callable[[], None]:
        def eat() -> None:
            with forks[i], forks[(i + 1) % 3]:
                pass

        return eat

    return interleave.Scenario(threads={f"phil-{i}": philosopher(i) for i in range(3)})


def crash_on_race() -> interleave.Scenario:
    items = interleave.Cache[str, int]("items")

    def producer() -> None:
        items.set("job", 1)

    def consumer() -> None:
        value = items.get("job")
        if value is None:
            raise LookupError("job not there yet")

    return interleave.Scenario(threads=[producer, consumer])


def event_never_set() -> interleave.Scenario:
    ready = interleave.Event()
    flag = interleave.Shared("flag", False)

    def setter() -> None:
        if flag.get():
            ready.set()

    def waiter() -> None:
        flag.set(True)
        ready.wait()

    return interleave.Scenario(threads=[setter, waiter])


def spin_wait() -> interleave.Scenario:
    flag = interleave.Shared("flag", False)

    def waiter() -> None:
        while not flag.get():
            pass

    def setter() -> None:
        interleave.point("think")
        flag.set(True)

    return interleave.Scenario(threads={"spinner": waiter, "setter": setter})


def join_and_semaphore() -> interleave.Scenario:
    permits = interleave.Semaphore(1)
    total = interleave.Counter("total")

    def child() -> None:
        with permits:
            total.set(total.get() + 1)

    def parent() -> None:
        handles = [interleave.spawn(child), interleave.spawn(child)]
        permits.acquire()  # never released: a child may starve
        for handle in handles:
            handle.join()

    return interleave.Scenario(threads=[parent], check=lambda: total.get() == 2)


def condition_missed_notify() -> interleave.Scenario:
    cond = interleave.Condition()
    ready = interleave.Shared("ready", False)

    def consumer() -> None:
        if not ready.get():  # checked outside the lock: the notify can come first
            with cond:
                cond.wait()

    def producer() -> None:
        ready.set(True)
        with cond:
            cond.notify()

    return interleave.Scenario(threads=[consumer, producer])


CATALOGUE: dict[str, tuple[Callable[[], object], dict[str, Any]]] = {
    "lost_update": (lost_update, {}),
    "dining_philosophers": (dining_philosophers, {}),
    "crash_on_race": (crash_on_race, {}),
    "event_never_set": (event_never_set, {}),
    "spin_wait": (spin_wait, {"max_steps": 30}),
    "join_and_semaphore": (join_and_semaphore, {}),
    "condition_missed_notify": (condition_missed_notify, {}),
    "lost_update_random": (lost_update, {"strategy": "random", "seed": 7, "max_schedules": 50}),
}


def _assert_replays(factory: Callable[[], object], finding: interleave.Finding, **kw: Any) -> None:
    assert finding.trace is not None
    run = interleave.replay(factory, finding.schedule_id, **kw)
    assert run.schedule_id == finding.schedule_id
    assert run.trace.choices == finding.trace.choices
    assert run.trace.ops == finding.trace.ops
    assert run.trace.outcomes == finding.trace.outcomes
    same = [f for f in run.findings if f.kind == finding.kind and f.message == finding.message]
    assert same, f"replay of {finding.schedule_id} lost {finding}: got {run.findings}"
    # Dataclass equality covers every field except the trace and the graph.
    assert finding in run.findings


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_finding_replays_to_the_same_finding(name: str) -> None:
    factory, options = CATALOGUE[name]
    result = interleave.explore(factory, **options)

    assert result.findings, f"{name} should have findings"
    for finding in result.findings:
        # No options: the ID records max_steps (spin_wait runs with 30).
        _assert_replays(factory, finding)


def test_catalogue_covers_every_finding_kind() -> None:
    kinds = set()
    for factory, options in CATALOGUE.values():
        kinds.update(f.kind for f in interleave.explore(factory, **options).findings)

    assert kinds == {
        "deadlock",
        "lost-update",
        "invariant",
        "exception",
        "step-limit",
        "data-race",
    }


def test_replay_of_a_deadlock_keeps_cycle_and_graph() -> None:
    finding = interleave.explore(dining_philosophers).findings[0]
    assert isinstance(finding, interleave.Deadlock)

    (again,) = interleave.replay(dining_philosophers, finding.schedule_id).findings

    assert isinstance(again, interleave.Deadlock)
    assert again.cycle == finding.cycle
    assert sorted(again.graph.edges) == sorted(finding.graph.edges)


def test_replay_report_shows_the_finding_and_the_id() -> None:
    finding = interleave.explore(lost_update).findings[0]

    report = interleave.replay(lost_update, finding.schedule_id).report()

    assert finding.schedule_id in report
    assert "lost-update" in report
    assert "LOST UPDATE" in report


def test_replay_of_a_clean_schedule_shows_the_trace() -> None:
    # 4 steps, default policy: no lost update (the unlocked accesses still race)
    run = interleave.replay(lost_update, "1-AAQ", detect_data_races=False)

    assert run.ok
    assert run.trace.choices == (0, 0, 1, 1)
    assert "get" in run.report()


# ---------------------------------------------------------------------------- random programs

Action = tuple[Any, ...]


@st.composite
def plans(draw: st.DrawFn) -> list[list[Action]]:
    """A small program: per thread a list of actions over 2 shared values and 1-2 locks."""
    n_locks = draw(st.integers(1, 2))
    value = st.sampled_from(["a", "b"])
    simple = st.one_of(
        st.tuples(st.just("read"), value),
        st.tuples(st.just("write"), value),
        st.tuples(st.just("incr"), value),
        st.tuples(st.just("add"), value),
    )
    locked = st.tuples(
        st.just("with"),
        st.sampled_from([[0], [0, 1], [1, 0], [1]][: 1 if n_locks == 1 else 4]),
        st.lists(simple, max_size=2),
    )
    thread = st.lists(st.one_of(simple, locked), min_size=1, max_size=3)
    return draw(st.lists(thread, min_size=2, max_size=3))


def _build(plan: list[list[Action]]) -> Callable[[], interleave.Scenario]:
    def scenario() -> interleave.Scenario:
        values = {name: interleave.Shared(name, 0) for name in ("a", "b")}
        locks = [interleave.Lock(name=f"L{i}") for i in range(2)]

        def run_simple(action: Action) -> None:
            kind, name = action
            box = values[name]
            if kind == "read":
                box.get()
            elif kind == "write":
                box.set(7)
            elif kind == "incr":
                box.set(box.get() + 1)
            else:
                box.update(lambda v: v + 1)

        def make(actions: list[Action]) -> Callable[[], None]:
            def thread() -> None:
                for action in actions:
                    if action[0] == "with":
                        with ExitStack() as stack:
                            for index in action[1]:
                                stack.enter_context(locks[index])
                            for inner in action[2]:
                                run_simple(inner)
                    else:
                        run_simple(action)

            return thread

        increments = sum(
            1
            for actions in plan
            for action in actions
            for inner in (action[2] if action[0] == "with" else [action])
            if inner[0] in ("incr", "add") and inner[1] == "a"
        )
        writes_a = any(
            inner[0] == "write" and inner[1] == "a"
            for actions in plan
            for action in actions
            for inner in (action[2] if action[0] == "with" else [action])
        )

        def check() -> bool:
            return writes_a or values["a"].get() == increments

        return interleave.Scenario(threads=[make(actions) for actions in plan], check=check)

    return scenario


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
@example([[("with", [0, 1], [])], [("with", [1, 0], [("incr", "a")])]])  # ABBA deadlock
@example([[("incr", "a"), ("with", [0], [("incr", "a")])], [("with", [0], [("incr", "a")])]])
def test_random_programs_every_finding_replays(plan: list[list[Action]]) -> None:
    factory = _build(plan)
    # Generated programs may have one thread or touch nothing in common: not this test's topic.
    result = interleave.explore(
        factory, max_schedules=100, suppress_health_check=list(interleave.HealthCheck)
    )

    for finding in result.findings:
        _assert_replays(factory, finding)


# ---------------------------------------------------------------------------- determinism


def _fingerprint(result: interleave.ExploreResult) -> list[tuple[str, str, str]]:
    return [(f.kind, f.schedule_id, f.message) for f in result.findings]


EXHAUSTIVE = [name for name in ("dfs", "dpor") if name in STRATEGIES]


@pytest.mark.parametrize("strategy", EXHAUSTIVE)
@pytest.mark.parametrize("name", ["lost_update", "dining_philosophers", "join_and_semaphore"])
def test_exhaustive_exploration_is_deterministic(name: str, strategy: str) -> None:
    factory, _ = CATALOGUE[name]

    first = interleave.explore(factory, strategy=strategy)
    second = interleave.explore(factory, strategy=strategy)

    assert _fingerprint(first) == _fingerprint(second)
    assert first.findings == second.findings
    assert first.occurrences == second.occurrences
    assert first.schedules_run == second.schedules_run


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_random_exploration_with_the_same_seed_is_deterministic(seed: int) -> None:
    runs = [
        interleave.explore(dining_philosophers, strategy="random", seed=seed, max_schedules=60)
        for _ in range(2)
    ]

    assert _fingerprint(runs[0]) == _fingerprint(runs[1])
    assert runs[0].findings == runs[1].findings
    assert runs[0].occurrences == runs[1].occurrences
    assert runs[0].strategy == f"random (seed={seed})"


def test_random_exploration_with_other_seeds_differs() -> None:
    # Guards the determinism tests above against a seed that is silently ignored.
    ids = {
        tuple(
            _fingerprint(
                interleave.explore(lost_update, strategy="random", seed=seed, max_schedules=3)
            )
        )
        for seed in range(8)
    }

    assert len(ids) > 1


# ---------------------------------------------------------------------------- divergence


def _two_threads(a_points: int, b_points: int) -> Callable[[], interleave.Scenario]:
    def scenario() -> interleave.Scenario:
        def alpha() -> None:
            for _ in range(a_points):
                interleave.point()

        def beta() -> None:
            for _ in range(b_points):
                interleave.point()

        return interleave.Scenario(threads={"alpha": alpha, "beta": beta})

    return scenario


def test_changed_scenario_raises_divergence_with_step_and_thread_names() -> None:
    recorded = encode(Schedule(choices=(0, 1, 1, 0), steps=4))
    assert interleave.replay(_two_threads(2, 2), recorded).trace.choices == (0, 1, 1, 0)

    with pytest.raises(ScheduleDivergence) as info:
        interleave.replay(_two_threads(2, 1), recorded)  # beta lost a step

    message = str(info.value)
    assert "replay diverged at step 2" in message
    assert "the schedule says 'beta' runs next" in message
    assert "only 'alpha' can run" in message
    assert "scenario changed" in message


def test_schedule_naming_a_thread_that_does_not_exist_diverges() -> None:
    recorded = encode(Schedule(choices=(0, 5), steps=2))

    with pytest.raises(ScheduleDivergence, match=r"step 1: the schedule says 'thread #5'"):
        interleave.replay(_two_threads(1, 1), recorded)


def test_replay_of_an_id_with_more_steps_than_the_run_raises_divergence() -> None:
    recorded = encode(Schedule(choices=(), steps=5))

    with pytest.raises(ScheduleDivergence) as info:
        interleave.replay(_two_threads(1, 1), recorded)

    assert "had 5 steps but the replay ended after 2" in str(info.value)


def test_replay_of_an_id_with_fewer_steps_than_the_run_raises_divergence() -> None:
    recorded = encode(Schedule(choices=(), steps=1))

    with pytest.raises(ScheduleDivergence) as info:
        interleave.replay(_two_threads(1, 1), recorded)

    message = str(info.value)
    assert "ended after 1 steps" in message
    assert "'beta' can still run at step 1" in message


def test_finding_id_replayed_against_a_fixed_scenario_diverges() -> None:
    finding = interleave.explore(lost_update).findings[0]

    def fixed() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)

        def worker() -> None:
            hits.update(lambda v: v + 1)

        return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

    with pytest.raises(ScheduleDivergence):
        interleave.replay(fixed, finding.schedule_id)


def test_teardown_runs_even_when_the_replay_diverges() -> None:
    calls: list[str] = []

    def scenario() -> interleave.Scenario:
        def worker() -> None:
            interleave.point()

        return interleave.Scenario(
            threads=[worker, worker], teardown=lambda: calls.append("teardown")
        )

    with pytest.raises(ScheduleDivergence):
        interleave.replay(scenario, encode(Schedule(choices=(0, 5), steps=2)))

    assert calls == ["teardown"]


# ------------------------------------------------- operations checked step by step (format 2)


def test_a_replay_that_runs_another_operation_stops_at_the_first_differing_step() -> None:
    finding = interleave.explore(lost_update).findings[0]

    def atomic() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)

        def worker() -> None:
            hits.update(lambda v: v + 1)  # was a get and a set

        return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

    with pytest.raises(ScheduleDivergence) as info:
        interleave.replay(atomic, finding.schedule_id)

    message = str(info.value)
    assert message.startswith("replay diverged at step 0: thread 'worker#1' ran update")
    assert "shared 'hits'" in message
    assert "test_replay.py:" in message  # where the actual operation was issued
    assert "the recorded execution ran a read there" in message
    assert "scenario changed" in message and "not deterministic" in message


def test_a_replay_on_another_resource_names_it() -> None:
    finding = interleave.explore(lost_update).findings[0]

    def renamed() -> interleave.Scenario:
        hits = interleave.Shared("visits", 0)

        def worker() -> None:
            hits.set(hits.get() + 1)

        return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

    with pytest.raises(ScheduleDivergence, match="ran a read on another resource there"):
        interleave.replay(renamed, finding.schedule_id)


_EXECUTIONS = [0]


def state_kept_between_executions() -> interleave.Scenario:
    # Which key is touched first depends on how many executions ran before: the same
    # schedule does not produce the same execution.
    _EXECUTIONS[0] += 1
    keys = ["alice", "bob"] if _EXECUTIONS[0] % 2 else ["bob", "alice"]
    cache = interleave.Cache[str, int]("balances")

    def worker() -> None:
        for key in keys:
            cache.set(key, (cache.get(key) or 0) + 1)

    return interleave.Scenario(threads=[worker, worker])


def test_state_kept_between_executions_is_caught_where_it_shows() -> None:
    _EXECUTIONS[0] = 0
    schedule_id = interleave.replay(state_kept_between_executions, "1-AAg").trace.schedule_id

    # The next execution touches the keys in the other order: format 1 could not tell.
    with pytest.raises(ScheduleDivergence) as info:
        interleave.replay(state_kept_between_executions, schedule_id)

    assert "diverged at step 0: thread 'worker#1' ran get cache 'balances'['bob']" in str(
        info.value
    )
    assert "state kept between executions" in str(info.value)
    _EXECUTIONS[0] = 0
    run = interleave.replay(state_kept_between_executions, "1-AAg", detect_data_races=False)
    assert run.ok  # silently other


HASH_ORDER = """
import interleave, sys

def by_set_order():
    cache = interleave.Cache("users")
    def worker():
        for name in {"alice", "bob", "carol", "dave", "erin"}:  # order: PYTHONHASHSEED
            cache.set(name, 1)
    return [worker]

if sys.argv[1] == "record":
    print(interleave.replay(by_set_order, "1-AAU").trace.schedule_id)
else:
    try:
        interleave.replay(by_set_order, sys.argv[2])
    except interleave.ScheduleDivergence as error:
        print(error)
"""


def test_hash_order_under_another_pythonhashseed_is_caught(tmp_path: Path) -> None:
    script = tmp_path / "hash_order.py"
    script.write_text(HASH_ORDER, encoding="utf-8")

    def run(seed: int, *args: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        done = subprocess.run(
            [sys.executable, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()

    order = "print(list({'alice', 'bob', 'carol', 'dave', 'erin'}))"
    orders = {seed: run(seed, "-c", order) for seed in range(8)}
    other = next(seed for seed in orders if orders[seed] != orders[0])
    schedule_id = run(0, str(script), "record")

    assert run(0, str(script), "replay", schedule_id) == ""  # same seed: replays
    message = run(other, str(script), "replay", schedule_id)
    assert message.startswith("replay diverged at step ")
    assert "hash order" in message and "PYTHONHASHSEED" in message


def test_format_1_ids_replay_with_the_default_options() -> None:
    run = interleave.replay(lost_update, "1-AAQAAQEB")

    assert [f.kind for f in run.findings] == ["lost-update", "invariant", "data-race"]
    assert run.trace.schedule.codes is None


# ----------------------------------------------------------------- the options an ID records


def test_the_id_records_max_steps() -> None:
    finding = interleave.explore(spin_wait, max_steps=30).findings[0]

    run = interleave.replay(spin_wait, finding.schedule_id)

    assert [f.kind for f in run.findings] == ["step-limit"]
    assert run.findings[0].message == finding.message  # "... more than max_steps=30 ..."


def test_the_id_records_trace_attributes() -> None:
    finding = interleave.explore(attribute_race, trace_attributes=True).findings[0]

    run = interleave.replay(attribute_race, finding.schedule_id)

    assert [f.kind for f in run.findings] == ["lost-update", "invariant", "data-race"]


def test_an_explicit_option_overrides_the_id_and_says_so() -> None:
    finding = interleave.explore(attribute_race, trace_attributes=True).findings[0]

    with pytest.raises(ScheduleDivergence) as info:
        interleave.replay(attribute_race, finding.schedule_id, trace_attributes=False)

    assert (
        "overrode the options the ID recorded: trace_attributes=False (the ID recorded True)"
        in (str(info.value))
    )


@pytest.mark.parametrize("name", ["patch_threading", "patch_sqlite", "trace_attributes"])
def test_replay_switches_must_be_booleans_or_none(name: str) -> None:
    with pytest.raises(InvalidArgument, match=f"{name}=1 must be True, False or None"):
        interleave.replay(lost_update, "1-AAQAAQEB", **{name: 1})
