"""The explore phase on several processes (``explore(workers=N)`` or ``executor=``).

The coordinator hands out *tasks* (``_tasks.py``: a subtree of the search with a budget of
executions) to a ``concurrent.futures.Executor`` and merges what they return. The answer does
not depend on timing or on the number of workers:

* ``dfs``: a task's executions are those one process would run first in its subtree, and
  results are applied in the depth-first order of the subtrees (``_dfs_split.py``), cut at
  ``max_schedules`` exactly where one process stops (a task that ran past the cut runs again
  with the room left). Each execution carries its place in the sequential order (its
  *ranks*), and of the executions that show the same bug the first in that order is kept:
  the same finding, with the same schedule ID, as one process finds.
* ``dpor``: the coordinator owns the nodes above the tasks and applies their results in the
  depth-first order one process explores in, inserting the reversals they plant above
  themselves into its own wakeup trees (``_dpor_split.py``): the applied executions are one
  process's, and so are the findings and their IDs. Tasks run ahead of that order; one whose
  wakeup subtree grew meanwhile is run again, its first executions counted as well (the only
  count that can vary from run to run).
* ``random``/``pct``: the budget is cut into chunks of ``SEED_CHUNK`` executions, chunk ``i``
  seeded from the seed and ``i`` as one process seeds it (``_strategies.chunk_seed``), and
  applied in the order of the chunks, whatever finishes first. A sample never covers the
  space: the run stops at ``max_schedules``.

A worker that dies takes its task with it: the task is submitted again (to a new pool when the
pool broke) and ``Statistics.retried`` counts it; tasks are whole or absent, never half
counted, because only a returned result is applied. Dask's scheduler runs such a task again
by itself (its future just completes): the task then reports how many times
(``TaskResult.redone``, from the scheduler's count of workers that died running it), and a
``KilledWorker`` says how many times Dask tried before giving up; ``retried`` counts each
time once, whoever ran the task again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass, field

from .._core._findings import Finding
from .._core._replay import ScheduleChooser
from .._core._schedule import decode
from ..errors import InterleaveError, NondeterministicScenario, WorkerLost
from ._dfs_split import DfsSplit
from ._dpor_split import DporSplit
from ._settings import ExitReason, ExploreSettings
from ._strategies import SEED_CHUNK
from ._tasks import Frontier, Planted

__all__ = [
    "FIRST_BUDGET",
    "RETRIES",
    "SEED_CHUNK",
    "TASK_BUDGET",
    "TaskResult",
    "TaskSpec",
    "explore_parallel",
]

#: Executions per ``dfs``/``dpor`` task: small enough that a deep subtree is split soon, large
#: enough that a task's set-up (its strategy, its first execution's full analysis, findings
#: made again) and its pickling stay a small share. (Measured on 3 x 3 increments, dpor, two
#: workers: 200 gave 1.27x one process's rate, 500 1.51x, 1,000 1.46x.)
TASK_BUDGET = 500
#: Executions of the first task, run in the coordinator's process before any worker is asked:
#: an exploration this covers is the one-process exploration, with no process started.
FIRST_BUDGET = 500
#: Times a task is submitted again after its worker died before giving up.
RETRIES = 3


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What every task of one exploration shares (picklable: it travels to the workers)."""

    target: str
    settings: ExploreSettings
    kind: str
    bound: int | None
    seed: int
    seconds: float | None = None


@dataclass(slots=True)
class TaskResult:
    """What a task returns: counts, the first finding of each origin with its schedule ID and
    its place in the order (``found``: key, origin, ID, executions that showed it), what it
    left unexplored (``frontier``), the reversals it planted above its floor (``dpor``), and
    why it stopped."""

    seq: int
    executions: int
    runs: int
    pruned: int
    steps: int
    max_depth: int
    threads: int
    found: list[tuple[tuple[int, ...], tuple[object, ...], str, int]]
    frontier: Frontier | None
    #: ``dpor``: per origin, the indices (in the task) of the executions that showed it, to
    #: count those before a ``max_schedules`` cut inside the task.
    shown: dict[tuple[object, ...], list[int]]
    cut: bool
    stopped: ExitReason
    name: str | None
    seconds: float = 0.0
    #: The kept findings themselves, when the task ran in the coordinator's process (no
    #: pickling): they need no replay for their traces.
    findings: dict[tuple[object, ...], Finding] | None = None
    #: Times the executor itself ran this task again because its worker died (Dask's
    #: scheduler does, up to its ``allowed-failures``): the future shows none of them. -1:
    #: the executor would not say.
    redone: int = 0
    planted: list[Planted] = field(default_factory=list)


RunTask = Callable[[TaskSpec, int, object, int, bool, int], TaskResult]


@dataclass(slots=True)
class _Coordinator:
    spec: TaskSpec
    executor: Executor
    run_task: RunTask
    renew: Callable[[], Executor] | None
    max_schedules: int
    budget: int
    deadline: float | None
    tasks: dict[int, tuple[object, int]] = field(default_factory=dict)
    futures: dict[Future[TaskResult], int] = field(default_factory=dict)
    results: dict[int, TaskResult] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    next_seq: int = 0
    next_apply: int = 0
    retried: int = 0
    uncounted: int = 0  # tasks whose re-runs by the executor could not be counted
    open_tail: bool = False
    best: dict[tuple[object, ...], tuple[tuple[int, ...], str]] = field(default_factory=dict)
    counts: dict[tuple[object, ...], int] = field(default_factory=dict)
    objects: dict[tuple[object, ...], Finding] = field(default_factory=dict)

    # ------------------------------------------------------------------ making tasks
    def chunk(self, index: int) -> None:
        """The task of ``random``/``pct`` chunk ``index`` (the last one gets what is left)."""
        self.new(index, min(self.budget, self.max_schedules - index * self.budget))

    def new(self, payload: object, budget: int) -> int:
        """Submit a new task; returns its number."""
        seq = self.next_seq
        self.next_seq += 1
        self.tasks[seq] = (payload, budget)
        self.submit(seq)
        return seq

    def spec_now(self) -> TaskSpec:
        """The spec with the time left (the timeout counts from the exploration's start)."""
        seconds = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
        spec = self.spec
        if seconds != spec.seconds:
            spec = TaskSpec(spec.target, spec.settings, spec.kind, spec.bound, spec.seed, seconds)
        return spec

    def submit(self, seq: int) -> None:
        payload, budget = self.tasks[seq]
        # The attempt is an argument so that each submission is a new task to an executor
        # that keys tasks by their arguments (Dask's pure keys): else a task submitted again
        # after a KilledWorker is the same task, and fails again at once.
        attempt = self.attempts.get(seq, 0)
        future = self.executor.submit(
            self.run_task, self.spec_now(), seq, payload, budget, False, attempt
        )
        self.futures[future] = seq

    # ------------------------------------------------------------------ applying results
    def apply(self, result: TaskResult) -> ExitReason | None:
        """Merge a chunk's ``result``; returns the reason to stop, if any."""
        self.tasks.pop(result.seq)
        self.merge(result.found, result.findings)
        return self.stop_after(result, result.found)

    def stop_after(self, result: TaskResult, found: Sequence[object]) -> ExitReason | None:
        """Why the run stops at ``result`` (applied in one process's order), if it does:
        a step limit, a timeout or Ctrl-C in it, or its findings (``found``) with
        stop_on_first. (Its task may have covered its subtree: ``open_tail`` says whether it
        did not.) A task that Ctrl-C stopped (the first one runs in this process, and a
        caller's pool may not ignore SIGINT) left its subtree unexplored, with nothing that
        says what is left: the run stops there, its findings kept."""
        if result.stopped in (ExitReason.STEP_LIMIT, ExitReason.TIMEOUT, ExitReason.INTERRUPTED):
            return result.stopped
        if self.spec.settings.stop_on_first and found:
            self.open_tail = result.stopped is ExitReason.FIRST_FINDING
            return ExitReason.FIRST_FINDING
        return None

    def merge(
        self,
        found: list[tuple[tuple[int, ...], tuple[object, ...], str, int]],
        findings: dict[tuple[object, ...], Finding] | None,
    ) -> None:
        """Keep, per origin, the finding first in the sequential order (the least key)."""
        for key, origin, schedule_id, count in found:
            best = self.best.get(origin)
            if best is None or key < best[0]:
                self.best[origin] = (key, schedule_id)
                made = None if findings is None else findings.get(origin)
                if made is None:
                    self.objects.pop(origin, None)
                else:
                    self.objects[origin] = made
            self.counts[origin] = self.counts.get(origin, 0) + count

    def retry(self, seq: int, error: BaseException) -> None:
        self.attempts[seq] = self.attempts.get(seq, 0) + 1
        if self.attempts[seq] > RETRIES:
            raise WorkerLost(
                f"a task of the parallel exploration failed {RETRIES + 1} times: its worker "
                f"died each time ({type(error).__name__}: {error}). The scenario may end its "
                "process (os._exit, a crash in C code) or run out of memory there; explore it "
                "with workers=1 to see what happens in this process"
            ) from error
        # A KilledWorker: Dask ran the task again allowed_failures times before giving up.
        self.retried += 1 + _redone_before(error)
        self.submit(seq)


def _parallelism(executor: Executor, spec: TaskSpec) -> int:
    """How many tasks ``executor`` runs at once, as far as it says: a pool's ``max_workers``
    (ours: ``workers``), a Dask cluster's threads, else 8."""
    known = getattr(executor, "_max_workers", None)
    if isinstance(known, int) and known > 0:
        return known
    # Dask's ClientExecutor: its client knows every worker's threads.
    nthreads = getattr(getattr(executor, "_client", None), "nthreads", None)
    if callable(nthreads):
        try:
            total = sum(nthreads().values())
        except Exception:  # a client that cannot say: the default below
            total = 0
        if isinstance(total, int) and total > 0:
            return total
    return max(spec.settings.workers, 8)


def _infrastructure(error: BaseException) -> bool:
    """Did the task fail because its worker died (not because of the scenario)?"""
    if isinstance(error, BrokenExecutor):
        return True
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"KilledWorker", "CommClosedError"}) or (
        type(error).__module__.startswith("distributed") and not isinstance(error, InterleaveError)
    )


def _redone_before(error: BaseException) -> int:
    """How many times the executor ran the task again itself before ``error`` gave it up."""
    allowed = getattr(error, "allowed_failures", None)
    if type(error).__name__ == "KilledWorker" and isinstance(allowed, int):
        return allowed
    return 0


def explore_parallel(
    state: object,
    spec: TaskSpec,
    executor: Executor,
    run_task: RunTask,
    *,
    renew: Callable[[], Executor] | None = None,
    budget: int | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Executor:
    """Run the explore phase of ``state`` (an ``_Exploring``) as tasks on ``executor``.

    Returns the executor in use at the end (a new one when the pool broke and ``renew``
    made another): the caller shuts it down.
    """
    from ._exploration import Phase
    from ._explorer import _Exploring

    assert isinstance(state, _Exploring)
    settings = state.settings
    max_schedules = settings.max_schedules
    if budget is None:
        budget = SEED_CHUNK if spec.kind in ("random", "pct") else TASK_BUDGET
    coord = _Coordinator(spec, executor, run_task, renew, max_schedules, budget, state.deadline)
    split: DporSplit | None = None
    dfs: DfsSplit | None = None
    stopped: ExitReason | None = None
    executions = 0
    applied = 0  # dpor results applied, in the depth-first order: their findings' key

    def count(result: TaskResult, runs: int, pruned: int) -> None:
        state.runs += runs
        state.pruned += pruned
        state.steps += result.steps
        state.max_depth = max(state.max_depth, result.max_depth)
        state.threads = max(state.threads, result.threads)
        if state.name is None:
            state.name = result.name

    def apply_dpor(result: TaskResult, room: int) -> ExitReason | None:
        nonlocal applied
        found, runs, pruned = result.found, result.runs, result.pruned
        if result.executions > room:
            # One process stops after ``room`` of these executions: keep what they found,
            # counted in them only.
            found = [
                (key, origin, schedule_id, sum(1 for i in result.shown[origin] if i < room))
                for key, origin, schedule_id, _ in found
                if key[-1] < room
            ]
            runs = min(runs, room)
            pruned = room - runs
        count(result, runs, pruned)
        coord.merge([((applied, *key[1:]), o, i, n) for key, o, i, n in found], result.findings)
        applied += 1
        return coord.stop_after(result, found)

    def apply_dfs(result: TaskResult) -> ExitReason | None:
        count(result, result.runs, result.pruned)
        coord.merge(result.found, result.findings)
        return coord.stop_after(result, result.found)

    if spec.kind in ("random", "pct"):
        chunks = -(-max_schedules // budget)
        for index in range(chunks):
            coord.chunk(index)
    else:
        # The first task runs here, before any process is asked: most explorations are
        # small, and one that this covers is exactly the one-process exploration.
        first = min(FIRST_BUDGET, max_schedules)
        result = run_task(coord.spec_now(), 0, None, first, True, 0)
        coord.next_seq = coord.next_apply = 1  # (task 0, applied by the split below)
        executions += result.executions
        if spec.kind == "dpor":
            split = DporSplit(coord.new, budget, max_schedules, spec.bound)
            stopped = split.start(result, apply_dpor)
            if stopped is None:
                stopped = split.advance(apply_dpor)
                split.fill()
        else:
            dfs = DfsSplit(coord.new, budget, max_schedules, 2 * _parallelism(executor, spec))
            stopped = apply_dfs(result)
            if stopped is None:
                left = [] if result.frontier is None else result.frontier.dfs
                stopped = dfs.start(result.executions, left, result.cut)
                dfs.fill()
    next_progress = 1.0
    try:
        while (
            (not split.finished)
            if split is not None
            else (not dfs.finished)
            if dfs is not None
            else coord.next_apply < coord.next_seq
        ):
            if stopped is not None:
                break
            if state.interrupted():
                stopped = ExitReason.INTERRUPTED
                break
            if state.deadline is not None and time.monotonic() >= state.deadline:
                stopped = ExitReason.TIMEOUT
                break
            done, _ = wait(list(coord.futures), timeout=0.25, return_when=FIRST_COMPLETED)
            broken: list[tuple[int, BaseException]] = []
            for future in done:
                seq = coord.futures.pop(future)
                try:
                    result = future.result()
                except BaseException as error:
                    if not _infrastructure(error):
                        raise
                    broken.append((seq, error))
                else:
                    coord.results[seq] = result
                    if result.redone < 0:
                        coord.uncounted += 1  # the executor would not say (see run_task)
                    else:
                        coord.retried += result.redone
            if broken:
                if any(isinstance(e, BrokenExecutor) for _, e in broken) and coord.renew:
                    # A dead process breaks the whole pool: every task in it is redone.
                    for future, seq in list(coord.futures.items()):
                        future.cancel()
                        broken.append((seq, BrokenExecutor("the pool broke")))
                    coord.futures.clear()
                    coord.executor.shutdown(wait=False, cancel_futures=True)
                    coord.executor = coord.renew()
                for seq, failure in sorted(broken, key=lambda pair: pair[0]):
                    coord.retry(seq, failure)
            # Results are taken in the order their tasks were made, whatever order they
            # finished in: what follows from each (new tasks, the merge) is then the same.
            # dpor's split applies results in its own order (depth first) whatever order
            # they come in, so it takes each as it comes, and hands out the next task at
            # once: only how much of its work ahead is dropped as stale can vary.
            ordered = split is not None or dfs is not None  # (they order results themselves)
            while coord.results and (ordered or coord.next_apply in coord.results):
                result = coord.results.pop(min(coord.results) if ordered else coord.next_apply)
                coord.next_apply += 1
                executions += result.executions
                if dfs is not None:
                    coord.tasks.pop(result.seq)
                    dfs.receive(result)
                    stopped = dfs.advance(apply_dfs)
                    if stopped is not None or dfs.finished:
                        break
                    dfs.fill()
                    continue
                if split is not None:
                    coord.tasks.pop(result.seq)
                    frontier = result.frontier
                    split.receive(result, () if frontier is None else frontier.dpor)
                    stopped = split.advance(apply_dpor)
                    if stopped is not None:
                        break
                    split.fill()
                    continue
                count(result, result.runs, result.pruned)
                stop = coord.apply(result)
                if stop is not None:
                    stopped = stop
                    break
            if progress is not None:
                elapsed = time.perf_counter() - state.start
                if elapsed >= next_progress:
                    progress(state.runs, len(coord.best), elapsed)
                    next_progress = elapsed + 0.5
    except KeyboardInterrupt:
        stopped = ExitReason.INTERRUPTED
    finally:
        for future in coord.futures:
            future.cancel()
    state.tasks = coord.next_apply
    state.retried = coord.retried
    state.uncounted = coord.uncounted
    # The kept finding of each origin, replayed here for its trace (workers return IDs).
    # Also after Ctrl-C: the findings of the tasks that finished are reported, as one process
    # reports those of the executions that finished (each replay is one execution). A second
    # Ctrl-C stops the replays; the findings replayed until then are kept.
    replays = 0
    try:
        for origin, (_, schedule_id) in sorted(coord.best.items(), key=lambda kv: kv[1][0]):
            finding = coord.objects.get(origin)
            if finding is None:
                finding = _replay(state, schedule_id, origin)
                replays += 1
            state.findings.append(finding)
            state.counts.append(coord.counts[origin])
            state.by_origin[origin] = len(state.findings) - 1
    except KeyboardInterrupt:
        stopped = ExitReason.INTERRUPTED
    # Every execution counts: those of results found stale and the replays of kept findings.
    state.executions[Phase.EXPLORE] = executions + replays
    cut = covered = False  # (random and pct sample: they never cover the space)
    if split is not None:
        cut = split.cut
        covered = split.finished or split.nothing_left()
    elif dfs is not None:
        cut = dfs.cut
        covered = dfs.finished or not dfs.order
    if stopped is ExitReason.FIRST_FINDING and not coord.open_tail and covered:
        stopped = None  # that was the last part of the space anyway
    if stopped is not None:
        state.stopped = stopped
    elif spec.kind in ("random", "pct"):
        state.stopped = ExitReason.MAX_SCHEDULES  # every chunk ran: the budget is spent
    else:
        state.exhausted = not cut
        if state.exhausted:
            state.stopped = ExitReason.EXHAUSTED
        elif spec.kind == "dfs":
            state.stopped = ExitReason.PREEMPTION_BOUND
        else:
            state.stopped = ExitReason.PREEMPTION_BOUND_PARTIAL
    return coord.executor


def _replay(state: object, schedule_id: str, origin: tuple[object, ...]) -> Finding:
    from ._explorer import _Exploring

    assert isinstance(state, _Exploring)
    _, outcome = state.run(ScheduleChooser(decode(schedule_id)))
    for finding in outcome.raw_findings:
        if finding.origin == origin:
            return outcome.finalise(finding)
    raise NondeterministicScenario(
        f"the scenario is not deterministic: schedule {schedule_id}, which failed in a worker "
        f"process, does not show the same finding ({origin[0]}) when replayed here. Each "
        "execution must build fresh state in the factory and must not depend on time, "
        "randomness, hash order or state of the process"
    )
