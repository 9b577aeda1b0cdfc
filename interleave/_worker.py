"""The workers of a parallel exploration (``_engine/_parallel.py``): the pool on the
coordinator's side (:class:`Pool`), and what a worker process runs, one task at a time
(:func:`run_task`).

The worker imports the scenario by reference (``module:qualname``, or ``file.py:name`` as the
command line loads it), sets up what ``explore()`` sets up around executions (the watchdog, the
project, the patches, the threading swap), runs the task's subtree under the task strategy
(``_engine/_tasks.py``) until it is covered or the task's budget is spent, and returns plain,
picklable data: counts, the first schedule ID of each finding's origin with its place in the
sequential order, the reversals planted above the task's floor, and the unexplored frontier.
"""

from __future__ import annotations

import _thread
import ast
import contextlib
import importlib
import importlib.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

from ._core import _watchdog
from ._engine._explorer import _Exploring
from ._engine._parallel import TaskResult, TaskSpec, explore_parallel
from ._engine._settings import ExitReason, ExploreSettings
from ._engine._strategies import PctStrategy, RandomStrategy, Strategy
from ._engine._tasks import DfsTask, DfsTaskStrategy, DporTask, DporTaskStrategy, Frontier
from ._execution import contexts, detectors_for, exploration_scope, watchdog_limit
from ._health import _user_stacklevel
from ._scenario import bound_name, builder, factory_name
from .errors import BlockedOutsideScheduler, InterleaveWarning, InvalidArgument
from .instrument._project import scenario_project

__all__ = ["InlineExecutor", "Pool", "resolve_target", "run_task"]


#: Scenarios of explorations whose tasks run in this process (:class:`InlineExecutor`), by
#: the reference their tasks carry: no import needed, closures work too.
_LOCAL: dict[str, Callable[[], object]] = {}
_MISSING = object()


class InlineExecutor(Executor):
    """An executor that runs each task at once, in this process: the parallel exploration's
    splitting and merging without processes (for tests, and to debug a scenario that fails
    only with workers)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def package_of(path: Path) -> tuple[Path, str] | None:
    """For a ``.py`` file inside a package (its folder has an ``__init__.py``): the folder to
    put on ``sys.path`` (the outermost package's parent) and the file's dotted module name, as
    pytest finds them; None for a file outside a package (or one in a folder that is no
    identifier)."""
    folder = path.parent
    if not (folder / "__init__.py").is_file():
        return None
    parts = [] if path.stem == "__init__" else [path.stem]
    while (folder / "__init__.py").is_file():
        if not folder.name.isidentifier():
            return None
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts)


def import_package_file(path: Path) -> ModuleType | None:
    """Import the file ``path`` by its dotted name when it is inside a package (so that its
    relative imports work), with the package's parent first on ``sys.path``; None for a file
    outside a package, or when that name is another file's (then load it by path)."""
    found = package_of(path)
    if found is None:
        return None
    root, dotted = found
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module(dotted)
    where = getattr(module, "__file__", None)
    if where is None or Path(where).resolve() != path:
        return None  # a module of that name was imported from elsewhere first
    return module


def resolve_target(target: str) -> Callable[[], object]:
    """The scenario factory ``target`` names: ``package.module:qualname`` or
    ``path/to/file.py:name`` (loaded once per process under a private module name)."""
    local = _LOCAL.get(target)
    if local is not None:
        return local
    module_part, _, qualname = target.rpartition(":")
    if not module_part or not qualname:
        raise InvalidArgument(f"{target!r} is not a scenario reference (module:qualname)")
    if module_part.endswith(".py"):
        path = Path(module_part).resolve()
        name = "_interleave_worker_" + "_".join(path.with_suffix("").parts[-3:])
        module = sys.modules.get(name) or import_package_file(path)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise InvalidArgument(f"cannot load {path} in a worker")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_part)
    value: object = module
    for part in qualname.split("."):
        found = getattr(value, part, _MISSING)
        if found is _MISSING:
            raise InvalidArgument(
                f"a worker process imported {module_part} but found no {qualname!r} in it: "
                "workers import the scenario factory by name, so it must be bound at the top "
                "level of the module when the module is imported (not inside "
                "`if __name__ == '__main__':` or a function)"
            )
        value = found
    if not callable(value):
        raise InvalidArgument(f"{target!r} is not callable")
    return value


class _TaskRun(_Exploring):
    """The explore phase of one task, remembering where each origin was first seen, and the
    executions (their indices in the task) that showed it."""

    def __init__(self, *args: object, key: Callable[[int], tuple[int, ...]]) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.key = key
        self.first: dict[tuple[object, ...], tuple[int, ...]] = {}
        self.shown: dict[tuple[object, ...], list[int]] = {}

    def keep(self, outcome: object) -> None:
        before = len(self.findings)
        super().keep(outcome)  # type: ignore[arg-type]
        index = self.runs + self.pruned - 1
        for finding in self.findings[before:]:
            self.first[finding.origin] = self.key(index)
        for raw in outcome.raw_findings:  # type: ignore[attr-defined]
            self.shown.setdefault(raw.origin, []).append(index)


def run_task(
    spec: TaskSpec, seq: int, task: object, budget: int, here: bool = False, attempt: int = 0
) -> TaskResult:
    """Run one task (see the module docs); the budget counts executions. ``here``: the
    caller is in this process, so the findings themselves come back too. ``attempt``: how
    many times the coordinator submitted this task before (only to make each submission
    distinct)."""
    scenario = resolve_target(spec.target)
    settings = spec.settings.replace(max_schedules=budget, minimise=False)
    strategy: Strategy
    key: Callable[[int], tuple[int, ...]]
    if spec.kind == "dfs":
        dfs = DfsTaskStrategy(task if isinstance(task, DfsTask) else None, spec.bound)
        strategy = dfs
        key = lambda _: dfs.last_key  # noqa: E731
    elif spec.kind == "dpor":
        strategy = DporTaskStrategy(task if isinstance(task, DporTask) else None, spec.bound)
        key = lambda n: (seq, n)  # noqa: E731
    else:
        assert isinstance(task, int)
        strategy = (
            RandomStrategy(spec.seed, task)
            if spec.kind == "random"
            else PctStrategy(spec.seed, settings.depth, task)
        )
        key = lambda n: (seq, n)  # noqa: E731
    options = settings.execution
    project = scenario_project(scenario, settings.project)
    start = time.perf_counter()
    with contextlib.ExitStack() as scope:
        watch = _task_scope(scope, watchdog_limit(settings.watchdog), settings.patch_threading)
        run = _TaskRun(
            builder(scenario, options),
            settings,
            detectors_for(settings.detect_data_races),
            contexts(watch, project, options),
            lambda: False,
            key=key,
        )
        if spec.seconds is not None:
            run.deadline = time.monotonic() + spec.seconds
        run.explore(strategy, None)
    frontier = None
    planted = []
    if isinstance(strategy, DporTaskStrategy):
        planted = strategy.planted
        if run.stopped is ExitReason.MAX_SCHEDULES:
            frontier = Frontier(dpor=strategy.rest())
    elif run.stopped is ExitReason.MAX_SCHEDULES and isinstance(strategy, DfsTaskStrategy):
        frontier = strategy.frontier()
    return TaskResult(
        seq=seq,
        executions=run.runs + run.pruned,
        runs=run.runs,
        pruned=run.pruned,
        steps=run.steps,
        max_depth=run.max_depth,
        threads=run.threads,
        found=[
            (run.first[f.origin], f.origin, f.schedule_id, count)
            for f, count in zip(run.findings, run.counts, strict=True)
        ],
        frontier=frontier,
        shown=run.shown if spec.kind == "dpor" else {},
        cut=strategy.cut,
        stopped=run.stopped,
        name=run.name,
        seconds=time.perf_counter() - start,
        findings={f.origin: f for f in run.findings} if here else None,
        redone=0 if here else _dask_redone(),
        planted=planted,
    )


def _dask_redone() -> int:
    """In a Dask task: how many workers died running this task before (Dask's scheduler runs
    it again by itself, and counts those deaths as the task's ``suspicious``), -1 when the
    scheduler cannot be asked; else 0."""
    if "distributed" not in sys.modules:
        return 0  # not in a Dask worker (distributed is an optional extra)
    import distributed

    try:
        key = distributed.get_worker().get_current_task()
    except ValueError:
        return 0  # not in a Dask task

    # Local, so that it travels by value: the scheduler need not import interleave.
    def suspicious(key: object, dask_scheduler: Any = None) -> int:
        task = dask_scheduler.tasks.get(key)
        return 0 if task is None else int(task.suspicious)

    try:
        client: Any = distributed.get_client()  # run_on_scheduler is not annotated
        return int(client.run_on_scheduler(suspicious, key))
    except Exception:
        # A scheduler that cannot be reached or refuses the call: the count is a statistic,
        # not worth failing the task over, but the exploration says that it is unknown
        # (Pool.explore).
        return -1


#: Is this a process of interleave's own pool (set by its initializer, :func:`_init_worker`)?
#: Only there are the watchdog and the module-wide patches kept from one task to the next
#: (in ``_kept``: the settings they were entered for, their exit stack and the guard; see
#: :func:`_task_scope`).
_kept_in_pool = False
_kept: tuple[tuple[float | None, bool], contextlib.ExitStack, _watchdog.Guard | None] | None = None


#: The main thread's ident (signals are handled there), read before any patch.
_MAIN_IDENT = threading.main_thread().ident


def _init_worker() -> None:
    global _kept_in_pool
    # Ctrl-C is the coordinator's: it stops handing out tasks and shuts the pool down. The
    # process started with SIGINT blocked (see _Pool): one sent while it was importing is
    # discarded here, instead of a KeyboardInterrupt traceback from the middle of an import.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _kept_in_pool = True
    # A coordinator killed outright (SIGTERM, SIGKILL, the OOM killer) shuts nothing down:
    # its workers, ignoring SIGINT, would wait for tasks for ever. Each one ends with it.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_with, args=(parent.sentinel,), name="interleave-parent-watch", daemon=True
        ).start()


def _exit_with(sentinel: int) -> None:
    """End this worker process when the process whose ``sentinel`` this is has ended."""
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _task_scope(
    scope: contextlib.ExitStack, limit: float | None, patch_threading: bool
) -> _watchdog.Guard | None:
    """Enter what surrounds a task's executions (the watchdog, the module-wide patches) and
    return the watchdog's guard.

    Starting and joining the watchdog's thread and installing the patches took about 6% of a
    worker's time with tasks of 200 executions: a process of our own pool, which runs nothing
    but tasks, keeps them for its life (they are the same for every task of the exploration
    the pool serves; a guard that fired is replaced). Any other process gets them per task,
    left as found.
    """
    if not _kept_in_pool:
        watch = scope.enter_context(_watchdog.guard(limit))
        scope.enter_context(exploration_scope(patch_threading))
        return watch
    global _kept
    key = (limit, patch_threading)
    if _kept is None or _kept[0] != key or (_kept[2] is not None and _kept[2].message is not None):
        if _kept is not None:
            _kept[1].close()
            _kept = None
        stack = contextlib.ExitStack()
        guard = stack.enter_context(_watchdog.guard(limit))
        stack.enter_context(exploration_scope(patch_threading))
        _kept = (key, stack, guard)
    guard = _kept[2]
    if guard is not None:
        # An interrupt that lands between executions (sent just as one ended) is what the
        # guard's own block turns into BlockedOutsideScheduler; here the task's block does.
        scope.enter_context(_between_executions(guard))
    return guard


@contextlib.contextmanager
def _between_executions(guard: _watchdog.Guard) -> Iterator[None]:
    try:
        yield
    except _watchdog.WatchdogFired:
        raise BlockedOutsideScheduler(guard.message or "the watchdog fired") from None


def _process_pool(workers: int) -> Executor:
    # spawn, not fork: a forked child inherits the parent's threads' locks (a logging or
    # import lock held at fork time deadlocks it) and interleave's installed patches.
    with _sigint_blocked():
        return _Pool(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
        )


class _Pool(ProcessPoolExecutor):
    """The process pool of ``workers=N``: its processes (started by ``submit``) and the
    resource tracker (started with the pool) begin with SIGINT blocked.

    A Ctrl-C reaches the whole process group. A worker still importing interleave when it
    arrives printed a ``KeyboardInterrupt`` traceback, before its initializer could ignore
    the signal; a blocked signal waits instead, and the initializer discards it. The mask
    is the calling thread's, blocked only while ``submit`` runs: a SIGINT sent meanwhile
    reaches this process as soon as ``submit`` returns.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with _sigint_blocked():
            return super().submit(fn, *args, **kwargs)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread (the main one) while the block runs; processes started
    meanwhile inherit the mask."""
    # (By ident: the threading patch may have swapped threading.current_thread.)
    if not hasattr(signal, "pthread_sigmask") or _thread.get_ident() != _MAIN_IDENT:
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class Pool:
    """The coordinator's side of ``explore(workers=N)`` / ``explore(executor=E)``: checks that
    workers can import the scenario, makes the process pool on first use, shuts it down."""

    def __init__(
        self,
        scenario: Callable[[], object],
        target: str | None,
        settings: ExploreSettings,
        executor: Executor | None,
    ) -> None:
        self.wanted = executor is not None or settings.workers > 1
        self.executor = executor
        self.own: Executor | None = None
        # Set by the caller to the explorer's three-argument form (see _progress.reporter).
        self.progress: Callable[[int, int, float], None] | None = None
        self.settings = settings
        if executor is not None and not isinstance(executor, Executor):
            raise InvalidArgument(
                f"executor={executor!r} must be a concurrent.futures.Executor (a "
                "ProcessPoolExecutor, or a Dask cluster's Client(...).get_executor()) or None"
            )
        if executor is not None and settings.workers > 1:
            raise InvalidArgument(
                f"workers={settings.workers} and executor= were both given: workers= makes a "
                "process pool of its own, and an executor runs the tasks on its own workers "
                "(their number is the parallelism); give one of them"
            )
        if not self.wanted:
            return
        if settings.preemption_bound == "iterative":
            raise InvalidArgument(
                "preemption_bound='iterative' does not split over workers: use a fixed "
                "preemption_bound=N, or no executor/workers"
            )
        if isinstance(executor, InlineExecutor):
            self.target = f"local:{len(_LOCAL)}"
            _LOCAL[self.target] = scenario
        else:
            self.target = _importable(scenario, target)
        bound = settings.preemption_bound
        self.spec = TaskSpec(
            self.target,
            settings,
            settings.strategy,
            bound if isinstance(bound, int) else None,
            settings.seed or 0,
        )

    def explore(self, state: _Exploring) -> None:
        """The explore phase on the workers."""
        executor = self.executor
        renew: Callable[[], Executor]
        fell_back = False
        if executor is None:
            _check_main_importable()
            workers = self.settings.workers
            self.own = executor = _process_pool(workers)
            renew = lambda: _process_pool(workers)  # noqa: E731
        else:
            # The caller's executor broke (a ProcessPoolExecutor whose worker died refuses
            # every task from then on) and there is no other to make: the tasks it had and
            # the rest run here, in this process, and the caller is told.
            def renew() -> Executor:
                nonlocal fell_back
                fell_back = True
                return InlineExecutor()

        final = explore_parallel(
            state, self.spec, executor, run_task, renew=renew, progress=self.progress
        )
        if self.own is not None:
            self.own = final
        if fell_back:
            warnings.warn(
                InterleaveWarning(
                    f"executor={type(executor).__name__} broke during the exploration (a "
                    "worker process died, and such a pool refuses every task after that): the "
                    "tasks it had were run again, and the rest of the exploration ran, in this "
                    f"process (statistics.retried={state.retried}). The answer is not "
                    "affected; pass a new executor next time"
                ),
                stacklevel=_user_stacklevel(),
            )
        if state.uncounted:
            warnings.warn(
                InterleaveWarning(
                    f"statistics.retried may be too low: for {state.uncounted} task(s) the Dask "
                    "scheduler would not say how many times it ran the task again after a "
                    "worker died (the call that reads its count failed). "
                    "The answer is not affected: a task's executions are counted once, from "
                    "the run that returned"
                ),
                stacklevel=_user_stacklevel(),
            )

    def close(self) -> None:
        """Shut the pool down (if this exploration made it), waiting for its processes."""
        if self.wanted:
            _LOCAL.pop(self.target, None)
        if self.own is not None:
            self.own.shutdown(wait=True, cancel_futures=True)
            self.own = None


def _check_main_importable() -> None:
    """Spawned workers run the main module's file again (as ``__mp_main__``): a program read
    from standard input has none, and every worker would die at start; and an exploration
    started by the file's top-level code (no main guard) would start again in every worker."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None and not Path(path).exists():
        raise InvalidArgument(
            f"workers=: spawned worker processes start by running the main module again, and "
            f"this one ({path}) is not a file they can run (a program read from standard "
            "input?). Save the program to a file, or run with workers=1"
        )
    line = None if main is None or path is None else _unguarded_line(main.__dict__, path)
    if line is not None:
        raise InvalidArgument(
            f"workers=: spawned worker processes start by running the main module again "
            f"({path}), and this exploration is started by its top-level code (line {line}) "
            'outside `if __name__ == "__main__":`, so every worker would run it (and the '
            "rest of the file) again. Put the code that explores under "
            '`if __name__ == "__main__":`, or run with workers=1'
        )


def _unguarded_line(names: dict[str, Any], path: str) -> int | None:
    """The line of the main module's top-level code on the call stack, when it is not inside
    an ``if __name__ == "__main__":`` block (None when it is, or when that cannot be told)."""
    frame = sys._getframe(1)
    line = None
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals is names:
            line = frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    if line is None:
        return None
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and _is_main_test(node.test)
            and node.body[0].lineno <= line <= (node.body[-1].end_lineno or line)
        ):
            return None
    return line


def _is_main_test(test: ast.expr) -> bool:
    """Is ``test`` ``__name__ == "__main__"`` (either way round)?"""
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and len(test.comparators) == 1
    ):
        return False
    sides = (test.left, test.comparators[0])
    return any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides) and any(
        isinstance(x, ast.Constant) and x.value == "__main__" for x in sides
    )


def _importable(scenario: Callable[[], object], target: str | None) -> str:
    """The reference workers import ``scenario`` by, checked here first."""
    try:
        resolved = target is not None and resolve_target(target) is scenario
    except Exception:  # an unresolvable name: look for another below
        resolved = False
    if not resolved and (target is None or not target.rpartition(":")[0].endswith(".py")):
        # (The main module is left out: spawned workers run it as ``__mp_main__``, where
        # its ``if __name__ == "__main__":`` block does not run.)
        bound = bound_name(scenario, main=False)
        target = f"{bound[0]}:{bound[1]}" if bound is not None else target
    problem = None
    if target is None:
        problem = "it has no importable module:qualname name (a lambda, a local function)"
    elif target.rpartition(":")[0].endswith(".py"):
        # A file the command line loaded: workers load it again by path (loading it here
        # too would run it twice in this process).
        if not Path(target.rpartition(":")[0]).is_file():
            problem = f"{target!r} names no file"
    else:
        try:
            found = resolve_target(target)
        except Exception as exc:
            problem = f"importing {target!r} fails here ({type(exc).__name__}: {exc})"
        else:
            if found is not scenario and getattr(found, "__wrapped__", None) is not scenario:
                problem = f"{target!r} names another object than the scenario given"
    if problem is None:
        assert target is not None
        return target
    raise InvalidArgument(
        f"workers import the scenario factory by name, and {problem} (the factory "
        f"{factory_name(scenario)!r}). Define the factory at "
        "the top level of an importable module (or a file the command line loads), or run "
        "with workers=1"
    )
