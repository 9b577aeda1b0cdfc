"""DPOR: exact trace counts (litmus style), soundness against DFS, classic benchmarks."""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import litmus
import pytest
import sctbench
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textbook import abba, spin

import interleave
from interleave._core._ops import Operation
from interleave._engine._dpor import dependent


def run(
    factory: Callable[[], object], strategy: str = "dpor", **options: object
) -> interleave.ExploreResult:
    return interleave.explore(
        factory,
        strategy=strategy,
        max_schedules=100_000,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("n", "k", "traces"), [(2, 1, 4), (2, 2, 34), (3, 1, 36), (2, 3, 328), (3, 2, 7134)]
)
def test_unlocked_increments_explore_one_execution_per_trace(n: int, k: int, traces: int) -> None:
    result = run(litmus.increments(n, k))
    assert result.exhausted
    assert result.schedules_run == traces
    assert result.statistics.pruned == 0
    assert {f.kind for f in result.findings} == {"lost-update", "invariant", "data-race"}


@pytest.mark.parametrize(("n", "k"), [(2, 1), (2, 2), (3, 1), (2, 3), (3, 2)])
def test_locked_increments_explore_every_lock_order_and_are_clean(n: int, k: int) -> None:
    result = run(litmus.increments(n, k, locked=True))
    assert result.ok and result.exhausted
    assert result.schedules_run == math.factorial(n * k) // math.factorial(k) ** n


def test_independent_threads_need_exactly_one_execution() -> None:
    def scenario() -> list[Callable[[], None]]:
        a, b = interleave.Shared("a", 0), interleave.Shared("b", 0)

        def left() -> None:
            a.set(a.get() + 1)
            a.set(2)

        def right() -> None:
            b.set(1)
            b.get()

        return [left, right]

    # One execution proves it, and the single-schedule health check says so.
    with pytest.warns(interleave.HealthCheckWarning, match="followed the same schedule"):
        result = run(scenario)
    assert result.exhausted and result.schedules_run == 1


def test_reads_of_the_same_value_commute() -> None:
    result = run(litmus.readers(4))
    assert result.schedules_run == 2**4


@pytest.mark.parametrize(("n", "traces"), [(3, 8), (5, 32)])
def test_readers(n: int, traces: int) -> None:
    assert run(litmus.readers(n)).schedules_run == traces


@pytest.mark.parametrize(("n", "traces"), [(5, 64), (7, 320)])
def test_lastzero(n: int, traces: int) -> None:
    assert (n + 3) * 2**n // 4 == traces
    result = run(litmus.lastzero(n))
    assert result.exhausted and result.schedules_run == traces
    assert result.statistics.pruned == 0  # optimal: no sleep-set blocked executions


@pytest.mark.parametrize(("n", "traces"), [(12, 8), (13, 64)])
def test_indexer(n: int, traces: int) -> None:
    assert 8 ** (n - 11) == traces
    result = run(litmus.indexer(n))
    assert result.exhausted and result.schedules_run == traces
    assert result.statistics.pruned == 0


# --- literature counts with locks ------------------------------------------------------------


@pytest.mark.parametrize(("n", "traces"), [(14, 2), (16, 8), (18, 32)])
def test_filesystem(n: int, traces: int) -> None:
    # Flanagan and Godefroid (POPL 2005): threads i and i + 13 start at the same block, and
    # only the order of their two critical sections on its lock makes a new trace.
    assert 2 ** (n - 13) == traces
    result = run(litmus.filesystem(n))
    assert result.exhausted and result.ok
    assert result.schedules_run == traces
    assert result.statistics.pruned == 0


@pytest.mark.parametrize(("n", "traces"), [(12, 8), (13, 64)])
def test_indexer_with_a_lock_per_slot(n: int, traces: int) -> None:
    result = run(litmus.locked_indexer(n))
    assert result.exhausted and result.ok
    assert result.schedules_run == traces == 8 ** (n - 11)
    assert result.statistics.pruned == 0


@pytest.mark.parametrize("n", [3, 4, 5])
def test_dining_philosophers(n: int) -> None:
    # Every meal (an atomic add) conflicts with every other, so a trace is an order of the
    # meals, and each of the n! orders happens (the philosophers eating alone, in turn); the
    # naive table has one more: the deadlock in which each holds a left fork. (The oracle in
    # test_dpor_oracle.py confirms 7 and 6 for n = 3 from dfs.)
    naive = run(litmus.philosophers(n))
    assert naive.exhausted
    assert naive.schedules_run == math.factorial(n) + 1
    assert [f.kind for f in naive.findings] == ["deadlock"]
    ordered = run(litmus.philosophers(n, ordered=True))
    assert ordered.exhausted and ordered.ok
    assert ordered.schedules_run == math.factorial(n)
    assert naive.statistics.pruned == ordered.statistics.pruned == 0


@pytest.mark.parametrize("name", sorted(sctbench.PROGRAMS))
def test_sctbench_bugs_are_found_by_the_default_strategy(name: str) -> None:
    factory, kind = sctbench.PROGRAMS[name]
    result = interleave.explore(factory, max_schedules=100_000)
    assert result.exhausted
    assert kind in {f.kind for f in result.findings}
    every = interleave.explore(factory, strategy="dfs", max_schedules=100_000, minimise=False)
    assert {f.kind for f in result.findings} == {f.kind for f in every.findings}
    assert result.schedules_run <= every.schedules_run


def test_abba_deadlock_is_found_by_dpor() -> None:
    result = run(abba)
    assert [f.kind for f in result.findings] == ["deadlock"]
    assert result.exhausted


def test_dependency_relation() -> None:
    r, w = Operation("read", ("shared", "x")), Operation("write", ("shared", "x"))
    assert not dependent(r, r)
    assert dependent(r, w) and dependent(w, w)
    assert not dependent(w, Operation("write", ("shared", "y")))
    clear = Operation("write", ("cache", "c"))
    assert dependent(clear, Operation("read", ("cache", "c", 1)))
    assert not dependent(Operation("yield", ()), w)
    up = Operation("update", ("counter", "n"))
    assert dependent(up, up)


# --- differential test: dpor finds what dfs finds -------------------------------------------

_RESOURCES = ("x", "y", "z")
_step = st.one_of(
    st.tuples(st.just("read"), st.sampled_from(_RESOURCES)),
    st.tuples(st.just("write"), st.sampled_from(_RESOURCES)),
    st.tuples(st.just("incr"), st.sampled_from(_RESOURCES)),
    st.tuples(st.just("locked-incr"), st.sampled_from(_RESOURCES)),
    st.tuples(st.just("lock-pair"), st.sampled_from(("ab", "ba"))),
)
_COST = {"read": 1, "write": 1, "incr": 2, "locked-incr": 4, "lock-pair": 5}
# Keep DFS exhaustible: at most 10 yield points in all (10!/(4!3!3!) = 4,200 schedules).
_program = st.lists(st.lists(_step, min_size=1, max_size=3), min_size=2, max_size=3).filter(
    lambda plan: sum(_COST[kind] for steps in plan for kind, _ in steps) <= 10
)


def _threads(
    plan: list[list[tuple[str, str]]], values: dict[str, interleave.Shared[int]]
) -> dict[str, Callable[[], None]]:
    locks = {name: interleave.Lock(name=name) for name in ("a", "b", "m")}

    def thread(steps: list[tuple[str, str]], tid: int) -> Callable[[], None]:
        def body() -> None:
            for kind, arg in steps:
                if kind == "read":
                    values[arg].get()
                elif kind == "write":
                    values[arg].set(tid)
                elif kind == "incr":
                    values[arg].set(values[arg].get() + 1)
                elif kind == "locked-incr":
                    with locks["m"]:
                        values[arg].set(values[arg].get() + 1)
                else:
                    first, second = locks[arg[0]], locks[arg[1]]
                    with first, second:
                        values["x"].get()

        return body

    return {f"t{i}": thread(s, i) for i, s in enumerate(plan)}


def _explore(
    plan: list[list[tuple[str, str]]], strategy: str
) -> tuple[interleave.ExploreResult, set[tuple[int, ...]]]:
    """Explore ``plan``; return the result and every final state reached."""
    finals: set[tuple[int, ...]] = set()

    def scenario() -> interleave.Scenario:
        values = {name: interleave.Shared(name, 0) for name in _RESOURCES}

        def check() -> bool:
            finals.add(tuple(values[n]._value for n in _RESOURCES))
            return True

        return interleave.Scenario(threads=_threads(plan, values), check=check)

    # Generated programs may have one thread or share nothing: not this test's topic.
    return run(scenario, strategy, suppress_health_check=list(interleave.HealthCheck)), finals


def _outcomes(result: interleave.ExploreResult) -> set[tuple[object, ...]]:
    return {(f.kind, *f.signature) for f in result.findings}


@settings(
    max_examples=int(os.environ.get("INTERLEAVE_DIFF_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_program)
def test_dpor_matches_dfs_on_random_programs(plan: list[list[tuple[str, str]]]) -> None:
    dfs, dfs_finals = _explore(plan, "dfs")
    dpor, dpor_finals = _explore(plan, "dpor")
    assert dfs.exhausted and dpor.exhausted
    assert _outcomes(dpor) == _outcomes(dfs)
    assert dpor_finals == dfs_finals
    assert dpor.statistics.executions <= dfs.statistics.executions


# --- executions cut short: their pending operations race too -------------------------------


def _deadlock_first() -> interleave.Scenario:
    """The first execution deadlocks before t1 runs anything; the other order is clean."""
    lock, ready = interleave.Lock(name="a"), interleave.Event(name="ready")
    x = interleave.Shared("x", 0)

    def t0() -> None:
        with lock:
            ready.wait()

    def t1() -> None:
        with lock:
            x.set(1)
            ready.set()

    return interleave.Scenario(threads={"t0": t0, "t1": t1}, check=lambda: x.get() == 0)


def test_operations_pending_when_an_execution_is_cut_short_are_reversed() -> None:
    factory = _deadlock_first
    dfs = interleave.explore(factory, strategy="dfs", max_schedules=100_000)
    dpor = interleave.explore(factory, strategy="dpor", max_schedules=100_000)
    assert dfs.exhausted and dpor.exhausted
    assert {f.kind for f in dpor.findings} == {f.kind for f in dfs.findings}
    assert "invariant" in {f.kind for f in dpor.findings}  # found only in the other orders
    assert dpor.schedules_run <= dfs.schedules_run


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_a_spin_loop_stops_the_exploration_at_its_step_limit(strategy: str) -> None:
    # A thread that never stops would make every other schedule max_steps long: the search
    # ends at the first step-limit finding and says so (never "exhausted").
    result = interleave.explore(spin, strategy=strategy, max_steps=2_000)
    assert [f.kind for f in result.findings] == ["step-limit"]
    assert result.schedules_run == 1 and not result.exhausted
    assert result.stopped_because == "step-limit"
    assert "fix the spin loop, or raise max_steps" in result.report()


def test_a_long_wakeup_chain_travels_to_a_worker_and_back() -> None:
    # A wakeup subtree can be a chain as long as an execution (the file-system benchmark's
    # are hundreds of steps): copying it for a task and pickling it must not recurse per level.
    import pickle

    from interleave._core._ops import Operation
    from interleave._engine._dpor import _WNode
    from interleave._engine._tasks import lite_tree

    write = Operation("write", ("shared", "x"))
    root = _WNode(0, write, -1)
    node = root
    for step in range(5_000):
        child = _WNode(step % 3, write, step if step % 7 == 0 else -1)
        node.children.append(child)
        node = child
    root.children.append(_WNode(9, write, -1))
    root.children[0].children.append(_WNode(8, write, -1))
    for copy in (pickle.loads(pickle.dumps(root)), lite_tree(root)):
        assert [(n.tid, n.spawned, len(n.children), n.op.footprint) for n in copy.nodes()] == [
            (n.tid, n.spawned, len(n.children), n.op.footprint) for n in root.nodes()
        ]
