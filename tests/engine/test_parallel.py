"""Exploring in several processes (``workers=``) and on any executor (``executor=``).

The answer must be the one process gives: the same findings with the same schedule IDs, the
same ``exhausted``, the same counts for ``dfs``, and for ``dpor`` the same executions (one per
class, the same ones) plus at most 5% run ahead and dropped. The budgets are made small so
that these small programs are split into many tasks; the factories are module-level names,
which is how workers import them.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import litmus
import pytest
import sctbench

import interleave
import interleave._engine._dpor_split as _dpor_split
import interleave._engine._parallel as parallel
import interleave._engine._strategies as _strategies
import interleave._engine._tasks as _tasks
import interleave._worker as worker_module
from interleave._core import _watchdog as watchdog
from interleave._worker import InlineExecutor
from interleave.errors import InterleaveWarning, InvalidArgument

inc32 = litmus.increments(3, 2)
inc23 = litmus.increments(2, 3)
philosophers3 = litmus.philosophers(3)
bluetooth = sctbench.bluetooth_driver

OPTIONS = {"max_schedules": 50_000, "suppress_health_check": "all"}


@pytest.fixture(autouse=True)
def small_tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(parallel, "FIRST_BUDGET", 5)
    monkeypatch.setattr(parallel, "TASK_BUDGET", 40)
    monkeypatch.setattr(parallel, "SEED_CHUNK", 40)
    yield


def _same(one: interleave.ExploreResult, many: interleave.ExploreResult) -> None:
    assert many.exhausted == one.exhausted
    assert many.verdict == one.verdict
    assert [(f.kind, f.signature) for f in many.findings] == [
        (f.kind, f.signature) for f in one.findings
    ]


@pytest.mark.parametrize("factory", [inc23, bluetooth])
def test_two_workers_run_dfs_exactly_as_one_process(factory: object) -> None:
    one = interleave.explore(factory, strategy="dfs", **OPTIONS)  # type: ignore[arg-type]
    many = interleave.explore(factory, strategy="dfs", workers=2, **OPTIONS)  # type: ignore[arg-type]
    _same(one, many)
    assert many.schedules_run == one.schedules_run
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]
    assert many.occurrences == one.occurrences
    assert many.statistics.tasks > 1


def _dpor_as_one_process(one: interleave.ExploreResult, many: interleave.ExploreResult) -> None:
    _same(one, many)
    # The executions one process runs, in its order: the same classes, the same schedule IDs
    # (the first execution of each finding), the same counts.
    assert many.schedules_run == one.schedules_run
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]
    assert many.occurrences == one.occurrences
    # Beyond them, only what tasks ran ahead and was dropped (and the replays of findings).
    explored = many.statistics.phase_executions["explore"]
    assert explored <= 1.05 * one.statistics.phase_executions["explore"] + len(many.findings)


@pytest.mark.parametrize("factory", [inc32, philosophers3])
def test_two_workers_run_dpor_as_one_process(factory: object) -> None:
    one = interleave.explore(factory, **OPTIONS)  # type: ignore[arg-type]
    many = interleave.explore(factory, workers=2, **OPTIONS)  # type: ignore[arg-type]
    assert many.statistics.tasks > 1
    _dpor_as_one_process(one, many)


def test_the_answer_does_not_depend_on_the_number_of_workers() -> None:
    results = [interleave.explore(inc32, workers=workers, **OPTIONS) for workers in (2, 3)] + [
        interleave.explore(inc32, executor=InlineExecutor(), **OPTIONS)
    ]
    first = results[0]
    for other in results[1:]:
        assert other.schedules_run == first.schedules_run
        assert [f.schedule_id for f in other.findings] == [f.schedule_id for f in first.findings]
        assert other.occurrences == first.occurrences


class Shuffled(InlineExecutor):
    """Runs each task when it is submitted, but completes the futures in a seeded random
    order, from a thread of its own: results come back in any order."""

    def __init__(self, seed: int) -> None:
        import random
        import threading

        self.held: list[tuple[Future[Any], Any]] = []
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._complete, daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        result = fn(*args, **kwargs)
        with self.lock:
            self.held.append((future, result))
        return future

    def _complete(self) -> None:
        while not self.stop.wait(0.002):
            with self.lock:
                if len(self.held) < 2 and self.random.random() < 0.5:
                    continue
                if not self.held:
                    continue
                future, result = self.held.pop(self.random.randrange(len(self.held)))
            # (The coordinator cancels what is left at a cut: a cancelled future takes none.)
            if future.set_running_or_notify_cancel():
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.stop.set()
        self.thread.join()


def _one_and_shuffled(
    factory: object, seed: int, options: dict[str, Any] = OPTIONS
) -> tuple[interleave.ExploreResult, interleave.ExploreResult]:
    """``factory`` explored in one process, then with results completing in a seeded random
    order (as from a process pool)."""
    one = interleave.explore(factory, **options)  # type: ignore[arg-type]
    pool = Shuffled(seed)
    try:
        many = interleave.explore(factory, executor=pool, **options)  # type: ignore[arg-type]
    finally:
        pool.shutdown()
    return one, many


def _record_splits(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The coordinators (``DporSplit``) the explorations below make, in order."""
    splits: list[Any] = []

    class Recorded(parallel.DporSplit):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            splits.append(self)

    monkeypatch.setattr(parallel, "DporSplit", Recorded)
    return splits


@pytest.mark.parametrize("seed", range(3))
def test_dpor_results_coming_back_in_any_order_change_nothing(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    splits = _record_splits(monkeypatch)
    one, many = _one_and_shuffled(inc32, seed)
    assert many.statistics.tasks > 10
    _dpor_as_one_process(one, many)
    # Some tasks ran ahead on branches that grew when earlier results were applied, and were
    # dropped: the answer above holds through that too.
    [split] = splits
    assert split.stale > 0
    explored = many.statistics.phase_executions["explore"]
    # (Findings a task found in this process need no replay for their traces.)
    replays = explored - many.schedules_run - split.wasted
    assert 0 <= replays <= len(many.findings)


#: Completion orders tried per program (the orders depend on thread timing too: a bound that
#: fails in one order in 40 needs many; ``INTERLEAVE_SPLIT_ORDERS=50``: 100 runs, 4 minutes).
SPLIT_ORDERS = int(os.environ.get("INTERLEAVE_SPLIT_ORDERS", "4"))


@pytest.mark.parametrize("seed", range(SPLIT_ORDERS))
@pytest.mark.parametrize("factory", [inc32, litmus.lastzero_8])
def test_dropped_work_stays_within_its_share_in_any_order(
    factory: object, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Risky tasks are bets: whatever order results come back in, the executions dropped
    # (with those of bets still out) never pass WASTE_SHARE of the executions applied.
    splits = _record_splits(monkeypatch)
    one, many = _one_and_shuffled(factory, seed)
    _dpor_as_one_process(one, many)
    [split] = splits
    assert split.committed == one.schedules_run
    assert split.wasted <= _dpor_split.WASTE_SHARE * split.committed
    explored = many.statistics.phase_executions["explore"]
    assert explored <= one.statistics.phase_executions["explore"] * (
        1 + _dpor_split.WASTE_SHARE
    ) + len(many.findings)


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_seeded_strategies_split_their_seeds_the_same_way_on_any_executor_and_in_one_process(
    strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One process seeds its generator again every SEED_CHUNK executions, as the tasks do: the
    # sample depends on the seed only. (Chunks of 40 here, on both sides.)
    monkeypatch.setattr(_strategies, "SEED_CHUNK", 40)
    options = {"strategy": strategy, "seed": 7, "max_schedules": 300, "minimise": False}
    many = interleave.explore(inc23, workers=2, **options)  # type: ignore[arg-type]
    here = interleave.explore(inc23, executor=InlineExecutor(), **options)  # type: ignore[arg-type]
    one = interleave.explore(inc23, **options)  # type: ignore[arg-type]
    assert many.schedules_run == here.schedules_run == one.schedules_run == 300
    ids = [f.schedule_id for f in one.findings]
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in here.findings] == ids
    assert many.occurrences == here.occurrences == one.occurrences
    assert len(ids) >= 2 and sum(one.occurrences) > len(ids)  # (found more than once)
    # A sample proves nothing, however it was split.
    for result in (many, here, one):
        assert not result.exhausted and result.stopped_because == "max_schedules"
        assert result.verdict != "proved"


@pytest.mark.parametrize("factory", [inc32, philosophers3], ids=["inc32", "philosophers3"])
@pytest.mark.parametrize("cut", [5, 37, 300, 2_000])
def test_a_dfs_run_cut_by_max_schedules_is_one_process_s_first_executions(
    factory: object, cut: int
) -> None:
    # The tasks run subtrees side by side; applied in depth-first order, with a result that
    # reaches past the cut run again with the room left, the executions that count are the
    # first ``cut`` of one process: the same findings, IDs, occurrences and stop.
    options = {"strategy": "dfs", "max_schedules": cut, "suppress_health_check": "all"}
    one = interleave.explore(factory, **options)  # type: ignore[arg-type]
    many = interleave.explore(factory, workers=2, **options)  # type: ignore[arg-type]
    assert many.schedules_run == one.schedules_run
    assert (many.exhausted, many.stopped_because) == (one.exhausted, one.stopped_because)
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]
    assert many.occurrences == one.occurrences
    # What ran past the cut stays small: at most twice the two workers' tasks (40 each) are
    # out at once, though results back and waiting for their turn let more run ahead (118 to
    # 197 executions in 6 runs of the 2,000 cut; about 1,000 with no limit on the tasks out).
    # The count leaves out the replay of each kept finding.
    dropped = many.statistics.phase_executions["explore"] - len(many.findings) - cut
    assert dropped <= 10 * 40, many.statistics


@pytest.mark.parametrize("cut", [37, 1_000, 3_001])
def test_a_dpor_run_cut_inside_a_task_counts_occurrences_as_one_process(cut: int) -> None:
    # The task the cut falls in ran past it: only its executions before the cut count, and
    # so do only their occurrences (they were the whole task's: 1,002 for 1,000 executions).
    options = {"max_schedules": cut, "suppress_health_check": "all"}
    one = interleave.explore(inc32, **options)  # type: ignore[arg-type]
    many = interleave.explore(inc32, workers=2, **options)  # type: ignore[arg-type]
    assert many.schedules_run == one.schedules_run == cut
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]
    assert many.occurrences == one.occurrences


@pytest.mark.parametrize("seed", range(SPLIT_ORDERS))
@pytest.mark.parametrize("cut", [1_000, 2_345, 5_800])
def test_a_cut_dpor_run_drops_within_its_share_of_max_schedules(cut: int, seed: int) -> None:
    # Work out ahead of the depth-first order when the cut comes is dropped, with the bets
    # lost before: within WASTE_SHARE of max_schedules. (It was not bounded: 3 x 2 increments
    # cut at 2,345 ran 2,748 executions with two workers, 1.17x.)
    options = {"max_schedules": cut, "suppress_health_check": "all"}
    one, many = _one_and_shuffled(inc32, seed, options)
    _dpor_as_one_process(one, many)
    explored = many.statistics.phase_executions["explore"]
    assert explored <= cut * (1 + _dpor_split.WASTE_SHARE) + len(many.findings)


@pytest.mark.parametrize("seed", range(SPLIT_ORDERS))
@pytest.mark.parametrize("cut", [1_000, 2_345])
def test_a_cut_dfs_run_drops_little_past_the_cut(cut: int, seed: int) -> None:
    # Work behind the front of the order, with the first runs of tasks run again with the
    # room left, stays within WASTE_SHARE of max_schedules.
    options = {"strategy": "dfs", "max_schedules": cut, "suppress_health_check": "all"}
    one, many = _one_and_shuffled(inc32, seed, options)
    assert many.schedules_run == one.schedules_run == cut
    explored = many.statistics.phase_executions["explore"]
    assert explored <= cut + int(cut * _tasks.WASTE_SHARE)


@pytest.mark.parametrize("seed", range(SPLIT_ORDERS))
@pytest.mark.parametrize("cut", [37, 1_000])
def test_a_cut_dfs_run_is_one_process_s_in_any_order_results_come_back(cut: int, seed: int) -> None:
    # Results completing in a seeded random order: applied in depth-first order, the first
    # ``cut`` executions are one process's (tasks of 40, the first of 5: many of them ran
    # ahead of the front, some past the cut).
    options = {"strategy": "dfs", "max_schedules": cut, "suppress_health_check": "all"}
    one, many = _one_and_shuffled(inc32, seed, options)
    assert many.schedules_run == one.schedules_run == cut
    assert many.stopped_because == one.stopped_because == "max_schedules"
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]
    assert many.occurrences == one.occurrences


def test_max_schedules_bounds_the_executions_of_every_task() -> None:
    result = interleave.explore(inc32, strategy="dfs", max_schedules=300, workers=2)
    assert result.schedules_run == 300
    assert not result.exhausted
    assert result.stopped_because == "max_schedules"


def test_stop_on_first_gives_the_same_finding_every_time() -> None:
    ids = {
        interleave.explore(inc32, strategy="dfs", stop_on_first=True, workers=2)
        .findings[0]
        .schedule_id
        for _ in range(2)
    }
    assert len(ids) == 1


def test_any_executor_will_do() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        many = interleave.explore(inc23, executor=pool, **OPTIONS)  # type: ignore[arg-type]
    _same(interleave.explore(inc23, **OPTIONS), many)  # type: ignore[arg-type]


def test_a_factory_workers_cannot_import_is_refused_with_the_fix() -> None:
    def local() -> interleave.Scenario:
        return interleave.Scenario(threads=[lambda: None, lambda: None])

    with pytest.raises(InvalidArgument, match="top level of an importable module") as caught:
        interleave.explore(local, workers=2)
    assert "(the factory 'test_a_factory_workers_cannot_import" in str(caught.value)


def test_workers_and_executor_are_checked() -> None:
    with pytest.raises(InvalidArgument, match="workers=0"):
        interleave.explore(inc23, workers=0)
    with pytest.raises(InvalidArgument, match=r"concurrent\.futures\.Executor"):
        interleave.explore(inc23, executor="pool")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="iterative"):
        interleave.explore(inc23, workers=2, preemption_bound="iterative")
    with (
        ThreadPoolExecutor(max_workers=1) as pool,
        pytest.raises(InvalidArgument, match="workers=2 and executor= were both given"),
    ):
        interleave.explore(inc23, workers=2, executor=pool)


# A worker that dies: the first worker process to run a task of this scenario exits at once.
_MARK = "INTERLEAVE_TEST_DIE_ONCE"


def dies_once() -> interleave.Scenario:
    mark = os.environ.get(_MARK)
    if mark and multiprocessing.parent_process() is not None and not Path(mark).exists():
        Path(mark).write_text("died")
        os._exit(3)
    return inc23()


def test_a_task_whose_worker_dies_is_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_MARK, str(tmp_path / "died"))
    one = interleave.explore(dies_once, strategy="dfs", **OPTIONS)  # type: ignore[arg-type]
    many = interleave.explore(dies_once, strategy="dfs", workers=2, **OPTIONS)  # type: ignore[arg-type]
    assert (tmp_path / "died").exists()
    assert many.statistics.retried >= 1
    # The result says so: in its report (text, HTML) and its JSON too.
    assert f"{many.statistics.retried} time(s) a task ran again because a worker died" in (
        many.report()
    )
    assert "retried" in many.to_html()
    assert many.to_dict()["statistics"]["retried"] == many.statistics.retried
    assert many.schedules_run == one.schedules_run
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]


def test_a_callers_process_pool_that_breaks_is_replaced_by_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A ProcessPoolExecutor whose worker died refuses every task after that, and the caller's
    # pool cannot be remade: the tasks run here instead, the caller is told, and the answer
    # is one process's (it used to end in a raw BrokenProcessPool).
    monkeypatch.setenv(_MARK, str(tmp_path / "died"))
    one = interleave.explore(dies_once, strategy="dfs", **OPTIONS)  # type: ignore[arg-type]
    spawn = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool,
        pytest.warns(InterleaveWarning, match="broke during the exploration") as caught,
    ):
        many = interleave.explore(dies_once, strategy="dfs", executor=pool, **OPTIONS)  # type: ignore[arg-type]
    assert (tmp_path / "died").exists()
    assert many.statistics.retried >= 1
    [warning] = [w for w in caught if "broke during the exploration" in str(w.message)]
    assert f"statistics.retried={many.statistics.retried}" in str(warning.message)
    assert "retried" in many.report() and many.to_dict()["statistics"]["retried"] >= 1
    _same(one, many)
    assert many.schedules_run == one.schedules_run
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]


class KilledWorker(Exception):
    """Dask's error (matched by name) for a task whose workers died allowed_failures + 1
    times."""

    allowed_failures = 2


class DaskLike(InlineExecutor):
    """Runs tasks here, as Dask would have after workers died: the first task submitted
    fails with KilledWorker; the second one returns after Dask ran it again once."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        if self.submitted == 1:
            future: Future[Any] = Future()
            future.set_exception(KilledWorker())
            return future
        future = super().submit(fn, *args, **kwargs)
        if self.submitted == 2:
            future.result().redone = 1
        return future


def test_each_time_a_worker_died_is_counted_once_whoever_ran_the_task_again() -> None:
    one = interleave.explore(inc23, strategy="dfs", **OPTIONS)  # type: ignore[arg-type]
    many = interleave.explore(inc23, strategy="dfs", executor=DaskLike(), **OPTIONS)  # type: ignore[arg-type]
    # KilledWorker: Dask ran the task twice more, then the coordinator once; then Dask once.
    assert many.statistics.retried == 2 + 1 + 1
    _same(one, many)
    assert many.schedules_run == one.schedules_run
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]


class Unsaid(InlineExecutor):
    """Runs tasks here; their results say that the executor could not be asked how many
    times it ran them again (a Dask scheduler that refuses to run code)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        future.result().redone = -1
        return future


def test_worker_deaths_that_could_not_be_counted_are_reported() -> None:
    one = interleave.explore(inc23, strategy="dfs", **OPTIONS)  # type: ignore[arg-type]
    with pytest.warns(InterleaveWarning, match="retried may be too low") as caught:
        many = interleave.explore(inc23, strategy="dfs", executor=Unsaid(), **OPTIONS)  # type: ignore[arg-type]
    [warning] = [w for w in caught if "retried may be too low" in str(w.message)]
    assert f"for {many.statistics.tasks - 1} task(s)" in str(warning.message)
    assert warning.filename == __file__  # it points at the explore() call
    assert many.statistics.retried == 0
    _same(one, many)
    assert many.schedules_run == one.schedules_run


def test_a_dask_cluster_gives_the_answer_of_one_process() -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        many = interleave.explore(inc32, executor=client.get_executor(), **OPTIONS)  # type: ignore[arg-type]
        # (How many tasks the cluster runs at once: its threads, which bound dfs's tasks out.)
        spec = parallel.TaskSpec("m:f", interleave.ExploreSettings(), "dfs", None, 0)
        assert parallel._parallelism(client.get_executor(), spec) == 2
    one = interleave.explore(inc32, **OPTIONS)  # type: ignore[arg-type]
    _same(one, many)
    assert many.schedules_run == one.schedules_run


def test_the_tasks_out_at_once_follow_what_the_executor_says_it_runs() -> None:
    spec = parallel.TaskSpec("m:f", interleave.ExploreSettings(workers=3), "dfs", None, 0)
    with ThreadPoolExecutor(max_workers=5) as pool:
        assert parallel._parallelism(pool, spec) == 5
    assert parallel._parallelism(InlineExecutor(), spec) == 8  # it does not say


@pytest.mark.parametrize("allowed_failures", [3, 0])
def test_a_dask_worker_that_dies_mid_task_is_counted_as_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed_failures: int
) -> None:
    # 3 (Dask's default): Dask's scheduler runs the task again by itself (the future the
    # coordinator holds just completes): the result must still say that a worker died. 0: the
    # task fails with KilledWorker, and the coordinator's new submission must be a new task
    # (Dask keys tasks by their arguments). Either way nothing is lost or counted twice.
    distributed = pytest.importorskip("distributed")
    import dask

    monkeypatch.setenv(_MARK, str(tmp_path / "died"))
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        many = interleave.explore(
            dies_once,  # type: ignore[arg-type]
            strategy="dfs",
            executor=client.get_executor(),
            **OPTIONS,  # type: ignore[arg-type]
        )
    one = interleave.explore(dies_once, strategy="dfs", **OPTIONS)  # type: ignore[arg-type]
    assert (tmp_path / "died").exists()
    assert many.statistics.retried >= 1
    _same(one, many)
    assert many.schedules_run == one.schedules_run
    assert [f.schedule_id for f in many.findings] == [f.schedule_id for f in one.findings]


def _python(args: list[str], stdin: str | None = None) -> Any:
    """Run a Python program in a process of its own (the benchmarks importable)."""
    import subprocess
    import sys

    benchmarks = Path(__file__).resolve().parents[2] / "benchmarks"
    return subprocess.run(
        [sys.executable, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(benchmarks)},
    )


def test_a_program_read_from_standard_input_is_told_why_workers_cannot_start() -> None:
    program = (
        "import interleave, litmus\n"
        "try:\n"
        "    interleave.explore(litmus.increments_3x2, workers=2)\n"
        "except interleave.errors.InvalidArgument as error:\n"
        "    print('refused:', error)\n"
    )
    done = _python(["-"], program)
    assert "refused: workers=: spawned worker processes" in done.stdout, done.stderr
    assert "Save the program to a file" in done.stdout


def test_a_dpor_split_that_costs_more_than_it_saves_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A split only costs more than one process where work run ahead is dropped (a wakeup
    # subtree that grew, max_schedules reached): rare, so the threshold is lowered here.
    import interleave._health as health

    monkeypatch.setattr(health, "SPLIT_COST", 1.0)
    with pytest.warns(interleave.HealthCheckWarning, match="costly_split") as caught:
        many = interleave.explore(inc32, executor=InlineExecutor(), max_schedules=50_000)
    [warning] = [w for w in caught if "costly_split" in str(w.message)]
    explored = many.statistics.phase_executions["explore"]
    assert f"ran {explored:,} executions for {many.schedules_run:,} classes" in str(warning.message)
    assert "workers=1" in str(warning.message)


@pytest.mark.parametrize("stop", ["timeout", "interrupted"])
def test_a_split_stopped_by_a_timeout_or_ctrl_c_is_not_called_costly(
    monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    # The tasks out when the run stops are cut off with it: that dropped work is no sign of a
    # bad split, and "explore with workers=1" would be the wrong advice.
    import interleave._health as health

    monkeypatch.setattr(health, "SPLIT_COST", 1.0)
    with pytest.warns(interleave.HealthCheckWarning, match="costly_split"):
        many = interleave.explore(inc32, executor=InlineExecutor(), max_schedules=50_000)
    assert health._split_check(many) is not None
    assert health._split_check(dataclasses.replace(many, stopped_because=stop)) is None


def test_a_dpor_split_that_pays_is_not_reported() -> None:
    # Raises on any warning (filterwarnings = error): increments conflict everywhere.
    many = interleave.explore(inc32, executor=InlineExecutor(), max_schedules=50_000)
    assert many.statistics.tasks > 1
    assert many.statistics.phase_executions["explore"] < 2 * many.schedules_run


# The benchmarks, at the sizes docs/parallel.md measures, with the default first task
# and tasks of 200 executions, so that each is split (the file system smaller, with smaller
# budgets: the 23-thread one takes half a minute per run). Module-level: workers import them
# by name.
lastzero8 = litmus.lastzero(8)
readers10 = litmus.readers(10)
indexer14 = litmus.indexer(14)
filesystem20 = litmus.filesystem(20)


@pytest.mark.parametrize(
    ("factory", "first", "budget"),
    [
        (lastzero8, 500, 200),
        (readers10, 500, 200),
        (indexer14, 500, 200),
        (filesystem20, 20, 10),
        (inc32, 500, 200),
    ],
)
def test_two_workers_stay_within_five_percent_of_one_process(
    factory: object, first: int, budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "FIRST_BUDGET", first)
    monkeypatch.setattr(parallel, "TASK_BUDGET", budget)
    one = interleave.explore(factory, suppress_health_check="all")  # type: ignore[arg-type]
    many = interleave.explore(factory, workers=2, suppress_health_check="all")  # type: ignore[arg-type]
    assert many.statistics.tasks > 1
    _dpor_as_one_process(one, many)


def test_an_exploration_started_by_unguarded_top_level_code_is_refused_with_the_fix(
    tmp_path: Path,
) -> None:
    # Spawned workers run the main file again: without a main guard, each would start the
    # exploration (and the rest of the script) again. Refused before any worker starts.
    body = (
        "import interleave, litmus\n"
        "print('started')\n"
        "try:\n"
        "    interleave.explore(litmus.increments_3x2, workers=2, max_schedules=2000)\n"
        "except interleave.InvalidArgument as error:\n"
        "    print('refused:', error)\n"
    )
    script = tmp_path / "unguarded.py"
    script.write_text(body)
    done = _python([str(script)])
    assert done.stdout.splitlines().count("started") == 1, done.stdout + done.stderr
    [refused] = [line for line in done.stdout.splitlines() if line.startswith("refused:")]
    assert "top-level code (line 4)" in refused
    assert 'Put the code that explores under `if __name__ == "__main__":`' in refused
    # The same call under the guard (either way round, through a function) explores.
    guarded = tmp_path / "guarded_call.py"
    guarded.write_text(
        "import interleave, litmus\n"
        "def main():\n"
        "    r = interleave.explore(litmus.increments_3x2, workers=2, max_schedules=2000)\n"
        "    print('ran', r.schedules_run)\n"
        "if '__main__' == __name__:\n"
        "    main()\n"
    )
    done = _python([str(guarded)])
    assert "ran 2000" in done.stdout, done.stdout + done.stderr


def test_a_factory_defined_under_the_main_guard_is_refused_with_the_fix(tmp_path: Path) -> None:
    # Spawned workers run the main file again without its `if __name__ == "__main__":` block:
    # a factory bound only there cannot be found by name (multiprocessing's __mp_main__ alias
    # of the main module must not pass for a module workers can import it from either).
    script = tmp_path / "guarded.py"
    script.write_text(
        "import interleave, litmus\n"
        "if __name__ == '__main__':\n"
        "    made = litmus.increments(2, 2)\n"
        "    def scenario():\n"
        "        return made()\n"
        "    for factory in (made, scenario):\n"
        "        try:\n"
        "            interleave.explore(factory, workers=2, max_schedules=2000)\n"
        "        except interleave.InvalidArgument as error:\n"
        "            print('refused:', error)\n"
    )
    done = _python([str(script)])
    lines = [line for line in done.stdout.splitlines() if line.startswith("refused:")]
    assert len(lines) == 2, done.stdout + done.stderr
    # (``made``, a factory made by a function, is named by the main module's name for it.)
    assert "found no 'made' in it" in lines[0]
    assert "found no 'scenario' in it" in lines[1]
    assert all("if __name__ == '__main__':" in line for line in lines)


# --------------------------------------------------------------- what a pool worker keeps
def blocks_in_workers() -> interleave.Scenario:
    """Two incrementing threads whose check spins for ever, but only in a worker process."""
    x = interleave.Shared("x", 0, racy=True)

    def worker() -> None:
        x.update(lambda v: v + 1)
        x.update(lambda v: v + 1)

    def check() -> bool:
        if os.environ.get("COORDINATOR_PID", str(os.getpid())) != str(os.getpid()):
            n = 0
            while n >= 0:  # Python code that never yields: only the watchdog can stop it
                n += 1
        return True

    return interleave.Scenario(threads=[worker, worker, worker], check=check)


@pytest.mark.timeout(120)
def test_the_watchdog_guards_every_task_of_a_pool_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first task runs in this process (it passes); the next ones run in workers (they
    # inherit the environment), which keep one watchdog for all their tasks: it must still
    # stop the spinning check.
    monkeypatch.setenv("COORDINATOR_PID", str(os.getpid()))
    with pytest.raises(interleave.BlockedOutsideScheduler, match="check"):
        interleave.explore(blocks_in_workers, strategy="dfs", workers=2, watchdog=0.3)
    assert not watchdog.is_running()  # nothing of it is left in this process


@pytest.fixture
def in_own_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(worker_module, "_kept_in_pool", True)
    yield
    if worker_module._kept is not None:
        worker_module._kept[1].close()
    worker_module._kept = None


@pytest.mark.usefixtures("in_own_pool")
def test_a_pool_worker_keeps_its_watchdog_and_patches_from_task_to_task() -> None:
    import contextlib

    from interleave.instrument import threading as threading_patch

    def task_scope(limit: float | None, patch_threading: bool) -> object:
        with contextlib.ExitStack() as scope:
            guard = worker_module._task_scope(scope, limit, patch_threading)
        return guard

    first = task_scope(5.0, True)
    assert first is not None
    assert task_scope(5.0, True) is first  # kept: the same guard, its thread still running
    assert watchdog.is_running() and threading_patch.is_patched()
    first.message = "fired"  # type: ignore[attr-defined]
    second = task_scope(5.0, True)
    assert second is not first  # a guard that fired is not used again
    assert task_scope(None, False) is None  # other settings: the kept ones are left first
    assert not watchdog.is_running() and not threading_patch.is_patched()


def test_outside_our_pool_a_task_leaves_nothing_running() -> None:
    import contextlib

    with contextlib.ExitStack() as scope:
        assert worker_module._task_scope(scope, 5.0, True) is not None
        assert watchdog.is_running()
    assert not watchdog.is_running()
    assert worker_module._kept is None
