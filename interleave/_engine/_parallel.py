"""The explore phase on several processes (``explore(workers=N)`` or ``executor=``).

The coordinator hands out *tasks* (``_tasks.py``: a subtree of the search with a budget of
executions) to a ``concurrent.futures.Executor`` and merges what they return. The answer does
not depend on timing or on the number of workers:

* Results are **applied in the order the tasks were made** (a result that arrives early waits
  for those before it), and tasks are made only while applying results, with budgets drawn
  from ``max_schedules`` at that moment. So the same tasks exist, in the same order, whatever
  finishes first; only the wall-clock time changes. (A timeout or Ctrl-C is the exception: it
  stops the run where it is, as it does in one process.)
* ``dfs``: a task's executions are those one process would run in that subtree, so the set of
  executions and their count are exactly the sequential ones. Each carries its place in the
  sequential order (its *ranks*), and of the executions that show the same bug the first in
  that order is kept: the same finding, with the same schedule ID, as one process finds.
* ``dpor``: the coordinator expands the top of the tree itself with sleep sets (one probe
  execution per node), then each node where it stops is a task that runs optimal DPOR below
  it from the node's sleep set (``_tasks.py`` says what changes for that to stay sound). The
  tasks cover every class once among the executions that are not sleep-set blocked; the
  blocked ones (``statistics.pruned``) are the price of splitting.
* ``random``/``pct``: the budget is cut into fixed chunks, chunk ``i`` seeded from the seed
  and ``i``.

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
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass, field

from .._core._findings import Finding
from .._core._ops import Operation
from .._core._replay import ScheduleChooser
from .._core._schedule import decode
from .._core._threads import SimThread
from .._core._views import StepView
from ..errors import InterleaveError, InternalError, NondeterministicScenario
from ._dpor import dependent
from ._settings import ExitReason, ExploreSettings
from ._tasks import DporTask, Frontier, lite

__all__ = [
    "FIRST_BUDGET",
    "RETRIES",
    "SPLIT_NODES",
    "TASK_BUDGET",
    "TaskResult",
    "TaskSpec",
    "explore_parallel",
]

#: Executions per task: small enough that a deep subtree is split soon, large enough that a
#: task's set-up (importing the scenario, the patches) and its pickling stay a small share.
TASK_BUDGET = 200
#: ``dpor``: the top of the tree is expanded level by level until it has this many nodes (or
#: :data:`SPLIT_DEPTH` levels). Each level adds redundant executions (classes reached through
#: several top nodes), so as few as keep a few workers busy. A constant, not a multiple of
#: the workers: the tasks, hence the answer, must not depend on how many workers run them.
SPLIT_NODES = 16
SPLIT_DEPTH = 12
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
    left unexplored (``dfs``), and why it stopped."""

    seq: int
    executions: int
    runs: int
    pruned: int
    steps: int
    max_depth: int
    threads: int
    found: list[tuple[tuple[int, ...], tuple[object, ...], str, int]]
    frontier: Frontier | None
    cut: bool
    stopped: ExitReason
    name: str | None
    seconds: float = 0.0
    #: The kept findings themselves, when the task ran in the coordinator's process (no
    #: pickling): they need no replay for their traces.
    findings: dict[tuple[object, ...], Finding] | None = None
    #: Times the executor itself ran this task again because its worker died (Dask's
    #: scheduler does, up to its ``allowed-failures``): the future shows none of them.
    redone: int = 0


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
    committed: int = 0
    limited: bool = False
    retried: int = 0
    open_tail: bool = False
    waiting: list[object] = field(default_factory=list)
    best: dict[tuple[object, ...], tuple[tuple[int, ...], str]] = field(default_factory=dict)
    counts: dict[tuple[object, ...], int] = field(default_factory=dict)
    objects: dict[tuple[object, ...], Finding] = field(default_factory=dict)

    # ------------------------------------------------------------------ making tasks
    def make(self, payload: object, whole: bool = False) -> None:
        """A task for ``payload``; ``whole``: it runs to its end (up to ``max_schedules``,
        applied in order), not a budget's worth."""
        budget = (
            self.max_schedules if whole else min(self.budget, self.max_schedules - self.committed)
        )
        if budget <= 0:
            # max_schedules is spoken for by the tasks out: this one waits for what they
            # leave unused (a task that covers its subtree early gives the rest back).
            self.waiting.append(payload)
            return
        seq = self.next_seq
        self.next_seq += 1
        self.tasks[seq] = (payload, budget)
        if not whole:
            self.committed += budget
        self.submit(seq)

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
    def apply(self, result: TaskResult) -> tuple[bool, ExitReason | None]:
        """Merge ``result``; returns (a bound cut something, the reason to stop, if any)."""
        _, budget = self.tasks.pop(result.seq)
        found = result.found
        limit: ExitReason | None = None
        if budget == self.max_schedules and self.spec.kind == "dpor":
            # A whole subtree: max_schedules counts the executions applied so far, in order.
            room = self.max_schedules - self.committed
            if result.executions > room or (
                result.stopped is ExitReason.MAX_SCHEDULES and result.executions >= room
            ):
                found = [f for f in found if f[0][-1] < room]
                self.limited = True
                limit = ExitReason.MAX_SCHEDULES
            self.committed += min(result.executions, room)
        else:
            self.committed += result.executions - budget
        for key, origin, schedule_id, count in found:
            best = self.best.get(origin)
            if best is None or key < best[0]:
                self.best[origin] = (key, schedule_id)
                made = None if result.findings is None else result.findings.get(origin)
                if made is None:
                    self.objects.pop(origin, None)
                else:
                    self.objects[origin] = made
            self.counts[origin] = self.counts.get(origin, 0) + count
        cut = result.cut
        if result.stopped in (ExitReason.STEP_LIMIT, ExitReason.TIMEOUT):
            return cut, result.stopped
        if self.spec.settings.stop_on_first and found:
            # The first finding in the order results are applied: the run ends here. (Its
            # task may have covered its subtree: then the space is covered when nothing else
            # is left.)
            self.open_tail = result.stopped is ExitReason.FIRST_FINDING
            return cut, ExitReason.FIRST_FINDING
        if limit is not None:
            return cut, limit
        if result.frontier is not None:
            for task in result.frontier.dfs:
                self.make(task)
        while self.waiting and self.committed < self.max_schedules:
            self.make(self.waiting.pop(0))
        return cut, None

    def retry(self, seq: int, error: BaseException) -> None:
        self.attempts[seq] = self.attempts.get(seq, 0) + 1
        if self.attempts[seq] > RETRIES:
            raise InternalError(
                f"a task of the parallel exploration failed {RETRIES + 1} times: its worker "
                f"died each time ({type(error).__name__}: {error})"
            ) from error
        # A KilledWorker: Dask ran the task again allowed_failures times before giving up.
        self.retried += 1 + _redone_before(error)
        self.submit(seq)


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
    from ._explorer import Phase, _Exploring

    assert isinstance(state, _Exploring)
    settings = state.settings
    budget = TASK_BUDGET if budget is None else budget
    coord = _Coordinator(
        spec, executor, run_task, renew, settings.max_schedules, budget, state.deadline
    )
    probes = 0
    if spec.kind in ("random", "pct"):
        chunks = -(-settings.max_schedules // budget)
        for index in range(chunks):
            coord.make(index)
    else:
        # The first task runs here, before any process is asked: most explorations are
        # small, and one that this covers is exactly the one-process exploration.
        first = min(FIRST_BUDGET, settings.max_schedules)
        coord.tasks[0] = (None, first)
        coord.next_seq, coord.committed = 1, first
        result = run_task(coord.spec_now(), 0, None, first, True, 0)
        if spec.kind == "dpor" and result.stopped is ExitReason.MAX_SCHEDULES:
            # Too big for one process: split the tree instead. (These executions were spent
            # for nothing but the knowing; they are counted.)
            coord.tasks.clear()
            coord.next_seq = coord.committed = 0
            probes = result.executions
            split, blocked = _split_dpor(state, coord)
            probes += split
            state.pruned += blocked
        else:
            coord.results[0] = result
    stopped: ExitReason | None = None
    cut = False
    next_progress = 1.0
    executions = 0
    try:
        while coord.next_apply < coord.next_seq:
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
            while coord.next_apply in coord.results:
                result = coord.results.pop(coord.next_apply)
                coord.next_apply += 1
                executions += result.executions
                state.runs += result.runs
                state.pruned += result.pruned
                state.steps += result.steps
                state.max_depth = max(state.max_depth, result.max_depth)
                state.threads = max(state.threads, result.threads)
                if state.name is None:
                    state.name = result.name
                was_cut, stop = coord.apply(result)
                cut |= was_cut
                if stop is not None:
                    stopped = stop
                    break
            if stopped is not None:
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
    # The kept finding of each origin, replayed here for its trace (workers return IDs).
    replays = 0
    if stopped is not ExitReason.INTERRUPTED:
        for origin, (_, schedule_id) in sorted(coord.best.items(), key=lambda kv: kv[1][0]):
            finding = coord.objects.get(origin)
            if finding is None:
                finding = _replay(state, schedule_id, origin)
                replays += 1
            state.findings.append(finding)
            state.counts.append(coord.counts[origin])
            state.by_origin[origin] = len(state.findings) - 1
    # Every execution counts: the probes of the split and the replays of kept findings too.
    state.executions[Phase.EXPLORE] = executions + probes + replays
    if (
        stopped is ExitReason.FIRST_FINDING
        and not coord.open_tail
        and coord.next_apply == coord.next_seq
        and not coord.limited
        and not coord.waiting
    ):
        stopped = None  # that was the last part of the space anyway
    if stopped is not None:
        state.stopped = stopped
    elif coord.limited or coord.waiting:
        state.stopped = ExitReason.MAX_SCHEDULES
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


_Top = tuple[tuple[int, ...], tuple[tuple[int, ...], ...], dict[int, Operation], "_Probe"]


class _Probe:
    """A chooser that follows ``path``, notes the threads enabled at its end with the
    operation each would run there, then goes on by the default policy."""

    __slots__ = ("enabled", "ops", "path", "seen")

    def __init__(self, path: tuple[int, ...]) -> None:
        self.path = path
        self.seen: list[tuple[int, ...]] = []
        self.enabled: tuple[int, ...] | None = None
        self.ops: dict[int, Operation] = {}

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        depth = view.step_count
        tids = tuple(t.tid for t in enabled)
        if depth < len(self.path):
            self.seen.append(tids)
            for thread in enabled:
                if thread.tid == self.path[depth]:
                    return thread
            raise NondeterministicScenario(
                f"the scenario is not deterministic: at step {depth}, after the same schedule "
                f"prefix, thread #{self.path[depth]} is not enabled as it was before"
            )
        if depth == len(self.path):
            self.enabled = tids
            resolved = view.resolved
            self.ops = {t.tid: lite(resolved(t.pending, t)) for t in enabled}  # type: ignore[arg-type]
        return view.default_choice(enabled)


def _split_dpor(state: object, coord: _Coordinator) -> tuple[int, int]:
    """Expand the top of the tree with sleep sets and make a task of each node where the
    expansion stops (see the module docs). Returns the probe executions and the nodes found
    sleep-set blocked (nothing to explore from them)."""
    from ._explorer import _Exploring

    assert isinstance(state, _Exploring)

    def probe(path: tuple[int, ...]) -> _Probe:
        chooser = _Probe(path)
        state.run(chooser)
        return chooser

    level: list[_Top] = [((), (), {}, probe(()))]
    probes, blocked = 1, 0
    for _ in range(SPLIT_DEPTH):
        if len(level) >= SPLIT_NODES or all(not node[3].enabled for node in level):
            break
        below: list[_Top] = []
        for path, above, sleep, seen in level:
            if not seen.enabled:
                below.append((path, above, sleep, seen))  # an execution's end: a leaf
                continue
            ops = seen.ops
            explored: dict[int, Operation] = dict(sleep)
            for tid in seen.enabled:
                if tid in sleep:
                    continue
                # Asleep below: what was asleep here or explored from here before, if it
                # commutes with this step (as _dpor's new nodes derive their sleep sets).
                child_sleep = {
                    q: op for q, op in explored.items() if q != tid and not dependent(op, ops[tid])
                }
                explored[tid] = ops[tid]
                child = probe((*path, tid))
                probes += 1
                if child.enabled and all(t in child_sleep for t in child.enabled):
                    blocked += 1  # every continuation is covered by another subtree
                    continue
                below.append(((*path, tid), (*above, seen.enabled), child_sleep, child))
        level = below
    for path, above, sleep, _ in level:
        coord.make(DporTask(path, above, sleep), whole=True)
    return probes, blocked
